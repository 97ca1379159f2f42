extension PublisherStateMachine {
    /// One refill of the window: live polls first, then the backlog, one `.fetch` or `.publish` at a time.
    struct Fill: Sendable {
        enum Phase: Sendable {
            /// Reading live polls; fewer than `requested` back means none are left.
            case live(requested: Int)
            case backlog
        }

        var phase: Phase
        var batch: [StoredMessage] = []
        var next = 0
        /// Room left for backlog polls (a poll whose ack came before its id frees none).
        var room = 0
        /// The poll whose `.publish` awaits its result.
        var pending: StoredMessage?
    }

    /// Hands polls over until the window is full.
    mutating func startFill() -> [Action] {
        let room = window - ledger.inflightCount
        if room > 0 && dirty {
            fill = Fill(phase: .live(requested: room))
            return [.fetch(.live(after: max(liveCursor, liveFrom - 1), limit: room))]
        }
        fill = Fill(phase: .backlog)
        return fetchBacklog(room: room)
    }

    /// The result of the fill's last action.
    mutating func continueFill(after event: Event) -> [Action] {
        guard var f = fill else { return [] }
        switch event {
        case .fetched(let polls):
            if case .backlog = f.phase, polls.isEmpty {
                backlogDone = true
                return endFill()
            }
            f.batch = polls
            f.next = 0
            fill = f
            return nextPublish()
        case .published(let mid):
            guard let stored = f.pending else { return [] }
            f.pending = nil
            var actions: [Action] = []
            committedAt[stored.seq] = stored.committedAt
            if let early = ledger.register(mid: mid, seq: stored.seq) {
                acked.append(early)
                actions += done(early)
            }
            switch f.phase {
            case .live: liveCursor = stored.seq
            case .backlog:
                f.room -= 1
                backlogCursor = stored.seq
            }
            fill = f
            return actions + nextPublish()
        default:
            // A failed read, or a publish the client would not take: the rest waits for the next fill.
            return endFill()
        }
    }

    private mutating func nextPublish() -> [Action] {
        guard var f = fill else { return [] }
        switch f.phase {
        case .live(let requested):
            if f.next < f.batch.count {
                defer { fill = f }
                return publish(&f)
            }
            if f.batch.count < requested { dirty = false }
            return fetchBacklog(room: window - ledger.inflightCount)
        case .backlog:
            while f.next < f.batch.count && f.room > 0 {
                // In-flight polls of an earlier session are skipped: the client re-sends those itself. So are polls
                // acknowledged but not deleted yet (the rescan after a reconnect would send them again).
                let seq = f.batch[f.next].seq
                if !ledger.isInflight(seq: seq) && !acked.contains(seq) {
                    defer { fill = f }
                    return publish(&f)
                }
                backlogCursor = seq
                f.next += 1
            }
            return fetchBacklog(room: f.room)
        }
    }

    private func publish(_ f: inout Fill) -> [Action] {
        let stored = f.batch[f.next]
        f.next += 1
        f.pending = stored
        return [.publish(stored, backlog: stored.committedAt < sessionStart)]
    }

    private mutating func fetchBacklog(room: Int) -> [Action] {
        guard room > 0 && !backlogDone else { return endFill() }
        fill = Fill(phase: .backlog, room: room)
        return [.fetch(.backlog(after: backlogCursor, before: liveFrom, limit: room + ledger.inflightCount))]
    }

    private mutating func endFill() -> [Action] {
        fill = nil
        return settle()
    }
}
