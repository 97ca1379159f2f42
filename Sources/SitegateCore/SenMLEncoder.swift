/// Builds the SenML pack (RFC 8428) for one poll: the payload contract in docs/payload.md (v2), as a draft that
/// `MessageSealer` completes with `seq`, `prev`, `kid` and `sig` when the poll is committed.
public struct SenMLEncoder: Sendable {
    public var siteID: String
    public var gatewayID: String

    /// The name of the one record of a poll without values; point ids start with a letter, so it cannot collide.
    public static let pollRecordName = "_poll"

    public init(siteID: String, gatewayID: String) {
        self.siteID = siteID
        self.gatewayID = gatewayID
    }

    public func baseName(device: String) -> String {
        "urn:dev:gia:\(siteID):\(gatewayID):\(device):"
    }

    public func draft(_ poll: Poll) -> MessageDraft {
        let usesSecondary =
            poll.readings.contains { $0.unit.map(SenMLUnits.secondary.contains) ?? false }
            || poll.failures.contains { $0.unit.map(SenMLUnits.secondary.contains) ?? false }
        var head = "[{\"bn\":\(JSONText.quoted(baseName(device: poll.deviceID)))"
        head += ",\"bt\":\(JSONText.seconds(milliseconds: poll.takenAt.milliseconds))"
        if usesSecondary { head += ",\"bver\":\(SenMLUnits.versionWithSecondaryUnits)" }
        let clock = poll.clockUnsynchronised ? ["clock"] : []

        // Each record's members; the first record continues the base fields.
        var records: [String] = []
        records.reserveCapacity(poll.readings.count + poll.failures.count)
        // A failed poll is one `_poll` record, whatever else it carries.
        for reading in poll.failure == nil ? poll.readings : [] {
            let (members, quality) = Self.record(reading)
            records.append(members + Self.quality(quality + clock))
        }
        for failed in poll.failure == nil ? poll.failures : [] {
            var r = "\"n\":\(JSONText.quoted(failed.pointID))"
            if let unit = failed.unit { r += ",\"u\":\(JSONText.quoted(unit))" }
            records.append(r + ",\"vs\":\"\(failed.reason)\"" + Self.quality(["failed"] + clock))
        }
        if records.isEmpty {
            // Nothing read: one record that says why.
            let why = poll.failure.map { "\($0)" } ?? poll.outcome.rawValue
            records.append("\"n\":\"\(Self.pollRecordName)\",\"vs\":\"\(why)\"" + Self.quality(["failed"] + clock))
        }
        let body = ",\"poll\":\"\(poll.outcome.rawValue)\"," + records.joined(separator: "},{")
        return MessageDraft(
            head: head, body: body, form: .pack, destination: .data(device: poll.deviceID), time: poll.takenAt,
            tick: poll.tick, outcome: poll.outcome)
    }

    /// One reading's record members, up to its quality labels (which the caller completes and writes).
    static func record(_ reading: Reading) -> (members: String, quality: [String]) {
        var r = "\"n\":\(JSONText.quoted(reading.pointID))"
        if let unit = reading.unit { r += ",\"u\":\(JSONText.quoted(unit))" }
        var quality: [String] = []
        switch reading.value {
        case .number(let v) where v.isFinite: r += ",\"v\":\(JSONText.number(v))"
        case .number: r += ",\"vs\":\"non-finite\""; quality.append("invalid")
        case .text(let s): r += ",\"vs\":\(JSONText.quoted(s))"
        case .invalid(let raw): r += ",\"vs\":\(JSONText.quoted(raw))"; quality.append("invalid")
        }
        let offsetMs = reading.offset.milliseconds
        if offsetMs != 0 { r += ",\"t\":\(JSONText.seconds(milliseconds: offsetMs))" }
        return (r, quality)
    }

    static func quality(_ labels: [String]) -> String {
        labels.isEmpty ? "" : ",\"q\":\"\(labels.joined(separator: ","))\""
    }
}
