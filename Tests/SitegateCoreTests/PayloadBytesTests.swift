import SitegateCore
import Testing

/// The payload encoders write bytes directly (issue 16, CPU). The contract is that the bytes do not change: these
/// tests hold them against the String-building encoder they replaced, kept here as the reference, over tricky
/// values and over many random polls.
@Suite struct PayloadBytesTests {
    static let encoder = SenMLEncoder(siteID: "demo-park", gatewayID: "gw01")

    @Test(arguments: [
        0.0, -0.0, 1, -1520, 230.2, 230.19999694824219, 0.1, 1e20, -1e20, 1e15, 1e15 - 1, -(1e15 - 1), 999_999_999_999_999.5,
        12345.5, 1.5e-7, 3.4028234663852886e38, 1.1754943508222875e-38, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude,
        -Double.greatestFiniteMagnitude, 0.30000000000000004, 2.5e-3, 100, 65535, 4294967295, -2147483648,
    ])
    func numbersAreSpelledAsBefore(_ value: Double) {
        #expect(JSONText.number(value) == Reference.number(value))
        var bytes: [UInt8] = []
        bytes.appendJSONNumber(value)
        #expect(String(decoding: bytes, as: UTF8.self) == Reference.number(value))
    }

    @Test(arguments: [
        Int64(0), 1, 5, 10, 100, 120, 400, 999, 1000, 1005, 1_500, 1_767_226_500_400, 1_767_226_500_000, -1, -5, -999,
        -1000, -1001, -1_500, Int64.max / 2, Int64.min / 2,
    ])
    func secondsAreSpelledAsBefore(_ ms: Int64) {
        #expect(JSONText.seconds(milliseconds: ms) == Reference.seconds(milliseconds: ms))
    }

    @Test(arguments: [
        "", "voltage_l1", "a\"b\\c\n\u{1}", "tab\there", "\r\u{1F}\u{7F}", "grüße", "日本語", "emoji 🙂", "\u{0}",
        "quote\"", "back\\slash",
    ])
    func stringsAreEscapedAsBefore(_ text: String) {
        #expect(JSONText.quoted(text) == Reference.quoted(text))
    }

    @Test func tableOfPollsMatchesTheReference() {
        let at = UnixTime(milliseconds: 1_767_226_500_400)
        let polls = [
            Poll(deviceID: "main-incomer", takenAt: at, readings: []),
            Poll(
                deviceID: "d\"1", takenAt: at,
                readings: [
                    Reading(pointID: "voltage_l1", unit: "V", value: .number(230.2)),
                    Reading(pointID: "energy", unit: "kWh", value: .number(12345.5), offset: .milliseconds(120)),
                    Reading(pointID: "serial", unit: nil, value: .text("SN-\u{1}ü"), offset: .milliseconds(5)),
                    Reading(pointID: "power", unit: "W", value: .invalid(raw: "7fffffff"), offset: .seconds(70)),
                    Reading(pointID: "nan", unit: "W", value: .number(.nan)),
                    Reading(pointID: "inf", unit: nil, value: .number(-.infinity)),
                ],
                failures: [
                    PointFailure(pointID: "e1", unit: "kWh", reason: .timeout),
                    PointFailure(pointID: "e2", unit: nil, reason: .exception(code: 2)),
                ], clockUnsynchronised: true),
            Poll(
                deviceID: "m", takenAt: at, readings: [Reading(pointID: "p", unit: "W", value: .invalid(raw: "ff"))],
                clockUnsynchronised: false),
            Poll(
                deviceID: "m", takenAt: at, readings: [Reading(pointID: "p", unit: "W", value: .number(1))],
                failures: [PointFailure(pointID: "q", unit: "W", reason: .skipped)], clockUnsynchronised: true),
            .failed(deviceID: "m", at: at, tick: at, reason: .exception(code: 11)),
            .failed(deviceID: "m", at: at, tick: at, reason: .backoff, clockUnsynchronised: true),
            Poll(
                deviceID: "m", takenAt: at, readings: [Reading(pointID: "p", unit: "W", value: .number(1))],
                failure: .timeout),
        ]
        for poll in polls { expectSameBytes(poll) }
    }

    @Test func randomPollsMatchTheReference() {
        var random = SplitMix64(seed: 16)
        for _ in 0..<2_000 { expectSameBytes(Self.randomPoll(&random)) }
    }

