/// A message of the chain read back from its bytes (docs/evidence.md): the members a verifier needs, found
/// without re-serialising anything. `parse` applies the form rules; whatever breaks them is a `FormError`.
public struct ChainMessage: Sendable {
    /// One run of deleted `seq`s declared by a gap notice.
    public struct GapRun: Sendable, Hashable {
        public var fromSeq: Int64
        public var toSeq: Int64
        public var reason: String
        /// nil when the first deleted message was itself a chain start.
        public var firstPrev: [UInt8]?
        public var lastHash: [UInt8]
        public var fromTime: UnixTime?
        public var toTime: UnixTime?
    }

    /// A key handover's new key.
    public struct Handover: Sendable, Hashable {
        public var nextKid: String
        public var nextPublicKey: [UInt8]
        public var endorsed: Bool
        public var previousKid: String?
    }

    public enum Body: Sendable {
        /// A SenML pack: its records (the first carries the base fields).
        case data(device: String, records: [JSONValue])
        case gap(GapRun)
        case chainStart(reason: String)
        case keyHandover(Handover)
        /// A checkpoint, or a kind this verifier does not know (it still takes part in the chain).
        case evidence(kind: String, fields: JSONObjectReader)
    }

    public var seq: Int64
    public var prev: [UInt8]?
    public var kid: String?
    /// nil for an unsigned message (or one whose signature breaks the byte rule).
    public var signed: SignedBytes?
    /// `bt` of a data message, `time` of an evidence message (0 when missing: a form problem).
    public var time: UnixTime
    public var body: Body
    public var payload: [UInt8]
    /// Form problems that still let the message take part in the chain (each is a malformed-message finding).
    public var problems: [String] = []

    public var isChainStart: Bool {
        if case .chainStart = body { return true }
        return false
    }

    /// A payload that cannot take part at all (no JSON, no `seq`), or a v1 message.
    public struct FormError: Error, Sendable, Hashable, CustomStringConvertible {
        public var reason: String
        /// The `seq`, when it could be read.
        public var seq: Int64?
        /// A data message of contract v1 (published from a buffer upgraded to v2): unverifiable, not an error.
        public var isV1 = false
        public var description: String { reason }
    }

    private static let sigMarker = Array(",\"sig\":\"".utf8)

