/// `sitegate verify`: checks a capture by the rules of docs/evidence.md, "Verifying a capture": form, signatures
/// and keys, duplicates, chain links and declared gaps. Pure: the crypto is passed in.
public struct CaptureVerifier: Sendable {
    public let crypto: any EvidenceCrypto
    /// nil: signatures are not checked (form and chain only).
    public let keys: KeysFile?

    public init(crypto: any EvidenceCrypto, keys: KeysFile?) {
        self.crypto = crypto
        self.keys = keys
    }

    /// A well-formed message and where it was first seen.
    public struct Received: Sendable {
        public var message: ChainMessage
        public var line: Int
        public var hash: [UInt8]
    }

    /// The messages of one gateway in `seq` order (first copy of each), for the audit.
    public struct Chain: Sendable {
        public var gateway: String
        public var messages: [Received]
    }

    /// Verifies the capture's lines (line numbers are 1-based positions in `lines`).
    public func verify(_ lines: [CaptureRecord]) -> (report: VerifyReport, chains: [Chain]) {
        var order: [String] = []
        var gateways: [String: VerifyReport.Gateway] = [:]
        var bySeq: [String: [Int64: Received]] = [:]
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
                if let earlier = bySeq[gateway]?[message.seq] {
                    if earlier.message.payload == message.payload {
                        gateways[gateway]!.redeliveries += 1
                    } else {
                        gateways[gateway]!.problems.append(
                            .init(
                                problemClass: .equivocation, seq: message.seq, line: index + 1,
                                message: "same seq as line \(earlier.line) with different bytes"))
                    }
                } else {
                    bySeq[gateway, default: [:]][message.seq] = Received(
                        message: message, line: index + 1, hash: crypto.sha256(message.payload))
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
            let messages = (bySeq[name] ?? [:]).values.sorted { $0.message.seq < $1.message.seq }
            g.messages = messages.count
            g.firstSeq = messages.first?.message.seq
            g.lastSeq = messages.last?.message.seq
            g.startsWithChainStart = messages.first?.message.isChainStart ?? false
            if let keys { checkSignatures(messages, keys: keys, into: &g) }
            checkChain(messages, into: &g)
            g.problems.sort { ($0.seq ?? 0, $0.problemClass) < ($1.seq ?? 0, $1.problemClass) }
            gateways[name] = g
            chains.append(Chain(gateway: name, messages: messages))
        }
        let report = VerifyReport(gateways: order.map { gateways[$0]! }, signaturesChecked: keys != nil, otherLines: other)
        return (report, chains)
    }

    /// Each signature with the key its `kid` names: from the keys file, or endorsed by an earlier handover.
    func checkSignatures(_ messages: [Received], keys: KeysFile, into g: inout VerifyReport.Gateway) {
        // Keys learnt from endorsed handovers: trusted for messages after the handover's seq.
        var endorsed: [String: (key: KeysFile.Key, afterSeq: Int64)] = [:]
        for r in messages {
            let m = r.message
            func problem(_ c: VerifyReport.ProblemClass, _ text: String) {
                g.problems.append(.init(problemClass: c, seq: m.seq, line: r.line, message: text))
            }
            guard let signed = m.signed, let kid = m.kid else {
                g.unsigned += 1
                problem(.keyError, "unsigned message while keys are given")
                continue
            }
            var candidates = keys.keys(kid: kid)
            if let e = endorsed[kid], m.seq > e.afterSeq { candidates.append(e.key) }
            guard let key = candidates.first else {
                problem(.keyError, "unknown key id \(kid): not in the keys file nor endorsed by a key handover")
                continue
            }
            guard crypto.verifyEd25519(signature: signed.signature, message: Array(signed.signed), publicKey: key.publicKey)
            else {
                problem(.badSignature, "the signature does not verify with key \(kid) (altered bytes)")
                continue
            }
            guard candidates.contains(where: { $0.isValid(at: m.time) }) else {
                problem(.keyError, "key \(kid) is not valid at the message's time \(m.time) (valid \(key.validity))")
                continue
            }
            g.verifiedByKey[kid, default: 0] += 1
            if case .keyHandover(let h) = m.body, h.endorsed {
                guard KeyID.of(publicKey: h.nextPublicKey, crypto: crypto) == h.nextKid else {
                    problem(.keyError, "key-handover: next_kid is not the id of next_public_key")
                    continue
                }
                let key = KeysFile.Key(
                    publicKey: h.nextPublicKey, kid: h.nextKid, from: m.time, origin: "key-handover at seq \(m.seq)")
                endorsed[h.nextKid] = (key, m.seq)
            }
        }
    }

