import SitegateCore

// Which stored messages the broker acknowledged: a few ranges of seqs in table `settled`, not a mark in every row.
// A row is then written once, when it is committed, and deleted once, when the archive lets it go; marking each
// acknowledged row rewrote its page and an index entry, a third of the bytes written to flash
// (docs/performance.md, "Flash wear").
//
// Every row whose seq lies in a settled range was acknowledged (it is archived); seqs in a range may have no row
// (pruned, or deleted without an archive). Every other row is unsent. New rows take seqs above every range, so a
// stretch between two ranges that holds no row never will, and the two ranges can merge.
extension OutboxStore {
    /// The stretches that may hold unsent rows (outside the settled ranges and the acknowledgements waiting), as
    /// exclusive bounds, in seq order; the last is open above.
    var unsentGaps: [(after: Int64, before: Int64)] {
        var excluded = settled
        for range in acknowledgedRanges.ranges { excluded.insert(range) }
        var gaps: [(after: Int64, before: Int64)] = []
        var after: Int64 = 0
        for range in excluded.ranges {
            if range.lowerBound > after + 1 { gaps.append((after, range.lowerBound)) }
            after = range.upperBound
        }
        gaps.append((after, .max))
        return gaps
    }

    /// Acknowledged, in a settled range or waiting to be settled: served by replays, not sent again.
    func isArchived(_ seq: Int64) -> Bool {
        settled.contains(seq) || acknowledged[seq] != nil
    }

    /// `seq` not in a settled range, as SQL (the waiting acknowledgements are not in it: callers settle first).
    var unsentCondition: String {
        guard !settled.isEmpty else { return "1" }
        return "NOT (" + settled.ranges.map { "seq BETWEEN \($0.lowerBound) AND \($0.upperBound)" }.joined(separator: " OR ") + ")"
    }

    /// Tests: whether the running figures agree with the rows: each acknowledgement waiting is a row that is there,
    /// with the size it was counted with, and the unsent count is what counting the rows gives.
    func figuresAgreeWithRows() throws(SQLiteError) -> Bool {
        let s = try database.prepare("SELECT length(payload) FROM outbox WHERE seq = ?")
        for (seq, size) in acknowledged {
            s.reset()
            s.bind(1, seq)
            guard try s.step(), s.int64(0) == size else { return false }
        }
        return try countUnsent() == unsentCount
    }

    /// Unsent rows, counted stretch by stretch along the primary key: once, when the buffer opens.
    func countUnsent() throws(SQLiteError) -> Int {
        let s = try database.prepare("SELECT count(*) FROM outbox WHERE seq > ? AND seq < ?")
        var total = 0
        for gap in unsentGaps {
            s.reset()
            s.bind(1, gap.after)
            s.bind(2, gap.before)
            _ = try s.step()
            total += Int(s.int64(0))
        }
        return total
    }

    /// The oldest unsent row: its seq and when it was taken.
    func firstUnsent() throws(SQLiteError) -> (seq: Int64, takenAt: Int64)? {
        let s = try database.prepare("SELECT seq, taken_at_ms FROM outbox WHERE seq > ? AND seq < ? ORDER BY seq")
        for gap in unsentGaps {
            s.reset()
            s.bind(1, gap.after)
            s.bind(2, gap.before)
            if try s.step() { return (s.int64(0), s.int64(1)) }
        }
        return nil
    }

    /// The newest unsent row.
    func lastUnsent() throws(SQLiteError) -> Int64? {
        let s = try database.prepare("SELECT seq FROM outbox WHERE seq > ? AND seq < ? ORDER BY seq DESC")
        for gap in unsentGaps.reversed() {
            s.reset()
            s.bind(1, gap.after)
            s.bind(2, gap.before)
            if try s.step() { return s.int64(0) }
        }
        return nil
    }

    /// The oldest archived row: its seq and commit time.
    func firstArchived() throws(SQLiteError) -> (seq: Int64, committedAt: Int64)? {
        let s = statements.archivedRows
        defer { s.reset() }
        for range in settled.ranges {
            s.reset()
            s.bind(1, range.lowerBound)
            s.bind(2, range.upperBound)
            if try s.step() { return (s.int64(0), s.int64(1)) }
        }
        return nil
    }

    /// Inside the caller's transaction: `next` becomes the settled ranges, written as the difference to what
    /// `settled` holds (usually one range grown: one row). Stretches between ranges that hold no row are merged
    /// first, so the ranges stay few.
    func storeSettled(_ next: SeqRanges) throws(SQLiteError) {
        var merged = next
        if merged.ranges.count > 1 {
            let probe = statements.anyRowBetween
            var kept: [ClosedRange<Int64>] = [merged.ranges[0]]
            for range in merged.ranges.dropFirst() {
                probe.reset()
                probe.bind(1, kept[kept.count - 1].upperBound)
                probe.bind(2, range.lowerBound)
                let holdsRows = try probe.step()
                probe.reset()
                if holdsRows {
                    kept.append(range)
                } else {
                    kept[kept.count - 1] = kept[kept.count - 1].lowerBound...range.upperBound
                }
            }
            merged = SeqRanges(kept)
        }
        let before = Set(settled.ranges)
        let after = Set(merged.ranges)
        for gone in before.subtracting(after) {
            statements.deleteSettled.reset()
            statements.deleteSettled.bind(1, gone.lowerBound)
            _ = try statements.deleteSettled.step()
        }
        for new in after.subtracting(before) {
            statements.storeSettled.reset()
            statements.storeSettled.bind(1, new.lowerBound)
            statements.storeSettled.bind(2, new.upperBound)
            _ = try statements.storeSettled.step()
        }
        settled = merged
    }

    /// At open.
    func loadSettled() throws(SQLiteError) -> SeqRanges {
        let s = try database.prepare("SELECT first, last FROM settled ORDER BY first")
        var ranges: [ClosedRange<Int64>] = []
        while try s.step() { ranges.append(s.int64(0)...s.int64(1)) }
        return SeqRanges(ranges)
    }

    /// A buffer written by the version that marked rows (`acked`, indexed on `(acked, seq)`): the marks become
    /// ranges and the index goes. Once, inside the opening transaction.
    static func moveMarksToRanges(_ db: SQLiteDatabase) throws(SQLiteError) {
        let index = try db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'outbox_state'")
        let marked = try index.step()
        index.reset()
        guard marked else { return }
        let rows = try db.prepare("SELECT seq, acked FROM outbox ORDER BY seq")
        var ranges: [ClosedRange<Int64>] = []
        var run: ClosedRange<Int64>?
        while try rows.step() {
            let seq = rows.int64(0)
            if rows.int64(1) == 1 {
                run = run.map { $0.lowerBound...seq } ?? seq...seq
            } else if let r = run {
                ranges.append(r)
                run = nil
            }
        }
        if let run { ranges.append(run) }
        rows.reset()
        let insert = try db.prepare("INSERT OR REPLACE INTO settled(first, last) VALUES (?, ?)")
        for range in ranges {
            insert.reset()
            insert.bind(1, range.lowerBound)
            insert.bind(2, range.upperBound)
            _ = try insert.step()
        }
        try db.execute("DROP INDEX outbox_state")
    }
}
