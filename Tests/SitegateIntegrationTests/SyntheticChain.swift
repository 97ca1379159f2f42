import SitegateCore
import SitegateCrypto
import SitegateTestSupport

/// A gateway's chain of messages made the way the gateway makes them (SenMLEncoder and evidence drafts, sealed by
/// MessageSealer with a libcrypto key), in memory, and written as a `sitegate record` capture: the input of the
/// verifier tests. Edits (drop, tamper, reorder) work on `captured`, after the chain is sealed.
struct SyntheticChain {
    struct Message {
        var seq: Int64
        var prev: [UInt8]?
        var topic: String
        var payload: [UInt8]
    }

    static let crypto = LibCrypto()
    static let root = "gia/v1/demo-park/gw01"
    let encoder = SenMLEncoder(siteID: "demo-park", gatewayID: "gw01")
    private(set) var sealer: MessageSealer
    private(set) var nextSeq: Int64
    /// The hash of the last message sealed: the next one's `prev`.
    private(set) var head: [UInt8]?
    var time = UnixTime(milliseconds: 1_767_225_600_000)  // 2026-01-01T00:00:00Z
    var captured: [Message] = []

    /// A chain that begins with a `chain-start`, as a new buffer database does.
    init(signer: (any MessageSigner)?, firstSeq: Int64 = 1_764_547_200_000_001) {
        sealer = MessageSealer(crypto: Self.crypto, signer: signer)
        nextSeq = firstSeq
        commit(ChainStart(reason: .newDatabase).draft(at: time))
    }

    static func hash(_ payload: [UInt8]) -> [UInt8] { crypto.sha256(payload) }

    /// Seals `draft` as the next message; `prev` overrides the chain link (a broken link), `signer` the key.
    @discardableResult
    mutating func commit(_ draft: MessageDraft, prev: [UInt8]?? = nil, signer: (any MessageSigner)? = nil) -> Message {
        let isStart = draft.head.hasPrefix("{\"kind\":\"chain-start\"")
        let link = prev ?? (isStart ? nil : head)
        let payload = sealer.seal(draft, seq: nextSeq, prev: link, signer: signer)
        let message = Message(seq: nextSeq, prev: link, topic: topic(of: draft), payload: payload)
        captured.append(message)
        head = Self.hash(payload)
        nextSeq += 1
        return message
    }

    /// A second, different message with the last message's `seq` and `prev`, signed like it: equivocation.
    mutating func equivocate(_ draft: MessageDraft) {
        let last = captured[captured.count - 1]
        let payload = sealer.seal(draft, seq: last.seq, prev: last.prev)
        captured.append(Message(seq: last.seq, prev: last.prev, topic: topic(of: draft), payload: payload))
    }

    /// `count` polls of one device, one a second: full, partial and failed in turn.
    mutating func polls(_ count: Int, device: String = "main-incomer") {
        for i in 0..<count {
            time = time + .seconds(1)
            commit(encoder.draft(Self.poll(i, device: device, at: time)))
        }
    }

    static func poll(_ i: Int, device: String, at time: UnixTime) -> Poll {
        let energy = Reading(pointID: "energy_import", unit: "kWh", value: .number(12345.6 + Double(i) / 10))
        let power = Reading(pointID: "power", unit: "W", value: .number(8316.6), offset: .milliseconds(192))
        switch i % 3 {
        case 0: return Poll(deviceID: device, takenAt: time, readings: [energy, power])
        case 1:
            return Poll(
                deviceID: device, takenAt: time, readings: [energy],
                failures: [PointFailure(pointID: "power", unit: "W", reason: .timeout)])
        default: return .failed(deviceID: device, at: time, tick: time, reason: .exception(code: 2))
        }
    }

    /// Deletes the captured messages at `indices` (consecutive, unsent) and declares them in a gap notice, as
    /// the buffer does when its bounds drop messages.
    mutating func deleteDeclared(_ indices: ClosedRange<Int>) {
        let run = Array(captured[indices])
        let notice = GapNotice(
            reason: .bufferBounds, fromSeq: run[0].seq, toSeq: run[run.count - 1].seq, fromTime: time, toTime: time,
            firstPrev: run[0].prev, lastHash: Self.hash(run[run.count - 1].payload))
        captured.removeSubrange(indices)
        time = time + .seconds(1)
        commit(notice.draft(at: time))
    }

    /// Rotation: a `key-handover` naming `next`, signed with the current key when `endorsed`, else with `next`;
    /// then `next` signs.
    mutating func handOver(to next: Ed25519Key, endorsed: Bool) {
        let old = sealer.keyID
        let handover = KeyHandover(
            previousKid: old, nextKid: KeyID.of(publicKey: next.publicKey, crypto: Self.crypto),
            nextPublicKey: next.publicKey, endorsed: endorsed)
        if !endorsed { sealer = MessageSealer(crypto: Self.crypto, signer: next) }
        time = time + .seconds(1)
        commit(handover.draft(at: time))
        sealer = MessageSealer(crypto: Self.crypto, signer: next)
    }

    /// Signs from now on with `signer` (nil: unsigned), without a handover.
    mutating func sign(with signer: (any MessageSigner)?) {
        sealer = MessageSealer(crypto: Self.crypto, signer: signer)
    }

    /// Begins a new chain above this one (a new buffer database): `chain-start` at `seq`.
    mutating func restart(at seq: Int64) {
        nextSeq = seq
        time = time + .seconds(1)
        commit(ChainStart(reason: .databaseReplaced, replaced: "/var/lib/sitegate/buffer.db.corrupt-1").draft(at: time))
    }

    private func topic(of draft: MessageDraft) -> String {
        switch draft.destination {
        case .data(let device): "\(Self.root)/\(device)/data"
        case .evidence: "\(Self.root)/evidence"
        }
    }

    /// The NDJSON capture `sitegate record` writes (docs/evidence.md, "Verifying a capture").
    func capture(_ messages: [Message]? = nil) -> String {
        (messages ?? captured).enumerated().map { i, m in
            "{\"arrived_ms\":\(1_767_225_700_000 + Int64(i)),\"topic\":\"\(m.topic)\",\"retain\":false,"
                + "\"payload\":\"\(Base64.standard(m.payload))\"}\n"
        }.joined()
    }

    /// A keys file line for `key`.
    static func keysLine(_ key: Ed25519Key, bounds: String = "") -> String {
        "ed25519 \(Base64.url(key.publicKey))\(bounds.isEmpty ? "" : " " + bounds)\n"
    }
}

extension SyntheticChain.Message {
    var text: String { String(decoding: payload, as: UTF8.self) }
}
