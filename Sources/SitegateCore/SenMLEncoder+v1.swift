// TEMPORARY: the v1 encoder, until the outbox stores sealed bytes (removed in the same series).
extension SenMLEncoder {
    /// - Parameter backfill: the poll waited in the buffer across an outage or restart; every record says so.
    public func encode(_ stored: StoredPoll, backfill: Bool) -> String {
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
            if backfill { quality.append("backfill") }
            if !quality.isEmpty { out += ",\"q\":\"\(quality.joined(separator: ","))\"" }
            out += "}"
        }
        return out + "]"
    }
}
