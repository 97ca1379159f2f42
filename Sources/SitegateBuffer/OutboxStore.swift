import CSQLite
import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

/// The outbox's SQLite side, used from the buffer thread only (see `Outbox`).
///
/// Table `outbox`: one row per device poll, `seq INTEGER PRIMARY KEY AUTOINCREMENT`, so sequence numbers are
/// gateway-wide, strictly increasing and never reused. A new database starts its sequence at its creation time in
/// milliseconds × 1000: numbers keep increasing when a buffer is replaced (corruption, a deleted file), as long as
/// the clock is right. Table `meta` keeps the drop counters across restarts.
///
/// The number of unsent polls is kept as a running count: counted once when the database is opened, then changed
/// only after a commit succeeded, so a crash or a rolled-back transaction cannot make it drift. Statistics (asked
/// for every health message and status) then cost a few index look-ups, not a scan of the whole table.
final class OutboxStore {
    let settings: BufferSettings
    let tuning: BufferTuning
    private(set) var database: SQLiteDatabase
    private var insert: Statement
    private var selectAfter: Statement
    private var selectRange: Statement
    private var delete: Statement
    private var exists: Statement
    private var lastAgeCheck = UnixTime(nanoseconds: 0)
    /// Set when the database had to be replaced, for the agent to report loudly.
    private(set) var recoveredFrom: String?
    /// Disk space held back for the moment the disk is full (see `DiskReserve`).
    private let reserve: DiskReserve
    private var appendsSinceReserveCheck = 0
    /// Rows in `outbox`: see the type's comment.
    private var depth = 0
    /// Acknowledged polls not deleted yet (`BufferTuning.deleteDelay`), and when the oldest of them was acknowledged.
    private var acknowledged: Set<Int64> = []
    private var acknowledgedSince: UnixTime?

    init(settings: BufferSettings, tuning: BufferTuning = .default, clock: any WallClock) throws(SQLiteError) {
        self.settings = settings
        self.tuning = tuning
        let opened: (SQLiteDatabase, String?)
        do {
            opened = (try Self.open(settings, tuning: tuning, clock: clock), nil)
        } catch where error.isCorruption {
            let aside = Self.moveAside(settings.path, clock: clock)
            opened = (try Self.open(settings, tuning: tuning, clock: clock), aside)
        }
        (database, recoveredFrom) = opened
        (insert, selectAfter, selectRange, delete, exists) = try Self.prepareStatements(database)
        depth = try Self.countRows(database)
        reserve = DiskReserve(path: settings.path + ".reserve")
        reserve.restoreIfRoom()
    }

    // MARK: Opening, schema, corruption

    private static func open(_ settings: BufferSettings, tuning: BufferTuning, clock: any WallClock) throws(SQLiteError)
        -> SQLiteDatabase
    {
        let db = try SQLiteDatabase(path: settings.path)
        // Like auto_vacuum, the page size of a new database is fixed by the first write.
        try db.execute("PRAGMA page_size=\(tuning.pageSize)")
        // Dropped polls must give disk space back when the disk is full: pages freed by deletes can be returned
        // to the file system with incremental_vacuum. This takes effect only in a new, empty database, so it
        // comes before anything (journal_mode=WAL included) writes the file header.
        try db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        try db.execute("PRAGMA journal_mode=WAL")
        try db.execute("PRAGMA synchronous=\(settings.durability == .full ? "FULL" : "NORMAL")")
        // Keep the write-ahead log small: flash space is scarce, and a full disk must not be filled by the log.
        try db.execute("PRAGMA wal_autocheckpoint=\(tuning.walAutocheckpoint)")
        // A small page cache: the buffer is written once and read once, and edge boxes are short of memory.
        try db.execute("PRAGMA cache_size=-512")
        try db.execute("PRAGMA journal_size_limit=\(tuning.journalSizeLimit)")
        // A damaged file must be found now, not at the first commit: quick_check reads every page once.
        let check = try db.prepare("PRAGMA quick_check")
        if try check.step(), check.text(0) != "ok" {
            throw SQLiteError(resultCode: SQLITE_CORRUPT, message: check.text(0), operation: "quick_check")
        }
        try db.transaction { () throws(SQLiteError) in
            let exists = try db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'")
            if try !exists.step() {
                try db.execute(
                    """
                    CREATE TABLE outbox(
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        device TEXT NOT NULL,
                        taken_at_ms INTEGER NOT NULL,
                        committed_at_ms INTEGER NOT NULL,
                        readings BLOB NOT NULL
                    );
                    CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    """)
                let floor = clock.now().milliseconds * 1000
                let seed = try db.prepare("INSERT INTO sqlite_sequence(name, seq) VALUES ('outbox', ?)")
                seed.bind(1, floor)
                _ = try seed.step()
                let meta = try db.prepare("INSERT INTO meta(key, value) VALUES ('first_seq', ?)")
                meta.bind(1, floor + 1)
                _ = try meta.step()
            }
            try db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        }
        return db
    }