    /// Polls of every kind, large and small, with the values that are hardest to spell; both encoders, one with
    /// names that need escaping. Each seed is its own case, so a failure names the seed that reproduces it.
    @Test(arguments: [UInt64(8_428), 8_798, 9_100, 16, 30])
    func pollsOfEveryKindMatchTheReference(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<400 {
            let poll = Self.pollOfEveryKind(&random)
            expectSameBytes(poll)
            expectSameBytes(poll, encoder: SenMLEncoder(siteID: "site \"x\"\\", gatewayID: "gw\u{7}ü"))
        }
    }

    @Test func stringsThatAreAllEscapesFitTheirBound() {
        // Every byte of every string becomes `\u00XX`: the most a string can grow.
        let escapes = String(repeating: "\u{1}", count: 300)
        let poll = Poll(
            deviceID: escapes, takenAt: UnixTime(milliseconds: -1),
            readings: [
                Reading(pointID: escapes, unit: escapes, value: .text(escapes), offset: .milliseconds(-1)),
                Reading(pointID: escapes, unit: escapes, value: .invalid(raw: escapes)),
                Reading(pointID: "", unit: "", value: .number(-.leastNonzeroMagnitude), offset: .seconds(Int64.max / 1000)),
            ],
            failures: [PointFailure(pointID: escapes, unit: escapes, reason: .exception(code: 255))],
            clockUnsynchronised: true)
        expectSameBytes(poll, encoder: SenMLEncoder(siteID: escapes, gatewayID: escapes))
        expectSameBytes(.failed(deviceID: escapes, at: UnixTime(milliseconds: 0), tick: UnixTime(milliseconds: 0), reason: .exception(code: 255), clockUnsynchronised: true))
    }

    @Test func sealedMessagesMatchTheReference() {
        let draft = Self.encoder.draft(
            Poll(
                deviceID: "m1", takenAt: UnixTime(milliseconds: 1_767_226_500_000),
                readings: [Reading(pointID: "v", unit: "V", value: .number(230.2))]))
        let prev = (0..<32).map { UInt8($0 * 7 % 256) }
        for seq: Int64 in [1, 42, 9_007_199_254_740_993] {
            for link in [nil, prev] {
                let sealed = MessageSealer(crypto: NoCrypto(), signer: nil).seal(draft, seq: seq, prev: link)
                #expect(sealed == Reference.seal(draft, seq: seq, prev: link, keyID: nil, signature: nil))
            }
        }
        let signer = FixedSigner()
        let signed = MessageSealer(crypto: NoCrypto(), signer: signer).seal(draft, seq: 7, prev: prev)
        let keyID = KeyID.of(publicKey: signer.publicKey, crypto: NoCrypto())
        #expect(signed == Reference.seal(draft, seq: 7, prev: prev, keyID: keyID, signature: signer.signature))
        let evidence = MessageDraft.evidence(.gap, time: UnixTime(milliseconds: 5), members: JSONObjectWriter())
        #expect(
            MessageSealer(crypto: NoCrypto(), signer: nil).seal(evidence, seq: 3, prev: prev)
                == Reference.seal(evidence, seq: 3, prev: prev, keyID: nil, signature: nil))
    }

    func expectSameBytes(
        _ poll: Poll, encoder: SenMLEncoder = Self.encoder, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        let draft = encoder.draft(poll)
        let reference = Reference.draft(poll, siteID: encoder.siteID, gatewayID: encoder.gatewayID)
        #expect(draft.head == reference.head, sourceLocation: sourceLocation)
        #expect(draft.body == reference.body, sourceLocation: sourceLocation)
        #expect(draft == MessageDraft(
            head: reference.head, body: reference.body, form: .pack, destination: .data(device: poll.deviceID),
            time: poll.takenAt, tick: poll.tick, outcome: poll.outcome), sourceLocation: sourceLocation)
    }

    static func randomPoll(_ random: inout SplitMix64) -> Poll {
        let names = ["voltage_l1", "p", "e\"x", "日本", "a\\b", "tab\t", "value_00"]
        let units: [String?] = [nil, "V", "kWh", "W", "var", "Cel", "%RH", "ü"]
        func pick<T>(_ a: [T]) -> T { a[Int(random.next() % UInt64(a.count))] }
        func value() -> Reading.Value {
            switch random.next() % 8 {
            case 0: return .text(pick(names))
            case 1: return .invalid(raw: "ffff")
            case 2: return .number(pick([.nan, .infinity, 0, -0.0]))
            case 3: return .number(Double(Int64(bitPattern: random.next()) >> Int64(random.next() % 64)))
            case 4: return .number(Double(Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))))
            case 5: return .number(Double(bitPattern: random.next()))
            default: return .number(Double(Float(Int32(truncatingIfNeeded: random.next()) % 100_000) / 10))
            }
        }
        let readings = (0..<Int(random.next() % 6)).map { _ in
            Reading(
                pointID: pick(names), unit: pick(units), value: value(),
                offset: .milliseconds(Int64(random.next() % 4 == 0 ? random.next() % 100_000 : 0)))
        }
        let failures = (0..<Int(random.next() % 3)).map { _ in
            PointFailure(pointID: pick(names), unit: pick(units), reason: pick([.timeout, .crc, .skipped, .exception(code: 3)]))
        }
        let failure: FailureReason? = random.next() % 5 == 0 ? pick([.timeout, .connection, .backoff]) : nil
        let at = UnixTime(milliseconds: Int64(random.next() % 4_000_000_000_000))
        return Poll(
            deviceID: pick(["m1", "main-incomer", "x\"y"]), takenAt: at, readings: readings, failures: failures,
            failure: failure, clockUnsynchronised: random.next() % 3 == 0)
    }
}