    /// Reads `payload` received on a data or evidence topic. The checks are those of docs/evidence.md and of
    /// `scripts/verify_evidence.py`, so that both implementations find the same.
    public static func parse(_ payload: [UInt8], topic: CaptureTopic) throws(FormError) -> ChainMessage {
        guard let text = String(validating: payload, as: UTF8.self) else { throw FormError(reason: "not UTF-8") }
        let json: JSONValue
        switch JSONValue.parseOrExplain(text) {
        case .success(let value): json = value
        case .failure(let error): throw FormError(reason: error.description)
        }
        let isData: Bool
        let base: JSONObjectReader
        var records: [JSONValue] = []
        switch (topic, json) {
        case (.data, .array(let r)):
            guard !r.isEmpty, r.allSatisfy({ $0.object != nil }) else {
                throw FormError(reason: "a data message is not a non-empty array of objects (SenML pack)")
            }
            (isData, base, records) = (true, JSONObjectReader(r[0])!, r)
        case (.evidence, .object):
            (isData, base) = (false, JSONObjectReader(json)!)
        case (.data, _): throw FormError(reason: "a data message is not a non-empty array of objects (SenML pack)")
        default: throw FormError(reason: "an evidence message is not a JSON object")
        }
        guard let seqNumber = base.number(EvidenceKey.seq), seqNumber == seqNumber.rounded(), seqNumber >= 1,
            seqNumber < 9_007_199_254_740_992
        else { throw FormError(reason: "seq is missing or not a positive integer") }
        let seq = Int64(seqNumber)
        let hasMarker = lastRange(of: sigMarker, in: payload) != nil
        // v1 bytes (docs/evidence.md, "Upgrading from v1"): no chain members, no `poll`, no signature.
        if isData, !base.has(EvidenceKey.prev), !base.has(EvidenceKey.kid), !base.has(PollKey.poll), !hasMarker {
            throw FormError(reason: "a v1 message (before contract v2): not verifiable", seq: seq, isV1: true)
        }
        var problems: [String] = []
        if hasWhitespaceOutsideStrings(payload) { problems.append("whitespace outside strings") }

        // The byte rule: a `sig` is exactly the last 95 (object) or 96 (pack) bytes.
        let last = JSONObjectReader(isData ? records.last : json)!
        var signed: SignedBytes?
        if hasMarker {
            if let split = SignedBytes(payload), payload.last == (isData ? UInt8(ascii: "]") : UInt8(ascii: "}")),
                isBase64URL(payload[(split.signed.count + sigMarker.count)...].prefix(86))
            {
                signed = split
                if last.string(EvidenceKey.sig) == nil { problems.append("the ,\"sig\":\" found is not the last object's sig member") }
            } else {
                problems.append("sig does not follow the byte rule (86 base64url characters, then \"} or \"}] at the end)")
            }
        } else if records.contains(where: { $0["sig"] != nil }) || last.has(EvidenceKey.sig) {
            problems.append("sig present but not as the last member of the last object")
        }

        var time = UnixTime(nanoseconds: 0)
        let timeKey = isData ? "bt" : EvidenceKey.time.rawValue
        if let seconds = base.fields[timeKey]?.number {
            time = UnixTime(milliseconds: Int64((seconds * 1000).rounded()))
        } else {
            problems.append("\(timeKey) is missing or not a number")
        }

        let body: Body
        if isData, case .data(let gateway, let device) = topic {
            let levels = gateway.split(separator: "/", omittingEmptySubsequences: false)
            let expected = "urn:dev:gia:\(levels[levels.count - 2]):\(levels[levels.count - 1]):\(device):"
            if base.string(SenMLBase.bn) != expected {
                problems.append("bn does not match the topic (expected \(expected))")
            }
            body = .data(device: device, records: records)
        } else if let kind = base.string(EvidenceKey.kind), !kind.isEmpty {
            if !payload.starts(with: Array("{\"kind\":".utf8)) { problems.append("kind is not the first member") }
            let (evidence, problem) = evidenceBody(kind: kind, base, seq: seq)
            body = evidence
            if let problem { problems.append(problem) }
        } else {
            problems.append("kind is missing or not a string")
            body = .evidence(kind: "", fields: base)
        }

        var prev: [UInt8]?
        let prevValue = base.value(EvidenceKey.prev)
        if body.isChainStart {
            if prevValue != nil { problems.append("a chain-start has a prev") }
        } else if prevValue == nil {
            problems.append("prev is missing (only a chain-start has none)")
        } else if let p = prevValue?.string, p.utf8.count == 43, isBase64URL(p.utf8), let bytes = Base64.decode(p), bytes.count == 32 {
            prev = bytes
        } else {
            problems.append("prev is not a SHA-256 hash in base64url (43 characters)")
        }
        var kid: String?
        if let kidValue = base.value(EvidenceKey.kid) {
            if let k = kidValue.string, k.utf8.count == 16, k.utf8.allSatisfy(isLowerHex) {
                kid = k
            } else {
                problems.append("kid is not 16 lowercase hex digits")
            }
        }
        if signed != nil && base.value(EvidenceKey.kid) == nil { problems.append("signed but without kid") }
        if !hasMarker && base.value(EvidenceKey.kid) != nil { problems.append("kid present but the message is not signed") }
        return ChainMessage(
            seq: seq, prev: prev, kid: kid, signed: signed, time: time, body: body, payload: payload, problems: problems)
    }

