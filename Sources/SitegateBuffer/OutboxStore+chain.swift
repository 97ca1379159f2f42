import SitegateCore

/// The chain's end: the last message's seq and the hash of its bytes.
struct ChainHead: Sendable, Hashable {
    var seq: Int64
    var hash: [UInt8]
}

// Sealing messages into the chain (docs/evidence.md): the head, the notices the gateway owes (chain start, key
// handover, gaps), and the checkpoints' slots. Everything here runs inside the caller's transaction.
extension OutboxStore {
    /// The head: the newest row's bytes, or the one stored when that row was deleted.
    func loadHead() throws(SQLiteError) -> ChainHead? {
        let newest = try database.prepare(
            "SELECT seq, payload FROM outbox WHERE seq = (SELECT max(seq) FROM outbox)")
        var fromRow: ChainHead?
        if try newest.step(), !newest.isNull(1) {
            fromRow = ChainHead(seq: newest.int64(0), hash: sealing.sealer.link(to: newest.blob(1)))
        }
        var stored: ChainHead?
        let s = try database.prepare("SELECT (SELECT value FROM chain WHERE key = 'head_seq'), (SELECT value FROM chain WHERE key = 'head_hash')")
        if try s.step(), !s.isNull(0), !s.isNull(1) { stored = ChainHead(seq: s.int64(0), hash: s.blob(1)) }
        // A v1 row (upgrade) is not in the chain: only a stored head or a v2 row counts.
        switch (fromRow, stored) {
        case (let r?, let h?):
            let chained = try isChained(r.seq)
            return r.seq >= h.seq && chained ? r : h
        case (let r?, nil): return try isChained(r.seq) ? r : nil
        case (nil, let h): return h
        }
    }

    /// Whether a row was sealed into the chain (a v1 row from before an upgrade was not).
    private func isChained(_ seq: Int64) throws(SQLiteError) -> Bool {
        let s = try database.prepare("SELECT payload FROM outbox WHERE seq = ?")
        s.bind(1, seq)
        guard try s.step() else { return false }
        return Self.prevMember(in: s.blob(0)) != nil || Self.isChainStart(s.blob(0))
    }

    /// Keeps the head in `chain`: needed when the rows that hold it are deleted.
    func storeHead() throws(SQLiteError) {
        guard let head else { return }
        try database.withCached(
            "INSERT INTO chain(key, value) VALUES ('head_seq', ?), ('head_hash', ?) "
                + "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        ) { (s) throws(SQLiteError) in
            s.bind(1, head.seq)
            s.bind(2, head.hash)
            _ = try s.step()
        }
    }

