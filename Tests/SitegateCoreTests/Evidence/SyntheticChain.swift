import SitegateCore
import SitegateCrypto

/// A gateway's chain built the way the agent builds it (`MessageSealer`), published into a capture, for the
/// verifier and audit tests. Keys come from fixed seeds, so every run has the same bytes.
struct SyntheticChain {
    static let crypto = LibCrypto()
    static let root = "gia/v1/demo-park/gw01"
    static let encoder = SenMLEncoder(siteID: "demo-park", gatewayID: "gw01")
    /// 2025-12-01T00:00:00Z: seq numbering of a database created then.
    static let epoch: Int64 = 1_764_547_200_000

    static func key(_ n: UInt8) -> Ed25519Key { try! Ed25519Key.fromSeed([UInt8](repeating: n, count: 32)) }

    var sealer: MessageSealer
    var seq: Int64
    var head: [UInt8]?
    /// Every committed message, in seq order: what the gateway would publish.
    var lines: [CaptureRecord] = []

    init(signer: Ed25519Key? = key(1), firstSeq: Int64 = epoch * 1000 + 1) {
        sealer = MessageSealer(crypto: Self.crypto, signer: signer)
        seq = firstSeq
    }

    /// The keys file line of a key, as `sitegate keys show` prints it.
    static func keysLine(_ key: Ed25519Key, extra: String = "") -> String {
        "ed25519 \(Base64.url(key.publicKey))" + (extra.isEmpty ? "" : " " + extra)
    }

    static func keys(_ text: String) -> KeysFile { try! KeysFile.parse(text, file: "keys", crypto: crypto) }

    static func topic(of draft: MessageDraft) -> String {
        switch draft.destination {
        case .data(let device): "\(root)/\(device)/data"
        case .evidence: "\(root)/evidence"
        }
    }

    /// Commits a draft: the next seq, linked to the head; returns the payload.
    @discardableResult
    mutating func commit(_ draft: MessageDraft, signer: Ed25519Key? = nil, prev: [UInt8]?? = .none) -> [UInt8] {
        let link: [UInt8]? = prev ?? head
        let payload = sealer.seal(draft, seq: seq, prev: link, signer: signer)
        lines.append(CaptureRecord(arrivedAt: UnixTime(milliseconds: draft.time.milliseconds + 50), topic: Self.topic(of: draft), retain: false, payload: payload))
        head = sealer.link(to: payload)
        seq += 1
        return payload
    }

    mutating func chainStart(at ms: Int64) {
        commit(ChainStart(reason: .newDatabase).draft(at: UnixTime(milliseconds: ms)), prev: .some(nil))
    }

    /// A full poll of an energy meter at `ms`.
    mutating func poll(_ device: String = "main-incomer", at ms: Int64, energy: Double, invalid: Bool = false) {
        let value: Reading.Value = invalid ? .invalid(raw: "7fc00000") : .number(energy)
        let poll = Poll(
            deviceID: device, takenAt: UnixTime(milliseconds: ms),
            readings: [
                Reading(pointID: "power", unit: "W", value: .number(1000)),
                Reading(pointID: "energy_import", unit: "kWh", value: value),
            ])
        commit(Self.encoder.draft(poll))
    }

    /// A poll of which nothing was read.
    mutating func failedPoll(_ device: String = "main-incomer", at ms: Int64, reason: FailureReason) {
        let time = UnixTime(milliseconds: ms)
        commit(Self.encoder.draft(.failed(deviceID: device, at: time, tick: time, reason: reason)))
    }

    /// Deletes the committed messages `range` (indexes into `lines`) and declares them with a gap notice.
    mutating func dropDeclared(_ range: Range<Int>, at ms: Int64, firstPrev override: [UInt8]? = nil) {
        let deleted = Array(lines[range])
        let first = try! ChainMessage.parse(deleted.first!.payload, topic: CaptureTopic(deleted.first!.topic))
        let last = try! ChainMessage.parse(deleted.last!.payload, topic: CaptureTopic(deleted.last!.topic))
        let notice = GapNotice(
            reason: .bufferBounds, fromSeq: first.seq, toSeq: last.seq, fromTime: first.time, toTime: last.time,
            firstPrev: override ?? first.prev, lastHash: sealer.link(to: deleted.last!.payload))
        lines.removeSubrange(range)
        commit(notice.draft(at: UnixTime(milliseconds: ms)))
    }

    func verify(keys: KeysFile?, lines override: [CaptureRecord]? = nil) -> VerifyReport {
        CaptureVerifier(crypto: Self.crypto, keys: keys).verify(override ?? lines).report
    }
}