extension PayloadBytesTests {
    /// A poll with any mix of what a poll can carry: up to 40 readings (a large device group), numbers of every
    /// kind, texts that need escaping, invalid sentinels, units none, primary and secondary, offsets (negative ones
    /// too), failed points, failed polls, an unsynchronised clock.
    static func pollOfEveryKind(_ random: inout SplitMix64) -> Poll {
        func pick<T>(_ a: [T]) -> T { a[Int(random.next() % UInt64(a.count))] }
        func chance(_ n: UInt64) -> Bool { random.next() % n == 0 }
        func text() -> String {
            let pieces = ["a", "value_07", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1F}", "\u{7F}", "ü", "日本", "🙂", "/", " "]
            return (0..<Int(random.next() % 12)).map { _ in pick(pieces) }.joined()
        }
        func number() -> Double {
            switch random.next() % 10 {
            case 0: return Double(Int64(bitPattern: random.next()) >> Int64(random.next() % 64))  // integral
            case 1: return pick([1e15, 1e15 - 1, -1e15, 1e15 + 2, 999_999_999_999_999.5, 4_294_967_296.5, -0.0, 0])
            case 2: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: random.next())))  // any float32
            case 3: return Double(Float(Int32(truncatingIfNeeded: random.next()) % 100_000) / 10)  // a meter's float32
            case 4: return Double(bitPattern: random.next())  // any double, NaN and infinities included
            case 5: return Double(bitPattern: random.next() % (1 << 52))  // subnormal: tiny
            case 6: return pick([1.0, -1.0]) * Double(sign: .plus, exponent: Int(random.next() % 2046) - 1022, significand: 1.5)
            case 7: return pick([Double.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNormalMagnitude, 1e300, -1e-300])
            case 8: return Double(Int32(truncatingIfNeeded: random.next())) / 1000
            default: return pick([Double.nan, .infinity, -.infinity, .pi, -2.5e-3, 1.5e-7, 0.1, 230.2])
            }
        }
        func value() -> Reading.Value {
            switch random.next() % 6 {
            case 0: return .text(text())
            case 1: return .invalid(raw: pick(["ffff", "7fffffff", "", "8000\"0000"]))
            default: return .number(number())
            }
        }
        let units: [String?] = [nil, "V", "W", "Cel", "%RH", "kWh", "kvarh", "mA", "/100", "ü", "a\"b"]
        func offset() -> Duration {
            switch random.next() % 4 {
            case 0: return .milliseconds(Int64(random.next() % 100_000))
            case 1: return .milliseconds(-Int64(random.next() % 5_000))
            case 2: return .nanoseconds(Int64(random.next() % 10_000_000_000))
            default: return .zero
            }
        }
        let readings = (0..<Int(random.next() % 41)).map { _ in
            Reading(pointID: chance(3) ? text() : pick(["value_07", "voltage_l1", "e"]), unit: pick(units), value: value(), offset: offset())
        }
        let failures = (0..<(chance(3) ? Int(random.next() % 4) : 0)).map { _ in
            PointFailure(
                pointID: chance(4) ? text() : "value_09", unit: pick(units),
                reason: pick([.timeout, .crc, .skipped, .io, .badResponse, .exception(code: UInt8(truncatingIfNeeded: random.next()))]))
        }
        let failure: FailureReason? = chance(6) ? pick([.timeout, .connection, .backoff, .exception(code: 11)]) : nil
        let at = UnixTime(milliseconds: Int64(random.next() % 4_000_000_000_000) - (chance(10) ? 4_000_000_000_000 : 0))
        return Poll(
            deviceID: chance(4) ? text() : "main-incomer", takenAt: at, readings: readings, failures: failures,
            failure: failure, clockUnsynchronised: chance(3))
    }
}

