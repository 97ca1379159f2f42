import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

// Reading messages for the publisher, and the statistics for health and status.
extension OutboxStore {
    /// Up to `limit` unsent messages after `seq` (and before `limitSeq`): stretch by stretch between the settled
    /// ranges and the acknowledgements waiting, along the primary key.
    func messages(after seq: Int64, before limitSeq: Int64? = nil, limit: Int) throws(SQLiteError) -> [StoredMessage] {
        let ceiling = limitSeq ?? .max
        let s = statements.selectRange
        defer { s.reset() }
        var out: [StoredMessage] = []
        for gap in unsentGaps where gap.before > seq + 1 {
            guard out.count < limit, gap.after < ceiling - 1 else { break }
            let cursor = max(seq, gap.after)
            let upper = min(gap.before, ceiling)
            s.reset()
            s.bind(1, cursor)
            s.bind(2, upper)
            s.bind(3, Int64(limit - out.count))
            while try s.step() {
                let device = s.text(1)
                out.append(
                    StoredMessage(
                        seq: s.int64(0), committedAt: UnixTime(milliseconds: s.int64(2)),
                        destination: device.isEmpty ? .evidence : .data(device: device), payload: s.blob(3)))
            }
        }
        return out
    }

    func usedBytes() throws(SQLiteError) -> Int64 {
        try database.withCached(
            "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), pragma_freelist_count(), "
                + "pragma_page_size()"
        ) { (s) throws(SQLiteError) in
            _ = try s.step()
            return s.int64(0)
        }
    }

    /// Unsent messages: the running count, no query.
    var unsentCount: Int { depth - acknowledged.count }

    /// Cheap at any depth: the running count, and look-ups by primary key (no scan).
    func stats() throws(SQLiteError) -> BufferStats {
        // The first and last unsent rows not waiting to be settled: look-ups along the primary key between the
        // settled ranges, none at all when nothing is unsent.
        let unsent = depth - acknowledged.count
        let oldest = unsent > 0 ? try firstUnsent() : nil
        let newest = unsent > 0 ? try lastUnsent() : nil
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
        if archive.count > 0, let first = try firstArchived() {
            archiveStats.oldestSeq = first.seq
            archiveStats.oldestCommittedAt = UnixTime(milliseconds: first.committedAt)
        }
        return BufferStats(
            depth: depth - acknowledged.count,
            oldestSeq: oldest?.seq,
            oldestTakenAt: oldest.map { UnixTime(milliseconds: $0.takenAt) },
            newestSeq: newest,
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
