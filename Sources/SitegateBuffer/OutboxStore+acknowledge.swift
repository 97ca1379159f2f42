import SitegateCore

// What the broker acknowledged: deleted, or marked and kept until a checkpoint has counted it; at once or in
// batches (`BufferTuning.deleteDelay`).
extension OutboxStore {
    /// Settles messages the broker acknowledged: at once, or together with later ones (`BufferTuning.deleteDelay`).
    func acknowledge(_ seqs: [Int64], now: UnixTime) throws(SQLiteError) {
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
            try deleteAcknowledged()
        }
    }

    /// Settles the acknowledged messages still waiting, in one transaction.
    func deleteAcknowledged() throws(SQLiteError) {
        guard !acknowledged.isEmpty || keptAcked.first.map({ $0 < deletableBelow }) == true else { return }
        let settled = try database.transaction { () throws(SQLiteError) -> Int in
            let settled = try settleAcknowledged()
            try storeHead()
            return settled
        }
        depth -= settled
        acknowledged = []
        acknowledgedSince = nil
    }

    /// Inside the caller's transaction: deletes the acknowledged messages no checkpoint needs any more, marks the
    /// others `acked`; returns how many unsent rows that settled.
    func settleAcknowledged() throws(SQLiteError) -> Int {
        var settled = 0
        let boundary = deletableBelow
        for seq in acknowledged.sorted() {
            let statement = seq < boundary ? statements.delete : statements.markAcked
            statement.reset()
            statement.bind(1, seq)
            _ = try statement.step()
            let changed = database.changes  // 0 for a message already gone (dropped, or acknowledged twice)
            settled += changed
            if changed > 0 && seq >= boundary { keptAcked.append(seq) }
        }
        // Rows kept for a checkpoint that has been committed since.
        let expired = keptAcked.prefix { $0 < boundary }
        if !expired.isEmpty {
            for seq in expired {
                statements.delete.reset()
                statements.delete.bind(1, seq)
                _ = try statements.delete.step()
            }
            keptAcked.removeFirst(expired.count)
        }
        // A checkpoint that never comes (evidence off, a stalled service) must not let the buffer grow.
        if keptAcked.count > Self.keptAckedLimit {
            let excess = keptAcked.count - Self.keptAckedLimit
            for seq in keptAcked.prefix(excess) {
                statements.delete.reset()
                statements.delete.bind(1, seq)
                _ = try statements.delete.step()
            }
            keptAcked.removeFirst(excess)
        }
        return settled
    }

    static let keptAckedLimit = 1_000_000

    /// Acknowledged rows below this seq have been counted by a committed checkpoint: the seq of the
    /// second-to-last checkpoint (rows committed before it was committed have ticks in slots the last checkpoint
    /// closed). Without checkpoints (evidence off), every acknowledged row may go.
    var deletableBelow: Int64 {
        guard tuning.keepsAckedForCheckpoints else { return .max }
        return checkpointSeqs.count >= 2 ? checkpointSeqs[checkpointSeqs.count - 2] : 0
    }

    /// At open: deletes the acknowledged rows no checkpoint needs, remembers the others.
    func deleteAckedRowsBelowBoundary() throws(SQLiteError) {
        checkpointSeqs = try loadCheckpointSeqs()
        // A tool opening the buffer beside a running agent must not delete what the agent's checkpoints need.
        guard tuning.keepsAckedForCheckpoints else { return }
        let boundary = deletableBelow
        try database.transaction { () throws(SQLiteError) in
            let delete = try database.prepare("DELETE FROM outbox WHERE acked = 1 AND seq < ?")
            delete.bind(1, boundary)
            _ = try delete.step()
            try storeHead()
        }
        let kept = try database.prepare("SELECT seq FROM outbox WHERE acked = 1 ORDER BY seq")
        keptAcked = []
        while try kept.step() { keptAcked.append(kept.int64(0)) }
    }

    /// The seqs of the last two checkpoints, oldest first.
    func loadCheckpointSeqs() throws(SQLiteError) -> [Int64] {
        let s = try database.prepare("SELECT seq FROM slots ORDER BY slot_end_ms DESC LIMIT 2")
        var seqs: [Int64] = []
        while try s.step() { seqs.append(s.int64(0)) }
        return seqs.reversed()
    }
}
