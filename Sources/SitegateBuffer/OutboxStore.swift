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
final class OutboxStore {
    let settings: BufferSettings
    private(set) var database: SQLiteDatabase
    private var insert: Statement
    private var selectAfter: Statement
    private var selectRange: Statement
    private var delete: Statement
    private var lastAgeCheck = UnixTime(nanoseconds: 0)
    /// Set when the database had to be replaced, for the agent to report loudly.
    private(set) var recoveredFrom: String?
    /// Disk space held back for the moment the disk is full (see `DiskReserve`).
    private let reserve: DiskReserve
    private var appendsSinceReserveCheck = 0

    init(settings: BufferSettings, clock: any WallClock) throws(SQLiteError) {
        self.settings = settings
        let opened: (SQLiteDatabase, String?)
        do {
            opened = (try Self.open(settings, clock: clock), nil)
        } catch where error.isCorruption {
            let aside = Self.moveAside(settings.path, clock: clock)
            opened = (try Self.open(settings, clock: clock), aside)
        }
        (database, recoveredFrom) = opened
        (insert, selectAfter, selectRange, delete) = try Self.prepareStatements(database)
        reserve = DiskReserve(path: settings.path + ".reserve")
        reserve.restoreIfRoom()
    }

    // MARK: Opening, schema, corruption

    private static func open(_ settings: BufferSettings, clock: any WallClock) throws(SQLiteError) -> SQLiteDatabase {
        let db = try SQLiteDatabase(path: settings.path)
        // Dropped polls must give disk space back when the disk is full: pages freed by deletes can be returned
        // to the file system with incremental_vacuum. This takes effect only in a new, empty database, so it
        // comes before anything (journal_mode=WAL included) writes the file header.
        try db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        try db.execute("PRAGMA journal_mode=WAL")
        try db.execute("PRAGMA synchronous=\(settings.durability == .full ? "FULL" : "NORMAL")")
        // Keep the write-ahead log small: flash space is scarce, and a full disk must not be filled by the log.
        try db.execute("PRAGMA wal_autocheckpoint=256")
        // A small page cache: the buffer is written once and read once, and edge boxes are short of memory.
        try db.execute("PRAGMA cache_size=-512")
        try db.execute("PRAGMA journal_size_limit=1048576")
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

    /// Renames a damaged database (and its WAL and shared-memory files) out of the way; returns the new name.
    private static func moveAside(_ path: String, clock: any WallClock) -> String {
        let aside = "\(path).corrupt-\(clock.now().milliseconds)"
        for suffix in ["", "-wal", "-shm"] {
            _ = rename(path + suffix, aside + suffix)
        }
        return aside
    }

    private static func prepareStatements(_ db: SQLiteDatabase) throws(SQLiteError) -> (
        Statement, Statement, Statement, Statement
    ) {
        (
            try db.prepare("INSERT INTO outbox(device, taken_at_ms, committed_at_ms, readings) VALUES (?, ?, ?, ?)"),
            try db.prepare(
                "SELECT seq, device, taken_at_ms, committed_at_ms, readings FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?"),
            try db.prepare(
                "SELECT seq, device, taken_at_ms, committed_at_ms, readings FROM outbox WHERE seq > ? AND seq < ? "
                    + "ORDER BY seq LIMIT ?"),
            try db.prepare("DELETE FROM outbox WHERE seq = ?")
        )
    }

    /// After SQLite reported corruption during operation: move the file aside and start a new buffer.
    func replaceCorruptDatabase(clock: any WallClock) throws(SQLiteError) -> String {
        database.close()
        let aside = Self.moveAside(settings.path, clock: clock)
        database = try Self.open(settings, clock: clock)
        (insert, selectAfter, selectRange, delete) = try Self.prepareStatements(database)
        recoveredFrom = aside
        return aside
    }

    // MARK: Writing

    /// Commits `polls` in one transaction, keeping the buffer inside its bounds.
    func append(_ polls: [Poll], now: UnixTime) throws(SQLiteError) -> AppendResult {
        var result = AppendResult()
        result.committedAt = now
        if settings.whenFull == .pause, try usedBytes() >= settings.maxBytes {
            result.paused = true
            return result
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

    private func insertAll(_ polls: [Poll], now: UnixTime) throws(SQLiteError) -> [Int64] {
        try database.transaction { () throws(SQLiteError) -> [Int64] in
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
            return seqs
        }
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
        try database.transaction { () throws(SQLiteError) -> DropReport in
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

    func acknowledge(_ seqs: [Int64]) throws(SQLiteError) {
        try database.transaction { () throws(SQLiteError) in
            for seq in seqs {
                delete.reset()
                delete.bind(1, seq)
                _ = try delete.step()
            }
        }
    }

    /// Deletes everything; counted as drops.
    func purge() throws(SQLiteError) -> DropReport {
        let report = try dropWhere("1")
        if report.count > 0 { try recordDrops(report) }
        return report
    }

    // MARK: Reading

    func polls(after seq: Int64, before limitSeq: Int64? = nil, limit: Int) throws(SQLiteError) -> [StoredPoll] {
        let statement: Statement
        if let limitSeq {
            statement = selectRange
            statement.reset()
            statement.bind(1, seq)
            statement.bind(2, limitSeq)
            statement.bind(3, Int64(limit))
        } else {
            statement = selectAfter
            statement.reset()
            statement.bind(1, seq)
            statement.bind(2, Int64(limit))
        }
        defer { statement.reset() }
        var out: [StoredPoll] = []
        while try statement.step() {
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

    func stats() throws(SQLiteError) -> BufferStats {
        let count = try database.prepare("SELECT count(*), min(seq), min(taken_at_ms), max(seq) FROM outbox")
        _ = try count.step()
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
            depth: Int(count.int64(0)),
            oldestSeq: count.isNull(1) ? nil : count.int64(1),
            oldestTakenAt: count.isNull(2) ? nil : UnixTime(milliseconds: count.int64(2)),
            newestSeq: count.isNull(3) ? nil : count.int64(3),
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
        try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        database.close()
    }
}

/// Polls deleted without being acknowledged: their number and the time range they were taken in.
public struct DropReport: Sendable, Hashable {
    public var count = 0
    public var oldest: UnixTime?
    public var newest: UnixTime?

    public init(count: Int = 0, oldest: UnixTime? = nil, newest: UnixTime? = nil) {
        self.count = count
        self.oldest = oldest
        self.newest = newest
    }

    public mutating func merge(_ other: DropReport) {
        count += other.count
        if let o = other.oldest { oldest = min(oldest ?? o, o) }
        if let n = other.newest { newest = max(newest ?? n, n) }
    }
}

public struct AppendResult: Sendable {
    /// Sequence numbers of the committed polls; empty when nothing was committed.
    public var seqs: [Int64] = []
    /// Older polls deleted to keep the buffer inside its bounds.
    public var drop = DropReport()
    /// The buffer is full and its policy is to pause: nothing was committed.
    public var paused = false
    /// The commit time recorded with the polls.
    public var committedAt = UnixTime(nanoseconds: 0)
}

public struct BufferStats: Sendable, Hashable {
    public var depth: Int
    public var oldestSeq: Int64?
    public var oldestTakenAt: UnixTime?
    public var newestSeq: Int64?
    /// The first sequence number this database handed out (its creation floor + 1).
    public var firstSeq: Int64
    /// The last sequence number handed out, also when its row is gone.
    public var lastSeq: Int64
    public var usedBytes: Int64
    public var fileBytes: Int64
    public var maxBytes: Int64
    /// Drops over the database's life.
    public var drops: DropReport
}
