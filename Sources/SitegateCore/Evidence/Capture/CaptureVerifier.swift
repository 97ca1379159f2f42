/// `sitegate verify`: checks a capture by the rules of docs/evidence.md, "Verifying a capture": form, signatures
/// and keys, duplicates, chain links and declared gaps. Pure: the crypto is passed in. The decisions follow
/// `scripts/verify_evidence.py`, the independent implementation, so both give the same exit code.
public struct CaptureVerifier: Sendable {
    public let crypto: any EvidenceCrypto
    /// nil: signatures are not checked (form and chain only).
    public let keys: KeysFile?

    public init(crypto: any EvidenceCrypto, keys: KeysFile?) {
        self.crypto = crypto
        self.keys = keys
    }

    /// A message with a readable `seq` and where it was first seen.
    public struct Received: Sendable {
        public var message: ChainMessage
        public var line: Int
        public var hash: [UInt8]
    }

    /// The messages of one gateway in `seq` order (the copy that stands for each), for the audit.
    public struct Chain: Sendable {
        public var gateway: String
        public var messages: [Received]
    }

    /// Verifies the capture's lines (line numbers are 1-based positions in `lines`).
    public func verify(_ lines: [CaptureRecord]) -> (report: VerifyReport, chains: [Chain]) {
        var order: [String] = []
        var gateways: [String: VerifyReport.Gateway] = [:]
        // Per gateway and seq: the different copies received, in order.
        var variants: [String: [Int64: [Received]]] = [:]
        var other = 0
        for (index, line) in lines.enumerated() {
            let topic = CaptureTopic(line.topic)
            guard let gateway = topic.chainGateway else {
                other += 1
                continue
            }
            if gateways[gateway] == nil {
                order.append(gateway)
                gateways[gateway] = VerifyReport.Gateway(gateway: gateway)
            }
            do {
                let message = try ChainMessage.parse(line.payload, topic: topic)
                for problem in message.problems {
                    gateways[gateway]!.problems.append(
                        .init(problemClass: .malformed, seq: message.seq, line: index + 1, message: "\(line.topic): \(problem)"))
                }
                var copies = variants[gateway, default: [:]][message.seq, default: []]
                if copies.contains(where: { $0.message.payload == message.payload }) {
                    gateways[gateway]!.redeliveries += 1
                } else {
                    copies.append(Received(message: message, line: index + 1, hash: crypto.sha256(message.payload)))
                    variants[gateway, default: [:]][message.seq] = copies
                }
            } catch where error.isV1 {
                gateways[gateway]!.v1Messages += 1
            } catch {
                gateways[gateway]!.problems.append(
                    .init(problemClass: .malformed, seq: error.seq, line: index + 1, message: "\(line.topic): \(error.reason)"))
            }
        }
        var chains: [Chain] = []
        for name in order {
            var g = gateways[name]!
            var keyState = KeyState()
            var chain: [Received] = []
            let bySeq = variants[name] ?? [:]
            for seq in bySeq.keys.sorted() {
                chain.append(settle(bySeq[seq]!, keys: &keyState, into: &g))
            }
            g.messages = chain.count
            g.firstSeq = chain.first?.message.seq
            g.lastSeq = chain.last?.message.seq
            g.startsWithChainStart = chain.first?.message.isChainStart ?? false
            checkChain(chain, into: &g)
            g.problems.sort { ($0.seq ?? 0, $0.problemClass) < ($1.seq ?? 0, $1.problemClass) }
            gateways[name] = g
            chains.append(Chain(gateway: name, messages: chain))
        }
        let report = VerifyReport(gateways: order.map { gateways[$0]! }, signaturesChecked: keys != nil, otherLines: other)
        return (report, chains)
    }

    /// Keys learnt and retired along the chain, in `seq` order.
    struct KeyState {
        /// Endorsed by a trusted handover: the key, and the handover's seq (trusted for later messages).
        var endorsed: [String: (key: [UInt8], afterSeq: Int64)] = [:]
        /// Handed over at this seq: the key signs nothing later.
        var retired: [String: Int64] = [:]
    }

