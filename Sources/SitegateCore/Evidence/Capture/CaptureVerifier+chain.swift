extension CaptureVerifier {
    /// Links in `seq` order; holes bridged by gap notices or declared by a chain start. The first message has no
    /// predecessor in the capture: its `prev` is not checked.
    func checkChain(_ messages: [Received], into g: inout VerifyReport.Gateway) {
        var runs: [(run: ChainMessage.GapRun, notice: Int64)] = []
        for r in messages {
            if case .gap(let run) = r.message.body { runs.append((run, r.message.seq)) }
        }
        runs.sort { ($0.run.fromSeq, $0.run.toSeq) < ($1.run.fromSeq, $1.run.toSeq) }
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
                if let prev = after.prev, prev != a.hash {
                    g.problems.append(
                        .init(
                            problemClass: .brokenLink, seq: after.seq, line: b.line,
                            message: "prev is not the hash of seq \(before.seq) (altered, inserted or reordered messages)"))
                }
                continue
            }
            bridge(from: a, to: b, runs: runs, into: &g)
        }
    }

    /// The hole between `a` and `b`: every missing number declared by a gap run, and the runs linking `a` to `b`.
    func bridge(
        from a: Received, to b: Received, runs: [(run: ChainMessage.GapRun, notice: Int64)], into g: inout VerifyReport.Gateway
    ) {
        let high = b.message.seq - 1
        var position = a.message.seq + 1
        // The hash the next number's prev must hold, when known.
        var link: [UInt8]? = a.hash
        var lastTime = a.message.time
        func undeclared(_ from: Int64, _ to: Int64) {
            g.holes.append(.init(fromSeq: from, toSeq: to, declaredReason: nil, fromTime: lastTime, toTime: b.message.time))
            g.problems.append(
                .init(
                    problemClass: .undeclaredGap, seq: from, toSeq: to,
                    message: "\(to - from + 1) missing, not declared by a gap notice or chain-start: lost after the gateway"))
        }
        for (run, notice) in runs where run.toSeq >= position && run.fromSeq <= high {
            if run.fromSeq > position {
                if run.firstPrev == nil {
                    // The run begins with a deleted chain-start, which declared what lies before it.
                    g.holes.append(
                        .init(
                            fromSeq: position, toSeq: run.fromSeq - 1, declaredReason: "chain-start", fromTime: lastTime,
                            toTime: run.fromTime ?? b.message.time))
                } else {
                    undeclared(position, run.fromSeq - 1)
                }
            } else if run.fromSeq == position, let expected = link, let firstPrev = run.firstPrev, firstPrev != expected {
                g.problems.append(
                    .init(
                        problemClass: .brokenLink, seq: b.message.seq, line: b.line,
                        message: "the gap notice at seq \(notice) (from_seq \(run.fromSeq)): first_prev is not the hash of seq \(run.fromSeq - 1)"))
            }
            let from = max(run.fromSeq, position), to = min(run.toSeq, high)
            g.holes.append(
                .init(
                    fromSeq: from, toSeq: to, declaredReason: run.reason, fromTime: run.fromTime ?? lastTime,
                    toTime: run.toTime ?? b.message.time))
            link = run.lastHash
            lastTime = run.toTime ?? lastTime
            position = run.toSeq + 1
            if position > high { break }
        }
        if position <= high {
            undeclared(position, high)
            link = nil
        }
        if position == high + 1, let expected = link, let prev = b.message.prev, prev != expected {
            g.problems.append(
                .init(
                    problemClass: .brokenLink, seq: b.message.seq, line: b.line,
                    message: "prev is not the last_hash declared for seq \(high)"))
        }
    }
}
