import SitegateCore

// What the broker acknowledged joins the settled ranges (`+settled`) and stays as the archive, kept for replay
// requests and for the checkpoints that count it, and pruned by age and size; without an archive it is deleted once
// counted. At once or in batches (`BufferTuning.deleteDelay`).
extension OutboxStore {
    /// Settles messages the broker acknowledged: at once, or together with later ones (`BufferTuning.deleteDelay`).
    func acknowledge(_ seqs: [Int64], now: UnixTime) throws(SQLiteError) {
        lastNow = now
        // Only messages still unsent wait (one acknowledged after a drop is gone already): the depth stays exact.
        // The latest commits' sizes are in memory (`RecentSizes`). Others (a backlog) are read, one range read per
        // run of consecutive seqs, not one look-up (and one read transaction, with its file locks) per message.
        var unknown: [Int64] = []
        for seq in seqs where acknowledged[seq] == nil && !settled.contains(seq) {
            if let size = recentSizes.size(of: seq) {
                acknowledged[seq] = size
                acknowledgedRanges.insert(seq...seq)
            } else {
                unknown.append(seq)
            }
        }
        let waiting = SeqRanges(increasing: unknown.sorted())
        let sizes = statements.payloadSizes
        defer { sizes.reset() }
        for run in waiting.ranges {
            sizes.reset()
            sizes.bind(1, run.lowerBound)
            sizes.bind(2, run.upperBound)
            while try sizes.step() {
                let seq = sizes.int64(0)
                acknowledged[seq] = sizes.int64(1)
                acknowledgedRanges.insert(seq...seq)
            }
        }
        if acknowledgedSince == nil && !acknowledged.isEmpty { acknowledgedSince = now }
        if settlingIsDue(now: now, alone: true) { try deleteAcknowledged(now: now) }
    }

    /// The acknowledgements waiting have waited `BufferTuning.deleteDelay`, or are `deleteBatchLimit` many. On
    /// their own (a transaction of their own, at an acknowledgement) only after twice as long: the next commit of
    /// new polls takes them first whenever polls come more often than that.
    func settlingIsDue(now: UnixTime, alone: Bool = false) -> Bool {
        guard let since = acknowledgedSince else { return false }
        let delay = alone ? tuning.deleteDelay * 2 : tuning.deleteDelay
        return now - since >= delay || acknowledged.count >= tuning.deleteBatchLimit
    }

    /// After the transaction that settled them committed.
    func forgetSettledAcknowledgements() {
        acknowledged = [:]
        acknowledgedRanges = SeqRanges()
        acknowledgedSince = nil
    }

    /// Settles the acknowledged messages still waiting, in one transaction.
    func deleteAcknowledged(now: UnixTime) throws(SQLiteError) {
        guard !acknowledged.isEmpty else { return }
        let settledCount = try transaction { () throws(SQLiteError) -> Int in
            let settledCount = try settleAcknowledged(now: now)
            try storeHead()
            return settledCount
        }
        depth -= settledCount
        forgetSettledAcknowledgements()
    }

    /// Inside the caller's transaction: the acknowledged messages join the settled ranges and the archive (or are
    /// deleted when nothing needs them any more), then the archive is pruned; returns how many unsent rows that
    /// settled.
    func settleAcknowledged(now: UnixTime) throws(SQLiteError) -> Int {
        var settledCount = 0
        if !acknowledged.isEmpty {
            let boundary = deletableBelow
            var next = settled
            for (seq, bytes) in acknowledged.sorted(by: { $0.key < $1.key }) {
                next.insert(seq...seq)
                if !settings.archives && seq < boundary {
                    statements.delete.reset()
                    statements.delete.bind(1, seq)
                    _ = try statements.delete.step()
                    settledCount += database.changes  // 0 for a message already gone (dropped)
                } else {
                    settledCount += 1
                    archive.count += 1
                    archive.bytes += bytes
                }
            }
            try storeSettled(next)
        }
        try pruneArchive(now: now)
        return settledCount
    }