    /// Links in `seq` order; holes bridged by gap notices or declared by a chain start.
    func checkChain(_ messages: [Received], into g: inout VerifyReport.Gateway) {
        var runs: [ChainMessage.GapRun] = []
        var noticeSeq: [ChainMessage.GapRun: Int64] = [:]
        for r in messages {
            if case .gap(let run) = r.message.body, noticeSeq[run] == nil {
                runs.append(run)
                noticeSeq[run] = r.message.seq
            }
        }
        runs.sort { ($0.fromSeq, $0.toSeq) < ($1.fromSeq, $1.toSeq) }
        for (a, b) in zip(messages, messages.dropFirst()) {
            let before = a.message, after = b.message
            if after.isChainStart {
                if after.seq > before.seq + 1 {
                    g.holes.append(
                        .init(
                            fromSeq: before.seq + 1, toSeq: after.seq - 1, declaredReason: "chain-start",
                            fromTime: before.time, toTime: after.time))
                }
                continue
            }
            if after.seq == before.seq + 1 {
                if after.prev != a.hash {
                    g.problems.append(
                        .init(
                            problemClass: .brokenLink, seq: after.seq, line: b.line,
                            message: "prev is not the hash of seq \(before.seq) (altered, inserted or reordered messages)"))
                }
                continue
            }
            bridge(from: a, to: b, runs: runs.filter { $0.fromSeq > before.seq && $0.toSeq < after.seq },
                noticeSeq: noticeSeq, into: &g)
        }
    }

    /// The hole between `a` and `b`: covered exactly by gap runs that link `a` to `b`, or undeclared in part.
    func bridge(
        from a: Received, to b: Received, runs: [ChainMessage.GapRun], noticeSeq: [ChainMessage.GapRun: Int64],
        into g: inout VerifyReport.Gateway
    ) {
        var cursor = a.message.seq + 1
        // The hash the next message (received or declared) must name as its prev; nil after an undeclared part.
        var expected: [UInt8]? = a.hash
        var lastTime = a.message.time
        func undeclared(_ from: Int64, _ to: Int64, until time: UnixTime) {
            g.holes.append(.init(fromSeq: from, toSeq: to, declaredReason: nil, fromTime: lastTime, toTime: time))
            g.problems.append(
                .init(
                    problemClass: .undeclaredGap, seq: from, toSeq: to,
                    message: "\(to - from + 1) missing, not declared by a gap notice: lost after the gateway"))
        }
        for run in runs where run.fromSeq >= cursor {
            if run.fromSeq > cursor {
                undeclared(cursor, run.fromSeq - 1, until: run.fromTime ?? b.message.time)
                expected = nil
            }
            let notice = noticeSeq[run] ?? 0
            if let expected, let firstPrev = run.firstPrev, firstPrev != expected {
                g.problems.append(
                    .init(
                        problemClass: .brokenLink, seq: notice,
                        message: "gap notice for seq \(run.fromSeq)..\(run.toSeq): first_prev is not the hash of seq \(run.fromSeq - 1)"))
            }
            g.holes.append(
                .init(
                    fromSeq: run.fromSeq, toSeq: run.toSeq, declaredReason: run.reason, fromTime: run.fromTime ?? lastTime,
                    toTime: run.toTime ?? b.message.time))
            expected = run.lastHash
            lastTime = run.toTime ?? lastTime
            cursor = run.toSeq + 1
        }
        if cursor < b.message.seq {
            undeclared(cursor, b.message.seq - 1, until: b.message.time)
            expected = nil
        }
        if let expected, b.message.prev != expected {
            g.problems.append(
                .init(
                    problemClass: .brokenLink, seq: b.message.seq, line: b.line,
                    message: "prev is not the last_hash of the gap notice that ends at seq \(b.message.seq - 1)"))
        }
    }
}
