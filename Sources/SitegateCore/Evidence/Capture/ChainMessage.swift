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
    /// nil for an unsigned message.
    public var signed: SignedBytes?
    /// `bt` of a data message, `time` of an evidence message.
    public var time: UnixTime
    public var body: Body
    public var payload: [UInt8]

    public var isChainStart: Bool {
        if case .chainStart = body { return true }
        return false
    }

    public struct FormError: Error, Sendable, Hashable, CustomStringConvertible {
        public var reason: String
        /// The `seq`, when it could be read.
        public var seq: Int64?
        /// A data message of contract v1 (published from a buffer upgraded to v2): unverifiable, not an error.
        public var isV1 = false
        public var description: String { reason }
    }

    private static let sigMarker = Array(",\"sig\":\"".utf8)

    /// Reads `payload` received on a data or evidence topic.
    public static func parse(_ payload: [UInt8], topic: CaptureTopic) throws(FormError) -> ChainMessage {
        guard let text = String(validating: payload, as: UTF8.self) else { throw FormError(reason: "not UTF-8") }
        guard let json = JSONValue.parse(text) else { throw FormError(reason: "not valid JSON") }
        let isData: Bool
        let base: JSONObjectReader
        var records: [JSONValue] = []
        switch (topic, json) {
        case (.data, .array(let r)):
            guard let first = JSONObjectReader(r.first) else { throw FormError(reason: "a data message must be a SenML pack of objects") }
            (isData, base, records) = (true, first, r)
        case (.evidence, .object):
            (isData, base) = (false, JSONObjectReader(json)!)
        case (.data, _): throw FormError(reason: "a data message must be a SenML pack (JSON array)")
        default: throw FormError(reason: "an evidence message must be a JSON object")
        }
        guard let seqNumber = base.number(EvidenceKey.seq), seqNumber == seqNumber.rounded(), seqNumber >= 1,
            seqNumber < 9_007_199_254_740_992
        else { throw FormError(reason: "seq is missing or not a positive integer") }
        let seq = Int64(seqNumber)
        func fail(_ reason: String) -> FormError { FormError(reason: reason, seq: seq) }
        // v1 bytes (docs/evidence.md, "Upgrading from v1"): no chain members, no `poll`, no signature.
        if isData, !base.has(EvidenceKey.prev), !base.has(EvidenceKey.kid), !base.has(PollKey.poll),
            lastRange(of: sigMarker, in: payload) == nil
        {
            throw FormError(reason: "a v1 message (before contract v2): not verifiable", seq: seq, isV1: true)
        }

        // The byte rule: a `sig` is exactly the last 95 (object) or 96 (pack) bytes.
        var signed: SignedBytes?
        // The last object carries `sig`: the pack's last record, or the evidence object itself.
        let hasSig = JSONObjectReader(isData ? records.last : json)?.has(EvidenceKey.sig) ?? false
        if hasSig || lastRange(of: sigMarker, in: payload) != nil {
            guard let split = SignedBytes(payload), payload.last == (isData ? UInt8(ascii: "]") : UInt8(ascii: "}")),
                isBase64URL(payload[(split.signed.count + sigMarker.count)...].prefix(86))
            else { throw fail("sig does not follow the byte rule (86 base64url characters, then \"} or \"}] at the end)") }
            guard hasSig else { throw fail("sig must be a member of the last object") }
            signed = split
        }
        var prev: [UInt8]?
        if let prevValue = base.value(EvidenceKey.prev) {
            guard let p = prevValue.string, p.utf8.count == 43, isBase64URL(p.utf8), let bytes = Base64.decode(p),
                bytes.count == 32
            else { throw fail("prev is not a SHA-256 hash in base64url (43 characters)") }
            prev = bytes
        }
        var kid: String?
        if let kidValue = base.value(EvidenceKey.kid) {
            guard let k = kidValue.string, k.utf8.count == 16, k.utf8.allSatisfy(isLowerHex) else {
                throw fail("kid is not 16 lowercase hex digits")
            }
            kid = k
        }
        if signed != nil && kid == nil { throw fail("a signed message without kid") }
        let timeKey = isData ? "bt" : EvidenceKey.time.rawValue
        guard let seconds = base.fields[timeKey]?.number else { throw fail("\(timeKey) is missing or not a number") }
        let time = UnixTime(milliseconds: Int64((seconds * 1000).rounded()))

        let body: Body
        if isData, case .data(_, let device) = topic {
            body = .data(device: device, records: records)
        } else {
            guard let kind = base.string(EvidenceKey.kind) else { throw fail("kind is missing") }
            body = try evidenceBody(kind: kind, base, seq: seq)
        }
        if prev == nil, !(body.isChainStart) { throw fail("prev is missing (only a chain-start has none)") }
        return ChainMessage(seq: seq, prev: prev, kid: kid, signed: signed, time: time, body: body, payload: payload)
    }

    private static func evidenceBody(kind: String, _ r: JSONObjectReader, seq: Int64) throws(FormError) -> Body {
        func fail(_ reason: String) -> FormError { FormError(reason: "\(kind): \(reason)", seq: seq) }
        func hash(_ key: GapNotice.Key) -> [UInt8]? {
            guard let s = r.string(key), s.utf8.count == 43, let b = Base64.decode(s), b.count == 32 else { return nil }
            return b
        }
        func time(_ key: GapNotice.Key) -> UnixTime? {
            r.number(key).map { UnixTime(milliseconds: Int64(($0 * 1000).rounded())) }
        }
        switch kind {
        case EvidenceKind.gap.rawValue:
            guard let from = r.number(GapNotice.Key.fromSeq), let to = r.number(GapNotice.Key.toSeq),
                from == from.rounded(), to == to.rounded(), from >= 1, to >= from
            else { throw fail("from_seq and to_seq must be integers, from_seq ≤ to_seq") }
            if let count = r.number(GapNotice.Key.count), count != to - from + 1 {
                throw fail("count is not to_seq − from_seq + 1")
            }
            guard let lastHash = hash(.lastHash) else { throw fail("last_hash is not a hash in base64url") }
            let firstPrev = hash(.firstPrev)
            if firstPrev == nil, r.value(GapNotice.Key.firstPrev) != .null {
                throw fail("first_prev is not a hash in base64url (nor null)")
            }
            return .gap(
                GapRun(
                    fromSeq: Int64(from), toSeq: Int64(to), reason: r.string(GapNotice.Key.reason) ?? "unknown",
                    firstPrev: firstPrev, lastHash: lastHash, fromTime: time(.fromTime), toTime: time(.toTime)))
        case EvidenceKind.chainStart.rawValue:
            return .chainStart(reason: r.string(ChainStart.Key.reason) ?? "unknown")
        case EvidenceKind.keyHandover.rawValue:
            guard let nextKid = r.string(KeyHandover.Key.nextKid),
                let key = r.string(KeyHandover.Key.nextPublicKey).flatMap({ Base64.decode($0) }), key.count == 32
            else { throw fail("next_kid and next_public_key (32 bytes, base64url) are required") }
            return .keyHandover(Handover(nextKid: nextKid, nextPublicKey: key, endorsed: r.bool(KeyHandover.Key.endorsed) ?? false))
        default:
            return .evidence(kind: kind, fields: r)
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
}

/// The data message's `poll` base field, to tell v2 from v1.
private enum PollKey: String, JSONKey { case poll }

extension ChainMessage.Body {
    var isChainStart: Bool {
        if case .chainStart = self { return true }
        return false
    }
}
