import SitegateCore

// What the broker acknowledged moves to the archive (rows marked `acked`), kept for replay requests and for the
// checkpoints that count it, and pruned by age and size; without an archive it is deleted once counted. At once or
// in batches (`BufferTuning.deleteDelay`).
extension OutboxStore {
    /// Settles messages the broker acknowledged: at once, or together with later ones (`BufferTuning.deleteDelay`).
    func acknowledge(_ seqs: [Int64], now: UnixTime) throws(SQLiteError) {
        lastNow = now
        // Only messages still unsent wait (one acknowledged after a drop is gone already): the depth stays exact.
        let exists = statements.exists
        for seq in seqs where !acknowledged.contains(seq) {
            exists.reset()
            exists.bind(1, seq)
            if try exists.step() { acknowledged.insert(seq) }
        }
        exists.reset()
        if acknowledgedSince == nil { acknowledgedSince = now }
        if let since = acknowledgedSince, now - since >= tuning.deleteDelay
            || acknowledged.count >= tuning.deleteBatchLimit
        {
            try deleteAcknowledged(now: now)
        }
    }

    /// Settles the acknowledged messages still waiting, in one transaction.
    func deleteAcknowledged(now: UnixTime) throws(SQLiteError) {
        guard !acknowledged.isEmpty else { return }
        let settled = try database.transaction { () throws(SQLiteError) -> Int in
            let settled = try settleAcknowledged(now: now)
            try storeHead()
            return settled
        }
        depth -= settled
        acknowledged = []
        acknowledgedSince = nil
    }

    /// Inside the caller's transaction: moves the acknowledged messages to the archive (or deletes those nothing
    /// needs any more), then prunes the archive; returns how many unsent rows that settled.
    func settleAcknowledged(now: UnixTime) throws(SQLiteError) -> Int {
        var settled = 0
        let boundary = deletableBelow
        for seq in acknowledged.sorted() {
            if !settings.archives && seq < boundary {
                statements.delete.reset()
                statements.delete.bind(1, seq)
                _ = try statements.delete.step()
                settled += database.changes  // 0 for a message already gone (dropped, or acknowledged twice)
            } else {
                let mark = statements.markAcked
                mark.reset()
                mark.bind(1, seq)
                if try mark.step() {
                    settled += 1
                    archive.count += 1
                    archive.bytes += mark.int64(0)
                }
                mark.reset()
            }
        }
        try pruneArchive(now: now)
        return settled
    }

    /// Deletes archived rows past `buffer.retain` or beyond `buffer.retain_size`, oldest first, but none a
    /// checkpoint has yet to count. Bounded work per call: the rest goes with the next commits.
    func pruneArchive(now: UnixTime) throws(SQLiteError) {
        guard archive.count > 0 else { return }
        let boundary = deletableBelow
        let cutoff = settings.archives ? (now + (.zero - settings.retain)).milliseconds : Int64.max
        let budget = settings.archives ? settings.retainBytes : 0
        let oldest = statements.oldestArchived
        oldest.reset()
        defer { oldest.reset() }
        var doomed: [Int64] = []
        var bytes = archive.bytes
        while doomed.count < 5000, try oldest.step() {
            let seq = oldest.int64(0)
            guard seq < boundary, oldest.int64(1) < cutoff || bytes > budget else { break }
            doomed.append(seq)
            bytes -= oldest.int64(2)
        }
        oldest.reset()
        try deleteArchived(doomed, bytes: archive.bytes - bytes)
    }

    /// Deletes archived rows; the caller knows their payload bytes.
    func deleteArchived(_ seqs: [Int64], bytes: Int64) throws(SQLiteError) {
        for seq in seqs {
            statements.delete.reset()
            statements.delete.bind(1, seq)
            _ = try statements.delete.step()
        }
        archive.count -= seqs.count
        archive.bytes -= bytes
    }

    /// Space is short: the archive gives way to unsent messages, oldest first, about `fraction` of it per call
    /// (all of it at 1). Counted: what a replay can no longer serve.
    func evictArchive(fraction: Double) throws(SQLiteError) -> Int {
        guard archive.count > 0 else { return 0 }
        let wanted = max(1, Int(Double(archive.count) * fraction))
        let evicted = try database.transaction { () throws(SQLiteError) -> Int in
            let rows = try database.prepare(
                "SELECT seq, length(payload) FROM outbox WHERE acked = 1 ORDER BY acked, seq LIMIT \(wanted)")
            var seqs: [Int64] = []
            var bytes: Int64 = 0
            while try rows.step() {
                seqs.append(rows.int64(0))
                bytes += rows.int64(1)
            }
            rows.reset()
            try deleteArchived(seqs, bytes: bytes)
            try database.execute(
                "INSERT INTO meta(key, value) VALUES ('archive_evicted', \(seqs.count)) "
                    + "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value")
            try storeHead()
            return seqs.count
        }
        return evicted
    }

    /// Acknowledged rows below this seq have been counted by a committed checkpoint: the seq of the
    /// second-to-last checkpoint (rows committed before it was committed have ticks in slots the last checkpoint
    /// closed). Without checkpoints (a tool, not the agent), every acknowledged row may go.
    var deletableBelow: Int64 {
        guard tuning.keepsAckedForCheckpoints else { return .max }
        return checkpointSeqs.count >= 2 ? checkpointSeqs[checkpointSeqs.count - 2] : 0
    }

    /// At open: the archive's figures, the checkpoints' seqs.
    func loadArchive() throws(SQLiteError) {
        checkpointSeqs = try loadCheckpointSeqs()
        let figures = try database.prepare("SELECT count(*), total(length(payload)) FROM outbox WHERE acked = 1")
        _ = try figures.step()
        archive = ArchiveFigures(count: Int(figures.int64(0)), bytes: Int64(figures.int64(1)))
        figures.reset()
    }

    /// The seqs of the last two checkpoints, oldest first.
    func loadCheckpointSeqs() throws(SQLiteError) -> [Int64] {
        let s = try database.prepare("SELECT seq FROM slots ORDER BY slot_end_ms DESC LIMIT 2")
        var seqs: [Int64] = []
        while try s.step() { seqs.append(s.int64(0)) }
        return seqs.reversed()
    }
}

/// The archive's running figures: rows and payload bytes.
struct ArchiveFigures: Sendable, Hashable {
    var count = 0
    var bytes: Int64 = 0
}
