import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

// Reading messages for the publisher, and the statistics for health and status.
extension OutboxStore {
    /// Up to `limit` unsent messages after `seq` (and before `limitSeq`), leaving out those acknowledged but not
    /// settled yet.
    func messages(after seq: Int64, before limitSeq: Int64? = nil, limit: Int) throws(SQLiteError) -> [StoredMessage] {
        // Asking for as many more rows as may be left out still returns `limit` messages when there are that many.
        let rowLimit = Int64(limit + acknowledged.count)
        let statement: Statement
        if let limitSeq {
            statement = statements.selectRange
            statement.reset()
            statement.bind(1, seq)
            statement.bind(2, limitSeq)
            statement.bind(3, rowLimit)
        } else {
            statement = statements.selectAfter
            statement.reset()
            statement.bind(1, seq)
            statement.bind(2, rowLimit)
        }
        defer { statement.reset() }
        var out: [StoredMessage] = []
        while out.count < limit, try statement.step() {
            if !acknowledged.isEmpty && acknowledged.contains(statement.int64(0)) { continue }
            let device = statement.text(1)
            out.append(
                StoredMessage(
                    seq: statement.int64(0), committedAt: UnixTime(milliseconds: statement.int64(2)),
                    destination: device.isEmpty ? .evidence : .data(device: device), payload: statement.blob(3)))
        }
        return out
    }

    func usedBytes() throws(SQLiteError) -> Int64 {
        let s = try database.prepare(
            "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), pragma_freelist_count(), "
                + "pragma_page_size()")
        _ = try s.step()
        return s.int64(0)
    }

    /// Unsent messages: the running count, no query.
    var unsentCount: Int { depth - acknowledged.count }

    /// Cheap at any depth: the running count, and look-ups by primary key (no scan).
    func stats() throws(SQLiteError) -> BufferStats {
        // The first and last unsent rows not waiting to be settled: steps along the primary key, past the rows
        // kept for a checkpoint (at most a slot's worth), and none at all when nothing is unsent.
        let unsent = depth - acknowledged.count
        let oldest = try database.prepare("SELECT seq, taken_at_ms FROM outbox WHERE acked = 0 ORDER BY seq")
        var hasOldest = unsent > 0 ? try oldest.step() : false
        while hasOldest && acknowledged.contains(oldest.int64(0)) { hasOldest = try oldest.step() }
        let newest = try database.prepare("SELECT seq FROM outbox WHERE acked = 0 ORDER BY seq DESC")
        var hasNewest = unsent > 0 ? try newest.step() : false
        while hasNewest && acknowledged.contains(newest.int64(0)) { hasNewest = try newest.step() }
        let last = try database.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")
        let lastSeq = try last.step() ? last.int64(0) : 0
        var meta: [String: Int64] = [:]
        let m = try database.prepare("SELECT key, value FROM meta")
        while try m.step() { meta[m.text(0)] = m.int64(1) }
        var fileBytes: Int64 = 0
        for suffix in ["", "-wal"] {
            var st = stat()
            if stat(settings.path + suffix, &st) == 0 { fileBytes += Int64(st.st_size) }
        }
        var archiveStats = ArchiveStats()
        archiveStats.count = archive.count
        archiveStats.bytes = archive.bytes
        archiveStats.evicted = Int(meta["archive_evicted"] ?? 0)
        archiveStats.maxBytes = settings.archives ? settings.retainBytes : 0
        archiveStats.retain = settings.archives ? settings.retain : .zero
        if archive.count > 0 {
            let first = statements.oldestArchived
            first.reset()
            if try first.step() {
                archiveStats.oldestSeq = first.int64(0)
                archiveStats.oldestCommittedAt = UnixTime(milliseconds: first.int64(1))
            }
            first.reset()
        }
        return BufferStats(
            depth: depth - acknowledged.count,
            oldestSeq: hasOldest ? oldest.int64(0) : nil,
            oldestTakenAt: hasOldest ? UnixTime(milliseconds: oldest.int64(1)) : nil,
            newestSeq: hasNewest ? newest.int64(0) : nil,
            firstSeq: meta["first_seq"] ?? 1,
            lastSeq: lastSeq,
            usedBytes: try usedBytes(),
            fileBytes: fileBytes,
            maxBytes: settings.maxBytes,
            drops: DropReport(
                count: Int(meta["drops"] ?? 0), oldest: meta["drops_oldest_ms"].map(UnixTime.init(milliseconds:)),
                newest: meta["drops_newest_ms"].map(UnixTime.init(milliseconds:))),
            archive: archiveStats)
    }
}