    /// The kind's own members; a problem leaves the message a plain evidence message (it bridges nothing).
    private static func evidenceBody(kind: String, _ r: JSONObjectReader, seq: Int64) -> (Body, String?) {
        func hash(_ key: GapNotice.Key) -> [UInt8]? {
            guard let s = r.string(key), s.utf8.count == 43, isBase64URL(s.utf8), let b = Base64.decode(s), b.count == 32
            else { return nil }
            return b
        }
        func time(_ key: GapNotice.Key) -> UnixTime? {
            r.number(key).map { UnixTime(milliseconds: Int64(($0 * 1000).rounded())) }
        }
        let plain = Body.evidence(kind: kind, fields: r)
        switch kind {
        case EvidenceKind.gap.rawValue:
            guard let from = r.number(GapNotice.Key.fromSeq), let to = r.number(GapNotice.Key.toSeq),
                from == from.rounded(), to == to.rounded(), from >= 1, to >= from, to < Double(seq),
                r.number(GapNotice.Key.count) == to - from + 1
            else { return (plain, "a gap notice needs integers from_seq <= to_seq < its seq and count = to_seq - from_seq + 1") }
            let firstPrev = hash(.firstPrev)
            guard let lastHash = hash(.lastHash), firstPrev != nil || r.value(GapNotice.Key.firstPrev) == .null
            else { return (plain, "a gap notice needs last_hash and first_prev (43 base64url characters; first_prev null when the run begins with a chain-start)") }
            return (
                .gap(
                    GapRun(
                        fromSeq: Int64(from), toSeq: Int64(to), reason: r.string(GapNotice.Key.reason) ?? "unknown",
                        firstPrev: firstPrev, lastHash: lastHash, fromTime: time(.fromTime), toTime: time(.toTime))), nil
            )
        case EvidenceKind.chainStart.rawValue:
            return (.chainStart(reason: r.string(ChainStart.Key.reason) ?? "unknown"), nil)
        case EvidenceKind.keyHandover.rawValue:
            let endorsed = r.value(KeyHandover.Key.endorsed).map { $0.bool } ?? true
            guard let nextKid = r.string(KeyHandover.Key.nextKid), let text = r.string(KeyHandover.Key.nextPublicKey),
                text.utf8.count == 43, isBase64URL(text.utf8), let key = Base64.decode(text), key.count == 32,
                let endorsed
            else { return (plain, "a key-handover needs next_kid, next_public_key (43 base64url characters) and a boolean endorsed when present") }
            let previous = r.value(KeyHandover.Key.previousKid)
            let previousKid = previous?.string
            if let previous, previous != .null,
                !(previousKid.map { $0.utf8.count == 16 && $0.utf8.allSatisfy(isLowerHex) } ?? false)
            {
                return (plain, "previous_kid is not 16 lowercase hex digits")
            }
            return (.keyHandover(Handover(nextKid: nextKid, nextPublicKey: key, endorsed: endorsed, previousKid: previousKid)), nil)
        default:
            return (plain, nil)
        }
    }

    private static func lastRange(of marker: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= marker.count else { return nil }
        var i = bytes.count - marker.count
        while i >= 0 {
            if bytes[i..<(i + marker.count)].elementsEqual(marker) { return i }
            i -= 1
        }
        return nil
    }

    private static func isBase64URL<S: Sequence>(_ bytes: S) -> Bool where S.Element == UInt8 {
        bytes.allSatisfy { b in
            (65...90).contains(b) || (97...122).contains(b) || (48...57).contains(b) || b == UInt8(ascii: "-")
                || b == UInt8(ascii: "_")
        }
    }

    private static func isLowerHex(_ b: UInt8) -> Bool { (48...57).contains(b) || (97...102).contains(b) }

    /// JSON whitespace outside strings: the byte rule has none.
    private static func hasWhitespaceOutsideStrings(_ bytes: [UInt8]) -> Bool {
        var inString = false, escaped = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
            } else if b == UInt8(ascii: "\"") {
                inString = true
            } else if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                return true
            }
        }
        return false
    }
}

/// The data message's `poll` base field, to tell v2 from v1.
private enum PollKey: String, JSONKey { case poll }

/// The SenML base name, matched against the topic.
private enum SenMLBase: String, JSONKey { case bn }

extension ChainMessage.Body {
    var isChainStart: Bool {
        if case .chainStart = self { return true }
        return false
    }
}
