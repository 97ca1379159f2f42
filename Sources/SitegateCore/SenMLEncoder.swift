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

    /// The poll's pack up to the chain members (`head`) and after them (`body`), written straight into bytes: this
    /// runs for every poll, inside the buffer's transaction.
    public func draft(_ poll: Poll) -> MessageDraft {
        let usesSecondary =
            Self.anySecondary(poll.readings.lazy.map(\.unit)) || Self.anySecondary(poll.failures.lazy.map(\.unit))
        var head: [UInt8] = []
        head.reserveCapacity(64 + siteID.utf8.count + gatewayID.utf8.count + poll.deviceID.utf8.count)
        head.appendLiteral("[{\"bn\":\"urn:dev:gia:")
        head.appendJSONStringContent(siteID)
        head.append(UInt8(ascii: ":"))
        head.appendJSONStringContent(gatewayID)
        head.append(UInt8(ascii: ":"))
        head.appendJSONStringContent(poll.deviceID)
        head.appendLiteral(":\",\"bt\":")
        head.appendSeconds(milliseconds: poll.takenAt.milliseconds)
        if usesSecondary {
            head.appendLiteral(",\"bver\":")
            head.appendDecimal(Int64(SenMLUnits.versionWithSecondaryUnits))
        }

        // Each record's members, records separated by `},{`; the first record continues the base fields.
        var body: [UInt8] = []
        body.reserveCapacity(32 + 48 * (poll.readings.count + poll.failures.count))
        body.appendLiteral(",\"poll\":\"")
        body.appendUTF8(poll.outcome.rawValue)
        body.appendLiteral("\",")
        var records = 0
        func nextRecord() {
            if records > 0 { body.appendLiteral("},{") }
            records += 1
        }
        let clock = poll.clockUnsynchronised
        // A failed poll is one `_poll` record, whatever else it carries.
        if poll.failure == nil {
            for reading in poll.readings {
                nextRecord()
                let invalid = Self.appendRecord(reading, to: &body)
                Self.appendQuality(failed: false, invalid: invalid, clock: clock, to: &body)
            }
            for failed in poll.failures {
                nextRecord()
                body.appendLiteral("\"n\":")
                body.appendJSONString(failed.pointID)
                if let unit = failed.unit {
                    body.appendLiteral(",\"u\":")
                    body.appendJSONString(unit)
                }
                body.appendLiteral(",\"vs\":\"")
                body.appendUTF8(failed.reason.description)
                body.append(UInt8(ascii: "\""))
                Self.appendQuality(failed: true, invalid: false, clock: clock, to: &body)
            }
        }
        if records == 0 {
            // Nothing read: one record that says why.
            body.appendLiteral("\"n\":\"")
            body.appendUTF8(Self.pollRecordName)
            body.appendLiteral("\",\"vs\":\"")
            body.appendUTF8(poll.failure.map { $0.description } ?? poll.outcome.rawValue)
            body.append(UInt8(ascii: "\""))
            Self.appendQuality(failed: true, invalid: false, clock: clock, to: &body)
        }
        return MessageDraft(
            headBytes: head, bodyBytes: body, form: .pack, destination: .data(device: poll.deviceID),
            time: poll.takenAt, tick: poll.tick, outcome: poll.outcome)
    }

    /// Whether any of `units` is a secondary unit (RFC 8798). A poll's points mostly share a few units: each unit
    /// is looked up in the set only when it differs from the one before (comparing two short strings is cheaper
    /// than hashing one).
    static func anySecondary<S: Sequence>(_ units: S) -> Bool where S.Element == String? {
        var last: String?
        for case let unit? in units where unit != last {
            if SenMLUnits.secondary.contains(unit) { return true }
            last = unit
        }
        return false
    }

    /// One reading's record members, up to its quality labels (which the caller completes and writes).
    static func record(_ reading: Reading) -> (members: String, quality: [String]) {
        var bytes: [UInt8] = []
        let invalid = appendRecord(reading, to: &bytes)
        return (String(decoding: bytes, as: UTF8.self), invalid ? ["invalid"] : [])
    }

    /// Appends one reading's record members, up to its quality labels; true when the value is labelled `invalid`.
    static func appendRecord(_ reading: Reading, to r: inout [UInt8]) -> Bool {
        r.appendLiteral("\"n\":")
        r.appendJSONString(reading.pointID)
        if let unit = reading.unit {
            r.appendLiteral(",\"u\":")
            r.appendJSONString(unit)
        }
        var invalid = false
        switch reading.value {
        case .number(let v) where v.isFinite:
            r.appendLiteral(",\"v\":")
            r.appendJSONNumber(v)
        case .number:
            r.appendLiteral(",\"vs\":\"non-finite\"")
            invalid = true
        case .text(let s):
            r.appendLiteral(",\"vs\":")
            r.appendJSONString(s)
        case .invalid(let raw):
            r.appendLiteral(",\"vs\":")
            r.appendJSONString(raw)
            invalid = true
        }
        let offsetMs = reading.offset.milliseconds
        if offsetMs != 0 {
            r.appendLiteral(",\"t\":")
            r.appendSeconds(milliseconds: offsetMs)
        }
        return invalid
    }

    /// The `q` member: `failed` or `invalid`, then `clock`; nothing when there is no label.
    static func appendQuality(failed: Bool, invalid: Bool, clock: Bool, to r: inout [UInt8]) {
        guard failed || invalid || clock else { return }
        r.appendLiteral(",\"q\":\"")
        if failed {
            r.appendLiteral("failed")
        } else if invalid {
            r.appendLiteral("invalid")
        }
        if clock { r.appendLiteral(failed || invalid ? ",clock" : "clock") }
        r.append(UInt8(ascii: "\""))
    }

    static func quality(_ labels: [String]) -> String {
        labels.isEmpty ? "" : ",\"q\":\"\(labels.joined(separator: ","))\""
    }
}
