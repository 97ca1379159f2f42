// The v1 data message, for polls a version before contract v2 left in the buffer: they were committed unsigned and
// unchained, and are published once in the form they would have had (docs/evidence.md, "Upgrading from v1").
extension SenMLEncoder {
    /// v1: no `poll`, `prev`, `kid` or `sig`; every record labelled `backfill` (the poll waited out an upgrade).
    public func encodeV1(_ stored: StoredPoll) -> String {
        let poll = stored.poll
        let usesSecondary = poll.readings.contains { $0.unit.map(SenMLUnits.secondary.contains) ?? false }
        var base = "\"bn\":\(JSONText.quoted(baseName(device: poll.deviceID)))"
        base += ",\"bt\":\(JSONText.seconds(milliseconds: poll.takenAt.milliseconds))"
        if usesSecondary { base += ",\"bver\":\(SenMLUnits.versionWithSecondaryUnits)" }
        base += ",\"seq\":\(stored.seq)"
        if poll.readings.isEmpty {
            return "[{\(base)}]"
        }
        var out = "["
        for (index, reading) in poll.readings.enumerated() {
            out += index == 0 ? "{\(base)," : ",{"
            let (members, quality) = Self.record(reading)
            out += members + Self.quality(quality + ["backfill"]) + "}"
        }
        return out + "]"
    }
}