    /// Deletes archived rows past `buffer.retain` or beyond `buffer.retain_size`, oldest first, but none a
    /// checkpoint has yet to count. Bounded work per call: the rest goes with the next commits.
    func pruneArchive(now: UnixTime) throws(SQLiteError) {
        guard archive.count > 0 else { return }
        let cutoff = settings.archives ? (now + (.zero - settings.retain)).milliseconds : Int64.max
        let budget = settings.archives ? settings.retainBytes : 0
        try deleteOldestArchived(below: deletableBelow, atMost: 5000) { committedAt, bytesLeft in
            committedAt < cutoff || bytesLeft > budget
        }
    }

    /// Deletes archived rows, oldest first, while `doomed(committedAt, archiveBytes)` says so, below `boundary`
    /// and at most `limit` of them; returns how many went. Ranges left without rows are dropped from `settled`.
    @discardableResult
    func deleteOldestArchived(below boundary: Int64, atMost limit: Int, while doomed: (Int64, Int64) -> Bool)
        throws(SQLiteError) -> Int
    {
        let rows = statements.archivedRows
        defer { rows.reset() }
        var deleted = 0
        var bytes = archive.bytes
        var emptied: [ClosedRange<Int64>] = []
        ranges: for range in settled.ranges where range.lowerBound < boundary {
            let top = min(range.upperBound, boundary - 1)
            rows.reset()
            rows.bind(1, range.lowerBound)
            rows.bind(2, top)
            var last: Int64?
            var stopped = false
            while deleted < limit {
                guard try rows.step() else { break }
                guard doomed(rows.int64(1), bytes) else {
                    stopped = true
                    break
                }
                last = rows.int64(0)
                bytes -= rows.int64(2)
                deleted += 1
            }
            rows.reset()
            if let last {
                // Every row in a settled range is archived: one ranged delete. A later acknowledgement of one of
                // them (a duplicate PUBACK) must find it gone: its size is no longer known in memory either.
                recentSizes.forget(through: last)
                statements.deleteRange.reset()
                statements.deleteRange.bind(1, range.lowerBound)
                statements.deleteRange.bind(2, last)
                _ = try statements.deleteRange.step()
            }
            if stopped || deleted >= limit || top < range.upperBound { break ranges }
            emptied.append(range)
        }
        archive.count -= deleted
        archive.bytes = bytes
        if !emptied.isEmpty {
            // Out of the settled ranges, their seqs would pass for unsent ones: not known in memory any more.
            if let top = emptied.last { recentSizes.forget(through: top.upperBound) }
            try storeSettled(SeqRanges(settled.ranges.filter { !emptied.contains($0) }))
        }
        return deleted
    }

    /// Space is short: the archive gives way to unsent messages, oldest first, about `fraction` of it per call
    /// (all of it at 1). Counted: what a replay can no longer serve.
    func evictArchive(fraction: Double) throws(SQLiteError) -> Int {
        guard archive.count > 0 else { return 0 }
        let wanted = max(1, Int(Double(archive.count) * fraction))
        let evicted = try transaction { () throws(SQLiteError) -> Int in
            let evicted = try deleteOldestArchived(below: .max, atMost: wanted) { _, _ in true }
            try database.execute(
                "INSERT INTO meta(key, value) VALUES ('archive_evicted', \(evicted)) "
                    + "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value")
            try storeHead()
            return evicted
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

    /// At open: the archive's figures (rows in the settled ranges), the checkpoints' seqs.
    func loadArchive() throws(SQLiteError) {
        checkpointSeqs = try loadCheckpointSeqs()
        let figures = try database.prepare("SELECT count(*), total(length(payload)) FROM outbox WHERE seq BETWEEN ? AND ?")
        archive = ArchiveFigures()
        for range in settled.ranges {
            figures.reset()
            figures.bind(1, range.lowerBound)
            figures.bind(2, range.upperBound)
            _ = try figures.step()
            archive.count += Int(figures.int64(0))
            archive.bytes += Int64(figures.int64(1))
        }
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
