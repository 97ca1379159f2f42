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
            out += "\"n\":\(JSONText.quoted(reading.pointID))"
            if let unit = reading.unit { out += ",\"u\":\(JSONText.quoted(unit))" }
            var quality: [String] = []
            switch reading.value {
            case .number(let v) where v.isFinite: out += ",\"v\":\(JSONText.number(v))"
            case .number: out += ",\"vs\":\"non-finite\""; quality.append("invalid")
            case .text(let s): out += ",\"vs\":\(JSONText.quoted(s))"
            case .invalid(let raw): out += ",\"vs\":\(JSONText.quoted(raw))"; quality.append("invalid")
            }
            let offsetMs = reading.offset.milliseconds
            if offsetMs != 0 { out += ",\"t\":\(JSONText.seconds(milliseconds: offsetMs))" }
            quality.append("backfill")
            out += ",\"q\":\"\(quality.joined(separator: ","))\"}"
        }
        return out + "]"
    }
}
