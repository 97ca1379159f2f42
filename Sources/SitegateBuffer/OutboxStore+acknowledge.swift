import SitegateCore

// Deleting what the broker acknowledged, at once or in batches (`BufferTuning.deleteDelay`).
extension OutboxStore {
    /// Deletes polls the broker acknowledged: at once, or together with later ones (`BufferTuning.deleteDelay`).
    func acknowledge(_ seqs: [Int64], now: UnixTime) throws(SQLiteError) {
        // Only polls still stored wait (one acknowledged after a drop is gone already): the depth stays exact.
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

    /// Deletes the acknowledged polls still waiting, in one transaction.
    func deleteAcknowledged() throws(SQLiteError) {
        guard !acknowledged.isEmpty else { return }
        let deleted = try database.transaction { () throws(SQLiteError) -> Int in try deleteRows(acknowledged) }
        depth -= deleted
        acknowledged = []
        acknowledgedSince = nil
    }

    /// Deletes rows inside the caller's transaction; returns how many existed.
    func deleteRows(_ seqs: Set<Int64>) throws(SQLiteError) -> Int {
        var deleted = 0
        for seq in seqs.sorted() {
            delete.reset()
            delete.bind(1, seq)
            _ = try delete.step()
            deleted += database.changes  // 0 for a poll already gone (dropped, or acknowledged twice)
        }
        return deleted
    }
}