    private static func countRows(_ db: SQLiteDatabase) throws(SQLiteError) -> Int {
        let count = try db.prepare("SELECT count(*) FROM outbox")
        _ = try count.step()
        return Int(count.int64(0))
    }

    /// Renames a damaged database (and its WAL and shared-memory files) out of the way; returns the new name.
    private static func moveAside(_ path: String, clock: any WallClock) -> String {
        let aside = "\(path).corrupt-\(clock.now().milliseconds)"
        for suffix in ["", "-wal", "-shm"] {
            _ = rename(path + suffix, aside + suffix)
        }
        return aside
    }

    private static func prepareStatements(_ db: SQLiteDatabase) throws(SQLiteError) -> (
        Statement, Statement, Statement, Statement, Statement
    ) {
        (
            try db.prepare("INSERT INTO outbox(device, taken_at_ms, committed_at_ms, readings) VALUES (?, ?, ?, ?)"),
            try db.prepare(
                "SELECT seq, device, taken_at_ms, committed_at_ms, readings FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?"),
            try db.prepare(
                "SELECT seq, device, taken_at_ms, committed_at_ms, readings FROM outbox WHERE seq > ? AND seq < ? "
                    + "ORDER BY seq LIMIT ?"),
            try db.prepare("DELETE FROM outbox WHERE seq = ?"),
            try db.prepare("SELECT 1 FROM outbox WHERE seq = ?")
        )
    }

    /// After SQLite reported corruption during operation: move the file aside and start a new buffer.
    func replaceCorruptDatabase(clock: any WallClock) throws(SQLiteError) -> String {
        database.close()
        let aside = Self.moveAside(settings.path, clock: clock)
        database = try Self.open(settings, tuning: tuning, clock: clock)
        (insert, selectAfter, selectRange, delete, exists) = try Self.prepareStatements(database)
        depth = try Self.countRows(database)
        acknowledged = []
        acknowledgedSince = nil
        recoveredFrom = aside
        return aside
    }

    // MARK: Writing

    /// Commits `polls` in one transaction, keeping the buffer inside its bounds.
    func append(_ polls: [Poll], now: UnixTime) throws(SQLiteError) -> AppendResult {
        var result = AppendResult()
        result.committedAt = now
        if settings.whenFull == .pause, try usedBytes() >= settings.maxBytes {
            // Acknowledged polls waiting to be deleted may be what fills it.
            try deleteAcknowledged()
            if try usedBytes() >= settings.maxBytes {
                result.paused = true
                return result
            }
        }
        do {
            result.seqs = try insertAll(polls, now: now)
        } catch where error.isDiskFull {
            // The disk is full. Truncating the write-ahead log often frees enough; otherwise make room as for
            // the size bound (drop the oldest), or pause.
            try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            do {
                result.seqs = try insertAll(polls, now: now)
            } catch where error.isDiskFull {
                // Deleting needs room in the log too: the reserve file gives it back.
                reserve.release()
                guard settings.whenFull == .dropOldest else {
                    result.paused = true
                    return result
                }
                result.drop.merge(try dropOldest(fraction: 0.05))
                giveSpaceBack()
                result.seqs = try insertAll(polls, now: now)
            }
        }
        // Leave the file system some room rather than run it full: drop the oldest while writing still works.
        if settings.whenFull == .dropOldest, reserve.fileSystemFree() < 2 * Int64(reserve.size) {
            let dropped = try dropOldest(fraction: 0.02)
            result.drop.merge(dropped)
            if dropped.count > 0 { giveSpaceBack() }
        }
        appendsSinceReserveCheck += 1
        if appendsSinceReserveCheck >= 100 {
            appendsSinceReserveCheck = 0
            reserve.restoreIfRoom()
        }
        if settings.whenFull == .dropOldest, try usedBytes() > settings.maxBytes {
            while try usedBytes() > settings.maxBytes * 95 / 100 {
                let dropped = try dropOldest(fraction: 0.02)
                if dropped.count == 0 { break }
                result.drop.merge(dropped)
            }
        }
        if now - lastAgeCheck > .seconds(60) {
            lastAgeCheck = now
            result.drop.merge(try dropOlderThan(now + (.zero - settings.maxAge)))
        }
        if result.drop.count > 0 { try recordDrops(result.drop) }
        return result
    }