    /// The copies of one `seq`: each signature checked; two different copies that both verify (or, without
    /// keys, any two) are equivocation. Returns the copy that stands in the chain.
    func settle(_ copies: [Received], keys state: inout KeyState, into g: inout VerifyReport.Gateway) -> Received {
        let trusted = copies.map { checkSignature($0, state: state, into: &g) }
        if copies.count > 1 {
            let good = keys == nil ? copies.count : trusted.filter { $0 }.count
            if good > 1 {
                g.problems.append(
                    .init(
                        problemClass: .equivocation, seq: copies[0].message.seq, line: copies[1].line,
                        message: "\(copies.count) different messages with this seq (lines \(copies.map { String($0.line) }.joined(separator: ", ")))"))
            }
        }
        let index = trusted.firstIndex(of: true) ?? 0
        takeHandover(copies[index], trusted: trusted[index], state: &state, into: &g)
        return copies[index]
    }

    /// Whether the message's signature verified with a key valid for it (always true without keys).
    func checkSignature(_ r: Received, state: KeyState, into g: inout VerifyReport.Gateway) -> Bool {
        let m = r.message
        let hasMarker = m.signed != nil || m.problems.contains { $0.hasPrefix("sig does not follow") }
        if !hasMarker { g.unsigned += 1 }
        guard let keys else { return true }
        func problem(_ c: VerifyReport.ProblemClass, _ text: String) -> Bool {
            g.problems.append(.init(problemClass: c, seq: m.seq, line: r.line, message: text))
            return false
        }
        guard let signed = m.signed, let kid = m.kid else {
            // A broken signature is malformed, reported as such.
            return hasMarker ? false : problem(.keyError, "unsigned message while keys are given")
        }
        let entries = keys.keys(kid: kid)
        let endorsed = state.endorsed[kid]
        guard let publicKey = entries.first?.publicKey ?? endorsed?.key else {
            return problem(.keyError, "unknown key id \(kid): not in the keys file nor endorsed by a key handover")
        }
        guard crypto.verifyEd25519(signature: signed.signature, message: Array(signed.signed), publicKey: publicKey) else {
            return problem(.badSignature, "the signature does not verify with key \(kid) (altered bytes)")
        }
        if let retired = state.retired[kid], m.seq > retired {
            return problem(.keyError, "key \(kid) was handed over at seq \(retired) and signs no later message")
        }
        if let endorsed, m.seq > endorsed.afterSeq { return valid(kid, &g) }
        if entries.contains(where: { $0.isValid(at: m.time) }) { return valid(kid, &g) }
        if let endorsed, entries.isEmpty {
            return problem(.keyError, "key \(kid) is endorsed only from seq \(endorsed.afterSeq + 1) on")
        }
        return problem(.keyError, "key \(kid) is not valid at the message's time \(m.time) (valid \(entries[0].validity))")
    }

    private func valid(_ kid: String, _ g: inout VerifyReport.Gateway) -> Bool {
        g.verifiedByKey[kid, default: 0] += 1
        return true
    }

    /// A key handover: an endorsed one signed by the old key makes the new key trusted for later messages and
    /// retires the old one; an unendorsed one retires the lost key.
    func takeHandover(_ r: Received, trusted: Bool, state: inout KeyState, into g: inout VerifyReport.Gateway) {
        guard case .keyHandover(let h) = r.message.body else { return }
        let m = r.message
        func problem(_ text: String) {
            g.problems.append(.init(problemClass: .keyError, seq: m.seq, line: r.line, message: text))
        }
        guard KeyID.of(publicKey: h.nextPublicKey, crypto: crypto) == h.nextKid else {
            return problem("key-handover: next_kid \(h.nextKid) is not the key id of next_public_key")
        }
        guard h.endorsed else {
            if trusted, keys != nil, let previous = h.previousKid, previous != h.nextKid, state.retired[previous] == nil {
                state.retired[previous] = m.seq
            }
            return
        }
        if m.kid == h.nextKid || (h.previousKid != nil && h.previousKid != m.kid) {
            return problem("an endorsed key-handover must be signed by the old key (previous_kid), not the new one")
        }
        if trusted, keys != nil, let kid = m.kid {
            if state.endorsed[h.nextKid] == nil { state.endorsed[h.nextKid] = (h.nextPublicKey, m.seq) }
            if state.retired[kid] == nil { state.retired[kid] = m.seq }
        }
    }
}
