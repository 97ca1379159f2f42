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
    /// runs for every poll, inside the buffer's transaction. Each part is written into one buffer sized from an upper
    /// bound first (`ByteWriter`), and the readings are read where they lie in the poll, not copied one by one.
    public func draft(_ poll: Poll) -> MessageDraft {
        let usesSecondary =
            Self.anySecondary(poll.readings.lazy.map(\.unit)) || Self.anySecondary(poll.failures.lazy.map(\.unit))
        let names = siteID.utf8.count + gatewayID.utf8.count + poll.deviceID.utf8.count
        let head = [UInt8](writingAtMost: Self.maxHeadMembers + 6 * names) { w in
            w.write("[{\"bn\":\"urn:dev:gia:")
            w.writeJSONStringContent(siteID)
            w.write(UInt8(ascii: ":"))
            w.writeJSONStringContent(gatewayID)
            w.write(UInt8(ascii: ":"))
            w.writeJSONStringContent(poll.deviceID)
            w.write(":\",\"bt\":")
            w.writeSeconds(milliseconds: poll.takenAt.milliseconds)
            if usesSecondary {
                w.write(",\"bver\":")
                w.writeDecimal(Int64(SenMLUnits.versionWithSecondaryUnits))
            }
        }

        // A failed poll is one `_poll` record, whatever else it carries.
        let readings = poll.failure == nil ? poll.readings : []
        let failures = poll.failure == nil ? poll.failures : []
        let clock = poll.clockUnsynchronised
        let body = readings.withUnsafeBufferPointer { readings in
            // Room for the `poll` member and a `_poll` record, counted whether or not that record is written.
            var bound = Self.maxRecordMembers
            for index in readings.indices { bound += Self.maxRecord(readings.baseAddress! + index) }
            for failed in failures { bound += Self.maxRecord(failed) }
            return [UInt8](writingAtMost: bound) { w in
                w.write(",\"poll\":\"")
                w.write(utf8: poll.outcome.rawValue)
                w.write("\",")
                // Records are separated by `},{`; the first one continues the base fields.
                var records = 0
                func nextRecord() {
                    if records > 0 { w.write("},{") }
                    records += 1
                }
                for index in readings.indices {
                    nextRecord()
                    let invalid = Self.writeRecord(readings.baseAddress! + index, to: &w)
                    Self.writeQuality(failed: false, invalid: invalid, clock: clock, to: &w)
                }
                for failed in failures {
                    nextRecord()
                    w.write("\"n\":")
                    w.writeJSONString(failed.pointID)
                    if let unit = failed.unit {
                        w.write(",\"u\":")
                        w.writeJSONString(unit)
                    }
                    w.write(",\"vs\":\"")
                    w.write(utf8: failed.reason.description)
                    w.write(UInt8(ascii: "\""))
                    Self.writeQuality(failed: true, invalid: false, clock: clock, to: &w)
                }
                if records == 0 {
                    // Nothing read: one record that says why.
                    w.write("\"n\":\"")
                    w.write(utf8: Self.pollRecordName)
                    w.write("\",\"vs\":\"")
                    w.write(utf8: poll.failure.map { $0.description } ?? poll.outcome.rawValue)
                    w.write(UInt8(ascii: "\""))
                    Self.writeQuality(failed: true, invalid: false, clock: clock, to: &w)
                }
            }
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

    /// At most this many bytes in the head besides the names: the base members, `bt` (`ByteWriter.maxSeconds`) and
    /// `bver`.
    static let maxHeadMembers = 96

    /// At most this many bytes in a record besides its strings: the separator, member names and quotes, a number
    /// (`ByteWriter.maxJSONNumber`), a time (`maxSeconds`), a failure reason or the poll's outcome, and the quality
    /// labels; well over.
    static let maxRecordMembers = 160

    /// At most this many bytes for one reading's record; its strings may be escaped (`ByteWriter.maxJSONString`).
    static func maxRecord(_ reading: UnsafePointer<Reading>) -> Int {
        var strings = reading.pointee.pointID.utf8.count + (reading.pointee.unit?.utf8.count ?? 0)
        switch reading.pointee.value {
        case .number: break
        case .text(let text), .invalid(raw: let text): strings += text.utf8.count
        }
        return maxRecordMembers + 6 * strings
    }

    /// At most this many bytes for one failed point's record.
    static func maxRecord(_ failed: PointFailure) -> Int {
        maxRecordMembers + 6 * (failed.pointID.utf8.count + (failed.unit?.utf8.count ?? 0))
    }

    /// One reading's record members, up to its quality labels (which the caller completes and writes).
    static func record(_ reading: Reading) -> (members: String, quality: [String]) {
        withUnsafePointer(to: reading) { reading in
            var invalid = false
            let bytes = [UInt8](writingAtMost: maxRecord(reading)) { invalid = writeRecord(reading, to: &$0) }
            return (String(decoding: bytes, as: UTF8.self), invalid ? ["invalid"] : [])
        }
    }

    /// Writes one reading's record members, up to its quality labels; true when the value is labelled `invalid`.
    /// The reading is read through a pointer: passed as a value, it was copied for each record (its three strings
    /// retained and released), a sixth of the draft's time.
    static func writeRecord(_ reading: UnsafePointer<Reading>, to w: inout ByteWriter) -> Bool {
        w.write("\"n\":")
        w.writeJSONString(reading.pointee.pointID)
        if let unit = reading.pointee.unit {
            w.write(",\"u\":")
            w.writeJSONString(unit)
        }
        var invalid = false
        switch reading.pointee.value {
        case .number(let v) where v.isFinite:
            w.write(",\"v\":")
            w.writeJSONNumber(v)
        case .number:
            w.write(",\"vs\":\"non-finite\"")
            invalid = true
        case .text(let s):
            w.write(",\"vs\":")
            w.writeJSONString(s)
        case .invalid(let raw):
            w.write(",\"vs\":")
            w.writeJSONString(raw)
            invalid = true
        }
        // Most readings share their poll's time: a zero offset is told without `components` (a 128-bit division).
        if reading.pointee.offset != .zero {
            let offsetMs = reading.pointee.offset.milliseconds
            if offsetMs != 0 {
                w.write(",\"t\":")
                w.writeSeconds(milliseconds: offsetMs)
            }
        }
        return invalid
    }

    /// The `q` member: `failed` or `invalid`, then `clock`; nothing when there is no label.
    static func writeQuality(failed: Bool, invalid: Bool, clock: Bool, to w: inout ByteWriter) {
        guard failed || invalid || clock else { return }
        w.write(",\"q\":\"")
        if failed {
            w.write("failed")
        } else if invalid {
            w.write("invalid")
        }
        if clock { w.write(failed || invalid ? ",clock" : "clock") }
        w.write(UInt8(ascii: "\""))
    }

    static func quality(_ labels: [String]) -> String {
        labels.isEmpty ? "" : ",\"q\":\"\(labels.joined(separator: ","))\""
    }
}