/// Signs with a fixed signature: what matters here is where the signature goes, not what it is.
struct FixedSigner: MessageSigner {
    let publicKey = [UInt8](repeating: 3, count: 32)
    let signature = (0..<64).map { UInt8($0) }
    func sign(_ message: [UInt8]) -> [UInt8] { signature }
}

/// The String-building encoder as it was before the byte writers (contract v2): the reference for byte identity.
private enum Reference {
    static func quoted(_ s: String) -> String {
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) { return "\"" + s + "\"" }
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + Hex.padded(scalar.value, digits: 4, uppercase: false)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        let f = Float(v)
        if f.isFinite, Double(f) == v { return f.description }
        return v.description
    }

    static func seconds(milliseconds ms: Int64) -> String {
        let whole = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000)
        let fraction = ms - whole * 1000
        if fraction == 0 { return String(whole) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }

    static func draft(_ poll: Poll, siteID: String, gatewayID: String) -> (head: String, body: String) {
        let usesSecondary =
            poll.readings.contains { $0.unit.map(SenMLUnits.secondary.contains) ?? false }
            || poll.failures.contains { $0.unit.map(SenMLUnits.secondary.contains) ?? false }
        var head = "[{\"bn\":\(quoted("urn:dev:gia:\(siteID):\(gatewayID):\(poll.deviceID):"))"
        head += ",\"bt\":\(seconds(milliseconds: poll.takenAt.milliseconds))"
        if usesSecondary { head += ",\"bver\":\(SenMLUnits.versionWithSecondaryUnits)" }
        let clock = poll.clockUnsynchronised ? ["clock"] : []
        var records: [String] = []
        for reading in poll.failure == nil ? poll.readings : [] {
            let (members, quality) = record(reading)
            records.append(members + self.quality(quality + clock))
        }
        for failed in poll.failure == nil ? poll.failures : [] {
            var r = "\"n\":\(quoted(failed.pointID))"
            if let unit = failed.unit { r += ",\"u\":\(quoted(unit))" }
            records.append(r + ",\"vs\":\"\(failed.reason)\"" + quality(["failed"] + clock))
        }
        if records.isEmpty {
            let why = poll.failure.map { "\($0)" } ?? poll.outcome.rawValue
            records.append("\"n\":\"\(SenMLEncoder.pollRecordName)\",\"vs\":\"\(why)\"" + quality(["failed"] + clock))
        }
        return (head, ",\"poll\":\"\(poll.outcome.rawValue)\"," + records.joined(separator: "},{"))
    }

    static func record(_ reading: Reading) -> (members: String, quality: [String]) {
        var r = "\"n\":\(quoted(reading.pointID))"
        if let unit = reading.unit { r += ",\"u\":\(quoted(unit))" }
        var quality: [String] = []
        switch reading.value {
        case .number(let v) where v.isFinite: r += ",\"v\":\(number(v))"
        case .number: r += ",\"vs\":\"non-finite\""; quality.append("invalid")
        case .text(let s): r += ",\"vs\":\(quoted(s))"
        case .invalid(let raw): r += ",\"vs\":\(quoted(raw))"; quality.append("invalid")
        }
        let offsetMs = reading.offset.milliseconds
        if offsetMs != 0 { r += ",\"t\":\(seconds(milliseconds: offsetMs))" }
        return (r, quality)
    }

    static func quality(_ labels: [String]) -> String {
        labels.isEmpty ? "" : ",\"q\":\"\(labels.joined(separator: ","))\""
    }

    static func seal(_ draft: MessageDraft, seq: Int64, prev: [UInt8]?, keyID: String?, signature: [UInt8]?) -> [UInt8] {
        var text = draft.head
        text += ",\"seq\":\(seq)"
        if let prev { text += ",\"prev\":\"\(Base64.url(prev))\"" }
        if let keyID { text += ",\"kid\":\"\(keyID)\"" }
        text += draft.body
        var bytes = Array(text.utf8)
        if let signature {
            bytes += Array(",\"sig\":\"\(Base64.url(signature))".utf8)
            bytes.append(UInt8(ascii: "\""))
        }
        bytes += Array((draft.form == .pack ? "}]" : "}").utf8)
        return bytes
    }
}