    static func setPendingStart(_ db: SQLiteDatabase, _ start: ChainStart) throws(SQLiteError) {
        let s = try db.prepare(
            "INSERT INTO chain(key, value) VALUES ('pending_start', ?), ('pending_start_replaced', ?) "
                + "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        s.bind(1, start.reason.rawValue)
        if let replaced = start.replaced { s.bind(2, replaced) }
        _ = try s.step()
    }

    /// Inserts one sealed message; moves the head.
    @discardableResult
    func insertSealed(_ draft: MessageDraft, now: UnixTime, signer: (any MessageSigner)? = nil) throws(SQLiteError) -> Int64 {
        // AUTOINCREMENT hands out max(seq ever) + 1: the number is known before the insert.
        let seq = try nextSeq()
        let payload = sealing.sealer.seal(draft, seq: seq, prev: head?.hash, signer: signer)
        let insert = statements.insert
        insert.reset()
        switch draft.destination {
        case .data(let device): insert.bind(1, device)
        case .evidence: insert.bind(1, "")
        }
        insert.bind(2, draft.time.milliseconds)
        insert.bind(3, now.milliseconds)
        insert.bind(4, payload)
        if let tick = draft.tick { insert.bind(5, tick.milliseconds) }
        if let outcome = draft.outcome { insert.bind(6, Int64(PollOutcome.allCases.firstIndex(of: outcome)!)) }
        _ = try insert.step()
        let inserted = database.lastInsertRowID
        precondition(inserted == seq, "outbox: seq \(inserted) is not the predicted \(seq)")
        seqAfterLastInsert = seq + 1
        head = ChainHead(seq: seq, hash: sealing.sealer.link(to: payload))
        // As a read from the table would return it: the commit time in whole milliseconds.
        insertedMessages.append(
            StoredMessage(
                seq: seq, committedAt: UnixTime(milliseconds: now.milliseconds), destination: draft.destination,
                payload: payload))
        return seq
    }

    func nextSeq() throws(SQLiteError) -> Int64 {
        if let next = seqAfterLastInsert { return next }
        let s = statements.lastSeq
        s.reset()
        defer { s.reset() }
        return (try s.step() ? s.int64(0) : 0) + 1
    }

    /// Seals what the gateway owes before the next messages: a chain start, a key handover, gap notices.
    func sealOwedNotices(now: UnixTime) throws(SQLiteError) {
        let pending = try database.withCached(
            "SELECT (SELECT value FROM chain WHERE key = 'pending_start'), (SELECT value FROM chain WHERE key = 'pending_start_replaced')"
        ) { (start) throws(SQLiteError) -> (ChainStart.Reason, String?)? in
            guard try start.step(), !start.isNull(0), let reason = ChainStart.Reason(rawValue: start.text(0)) else { return nil }
            return (reason, start.isNull(1) ? nil : start.text(1))
        }
        if let (reason, replaced) = pending {
            head = nil
            try insertSealed(ChainStart(reason: reason, replaced: replaced).draft(at: now), now: now)
            try database.execute("DELETE FROM chain WHERE key IN ('pending_start', 'pending_start_replaced')")
        } else if head == nil {
            // No chain to continue and no reason recorded (cannot happen with an intact database): begin one.
            try insertSealed(ChainStart(reason: .newDatabase).draft(at: now), now: now)
        }
        try sealKeyHandover(now: now)
        try sealPendingGaps(now: now)
    }

    /// When the key changed since the last signed message: a handover, signed by the old key if it is there.
    private func sealKeyHandover(now: UnixTime) throws(SQLiteError) {
        // The key cannot change while the store is open: once recorded, there is nothing to look up per commit.
        guard !keyRecorded else { return }
        defer { keyRecorded = true }
        let sealer = sealing.sealer
        let last = try database.prepare("SELECT value FROM chain WHERE key = 'last_kid'")
        let lastKid = try last.step() && !last.isNull(0) ? last.text(0) : nil
        guard let current = sealer.keyID, current != lastKid, let signer = sealer.signer else { return }
        if let lastKid {
            let endorsed = sealing.previousKeyID == lastKid
            let handover = KeyHandover(
                previousKid: lastKid, nextKid: current, nextPublicKey: signer.publicKey, endorsed: endorsed)
            try insertSealed(handover.draft(at: now), now: now, signer: endorsed ? sealing.previousSigner : nil)
        }
        let s = try database.prepare(
            "INSERT INTO chain(key, value) VALUES ('last_kid', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        s.bind(1, current)
        _ = try s.step()
    }

    private func sealPendingGaps(now: UnixTime) throws(SQLiteError) {
        let notices = try database.withCached(
            "SELECT reason, from_seq, to_seq, from_ms, to_ms, first_prev, last_hash FROM pending_gaps ORDER BY from_seq"
        ) { (pending) throws(SQLiteError) -> [GapNotice] in
            var notices: [GapNotice] = []
            while try pending.step() {
                notices.append(
                    GapNotice(
                        reason: GapNotice.Reason(rawValue: pending.text(0)) ?? .bufferBounds, fromSeq: pending.int64(1),
                        toSeq: pending.int64(2), fromTime: UnixTime(milliseconds: pending.int64(3)),
                        toTime: UnixTime(milliseconds: pending.int64(4)),
                        firstPrev: pending.isNull(5) ? nil : pending.blob(5), lastHash: pending.blob(6)))
            }
            return notices
        }
        guard !notices.isEmpty else { return }
        for notice in notices { try insertSealed(notice.draft(at: now), now: now) }
        try database.execute("DELETE FROM pending_gaps")
    }

    /// Records the runs of consecutive seqs about to be deleted unsent (`condition` picks them), for gap notices;
    /// inside the deleting transaction, before the rows go.
    func recordGaps(_ condition: String, reason: GapNotice.Reason) throws(SQLiteError) {
        let rows = try database.prepare(
            "SELECT seq, taken_at_ms, payload FROM outbox WHERE \(condition) ORDER BY seq")
        let insert = try database.prepare(
            "INSERT INTO pending_gaps(reason, from_seq, to_seq, from_ms, to_ms, first_prev, last_hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
        var run: (from: Int64, to: Int64, fromMs: Int64, toMs: Int64, firstPrev: [UInt8]?, lastHash: [UInt8])?
        func flush() throws(SQLiteError) {
            guard let r = run else { return }
            insert.reset()
            insert.bind(1, reason.rawValue)
            insert.bind(2, r.from)
            insert.bind(3, r.to)
            insert.bind(4, r.fromMs)
            insert.bind(5, r.toMs)
            if let p = r.firstPrev { insert.bind(6, p) }
            insert.bind(7, r.lastHash)
            _ = try insert.step()
        }
        while try rows.step() {
            let seq = rows.int64(0)
            let taken = rows.int64(1)
            let payload = rows.blob(2)
            // Messages outside the chain (v1, from before an upgrade) need no bridge.
            guard Self.prevMember(in: payload) != nil || Self.isChainStart(payload) else { continue }
            let hash = sealing.sealer.link(to: payload)
            if var r = run, r.to + 1 == seq {
                r.to = seq
                r.fromMs = min(r.fromMs, taken)
                r.toMs = max(r.toMs, taken)
                r.lastHash = hash
                run = r
            } else {
                try flush()
                run = (seq, seq, taken, taken, Self.prevMember(in: payload), hash)
            }
        }
        try flush()
    }

    /// The `prev` member of a sealed message, decoded; nil when it has none.
    static func prevMember(in payload: [UInt8]) -> [UInt8]? {
        let marker = Array(",\"prev\":\"".utf8)
        // The chain members come right after the first record's base fields: within the first few hundred bytes.
        let limit = min(payload.count, 1024)
        guard let start = payload[..<limit].firstRange(of: marker)?.upperBound,
            payload.count >= start + 43
        else { return nil }
        return Base64.decode(String(decoding: payload[start..<(start + 43)], as: UTF8.self))
    }

    static func isChainStart(_ payload: [UInt8]) -> Bool {
        payload.starts(with: Array("{\"kind\":\"chain-start\"".utf8))
    }
}

// Checkpoints: counting a slot's ticks from the stored rows.
extension OutboxStore {
    func slotTally(from: UnixTime, to: UnixTime) throws(SQLiteError) -> [String: SlotTally] {
        // Rows of ticks at or after `from` were committed after the checkpoint of an earlier slot was: start the
        // scan there, not at the beginning of a backlog of millions.
        let bound = try database.prepare(
            "SELECT seq FROM slots WHERE slot_end_ms < ? ORDER BY slot_end_ms DESC LIMIT 1")
        bound.bind(1, from.milliseconds)
        let after = try bound.step() ? bound.int64(0) : 0
        let s = try database.prepare(
            "SELECT device, outcome, count(*), min(seq), max(seq) FROM outbox "
                + "WHERE seq > ? AND device != '' AND outcome IS NOT NULL AND tick_ms >= ? AND tick_ms < ? "
                + "GROUP BY device, outcome")
        s.bind(1, after)
        s.bind(2, from.milliseconds)
        s.bind(3, to.milliseconds)
        var tallies: [String: SlotTally] = [:]
        while try s.step() {
            let index = Int(s.int64(1))
            guard PollOutcome.allCases.indices.contains(index) else { continue }
            tallies[s.text(0), default: SlotTally()].add(
                PollOutcome.allCases[index], count: Int(s.int64(2)), seqs: s.int64(3)...s.int64(4))
        }
        return tallies
    }

    func lastCheckpointSlot() throws(SQLiteError) -> UnixTime? {
        let s = try database.prepare("SELECT max(slot_end_ms) FROM slots")
        guard try s.step(), !s.isNull(0) else { return nil }
        return UnixTime(milliseconds: s.int64(0))
    }
}