    /// Returns the pages freed by deletes to the file system and empties the write-ahead log.
    private func giveSpaceBack() {
        try? database.execute("PRAGMA incremental_vacuum")
        try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// Inserts `polls` in one transaction, which also deletes the acknowledged polls waiting: one commit (one
    /// sync, one set of B-tree pages written) per cycle instead of two.
    private func insertAll(_ polls: [Poll], now: UnixTime) throws(SQLiteError) -> [Int64] {
        let (seqs, deleted) = try database.transaction { () throws(SQLiteError) -> ([Int64], Int) in
            let deleted = try deleteRows(acknowledged)
            var seqs: [Int64] = []
            seqs.reserveCapacity(polls.count)
            for poll in polls {
                insert.reset()
                insert.bind(1, poll.deviceID)
                insert.bind(2, poll.takenAt.milliseconds)
                insert.bind(3, now.milliseconds)
                insert.bind(4, ReadingCodec.encode(poll.readings))
                _ = try insert.step()
                seqs.append(database.lastInsertRowID)
            }
            return (seqs, deleted)
        }
        depth += seqs.count - deleted
        acknowledged = []
        acknowledgedSince = nil
        return seqs
    }

    /// Deletes about `fraction` of the rows, oldest first (at least one).
    private func dropOldest(fraction: Double) throws(SQLiteError) -> DropReport {
        let range = try database.prepare("SELECT min(seq), max(seq) FROM outbox")
        guard try range.step(), !range.isNull(0) else { return DropReport() }
        let span = range.int64(1) - range.int64(0) + 1
        let count = max(1, Int64(Double(span) * fraction))
        return try dropWhere("seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT \(count))")
    }

    private func dropOlderThan(_ cutoff: UnixTime) throws(SQLiteError) -> DropReport {
        let oldest = try database.prepare("SELECT taken_at_ms FROM outbox ORDER BY seq LIMIT 1")
        guard try oldest.step(), oldest.int64(0) < cutoff.milliseconds else { return DropReport() }
        return try dropWhere("taken_at_ms < \(cutoff.milliseconds)")
    }

    private func dropWhere(_ condition: String) throws(SQLiteError) -> DropReport {
        // Acknowledged polls are not drops.
        try deleteAcknowledged()
        let report = try database.transaction { () throws(SQLiteError) -> DropReport in
            let summary = try database.prepare(
                "SELECT count(*), min(taken_at_ms), max(taken_at_ms) FROM outbox WHERE \(condition)")
            _ = try summary.step()
            let report = DropReport(
                count: Int(summary.int64(0)),
                oldest: summary.isNull(1) ? nil : UnixTime(milliseconds: summary.int64(1)),
                newest: summary.isNull(2) ? nil : UnixTime(milliseconds: summary.int64(2)))
            try database.execute("DELETE FROM outbox WHERE \(condition)")
            return report
        }
        depth -= report.count
        return report
    }

    private func recordDrops(_ drop: DropReport) throws(SQLiteError) {
        try database.transaction { () throws(SQLiteError) in
            try database.execute(
                "INSERT INTO meta(key, value) VALUES ('drops', \(drop.count)) "
                    + "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value")
            if let oldest = drop.oldest {
                try database.execute(
                    "INSERT INTO meta(key, value) VALUES ('drops_oldest_ms', \(oldest.milliseconds)) "
                        + "ON CONFLICT(key) DO UPDATE SET value = min(value, excluded.value)")
            }
            if let newest = drop.newest {
                try database.execute(
                    "INSERT INTO meta(key, value) VALUES ('drops_newest_ms', \(newest.milliseconds)) "
                        + "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)")
            }
        }
    }

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
    private func deleteRows(_ seqs: Set<Int64>) throws(SQLiteError) -> Int {
        var deleted = 0
        for seq in seqs.sorted() {
            delete.reset()
            delete.bind(1, seq)
            _ = try delete.step()
            deleted += database.changes  // 0 for a poll already gone (dropped, or acknowledged twice)
        }
        return deleted
    }

    /// Deletes everything; counted as drops.
    func purge() throws(SQLiteError) -> DropReport {
        let report = try dropWhere("1")
        if report.count > 0 { try recordDrops(report) }
        return report
    }

    // MARK: Reading

    /// Up to `limit` polls after `seq` (and before `limitSeq`), leaving out those acknowledged but not deleted yet.
    func polls(after seq: Int64, before limitSeq: Int64? = nil, limit: Int) throws(SQLiteError) -> [StoredPoll] {
        // Asking for as many more rows as may be left out still returns `limit` polls when there are that many.
        let rowLimit = Int64(limit + acknowledged.count)
        let statement: Statement
        if let limitSeq {
            statement = selectRange
            statement.reset()
            statement.bind(1, seq)
            statement.bind(2, limitSeq)
            statement.bind(3, rowLimit)
        } else {
            statement = selectAfter
            statement.reset()
            statement.bind(1, seq)
            statement.bind(2, rowLimit)
        }
        defer { statement.reset() }
        var out: [StoredPoll] = []
        while out.count < limit, try statement.step() {
            if !acknowledged.isEmpty && acknowledged.contains(statement.int64(0)) { continue }
            // A row whose readings cannot be decoded is kept and sent empty rather than dropped silently.
            let readings = (try? ReadingCodec.decode(statement.blob(4))) ?? []
            out.append(
                StoredPoll(
                    seq: statement.int64(0), committedAt: UnixTime(milliseconds: statement.int64(3)),
                    poll: Poll(
                        deviceID: statement.text(1), takenAt: UnixTime(milliseconds: statement.int64(2)),
                        readings: readings)))
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

    func seqSpan() throws(SQLiteError) -> Int64 {
        // Two subqueries: SQLite's min/max optimisation (one index probe) applies to a lone min() or max() only.
        let ends = try database.prepare("SELECT (SELECT min(seq) FROM outbox), (SELECT max(seq) FROM outbox)")
        guard try ends.step(), !ends.isNull(0) else { return 0 }
        return ends.int64(1) - ends.int64(0) + 1
    }

    /// Cheap at any depth: the running count, and look-ups by primary key (no scan).
    func stats() throws(SQLiteError) -> BufferStats {
        // The first and last rows not waiting to be deleted: a few steps along the primary key.
        let oldest = try database.prepare("SELECT seq, taken_at_ms FROM outbox ORDER BY seq")
        var hasOldest = try oldest.step()
        while hasOldest && acknowledged.contains(oldest.int64(0)) { hasOldest = try oldest.step() }
        let newest = try database.prepare("SELECT seq FROM outbox ORDER BY seq DESC")
        var hasNewest = try newest.step()
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
                newest: meta["drops_newest_ms"].map(UnixTime.init(milliseconds:))))
    }

    /// `PRAGMA integrity_check` on a database file opened read-only, with no recovery: for `sitegate buffer check`,
    /// which must report damage rather than repair it.
    static func integrityCheck(path: String) throws(SQLiteError) -> String {
        let db = try SQLiteDatabase(path: path, readOnly: true)
        defer { db.close() }
        let s = try db.prepare("PRAGMA integrity_check")
        var lines: [String] = []
        while try s.step() { lines.append(s.text(0)) }
        return lines.joined(separator: "\n")
    }

    func integrityCheck() throws(SQLiteError) -> String {
        let s = try database.prepare("PRAGMA integrity_check")
        var lines: [String] = []
        while try s.step() { lines.append(s.text(0)) }
        return lines.joined(separator: "\n")
    }

    func close() {
        try? deleteAcknowledged()
        try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        database.close()
    }
}
