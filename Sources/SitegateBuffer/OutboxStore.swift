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
///
/// The work is split by section: `+append` (and `BufferBounds` in Core for the bounds), `+drops`, `+acknowledge`,
/// `+reading`, `+integrity`. The state below is internal rather than private so that those files share it.
final class OutboxStore {
    let settings: BufferSettings
    let tuning: BufferTuning
    private(set) var database: SQLiteDatabase
    var insert: Statement
    var selectAfter: Statement
    var selectRange: Statement
    var delete: Statement
    var exists: Statement
    var lastAgeCheck = UnixTime(nanoseconds: 0)
    /// Set when the database had to be replaced, for the agent to report loudly.
    private(set) var recoveredFrom: String?
    /// Disk space held back for the moment the disk is full (see `DiskReserve`).
    let reserve: DiskReserve
    var appendsSinceReserveCheck = 0
    /// Rows in `outbox`: see the type's comment.
    var depth = 0
    /// Acknowledged polls not deleted yet (`BufferTuning.deleteDelay`), and when the oldest of them was acknowledged.
    var acknowledged: Set<Int64> = []
    var acknowledgedSince: UnixTime?

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

    static func open(_ settings: BufferSettings, tuning: BufferTuning, clock: any WallClock) throws(SQLiteError)
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

    static func countRows(_ db: SQLiteDatabase) throws(SQLiteError) -> Int {
        let count = try db.prepare("SELECT count(*) FROM outbox")
        _ = try count.step()
        return Int(count.int64(0))
    }

    /// Renames a damaged database (and its WAL and shared-memory files) out of the way; returns the new name.
    static func moveAside(_ path: String, clock: any WallClock) -> String {
        let aside = "\(path).corrupt-\(clock.now().milliseconds)"
        for suffix in ["", "-wal", "-shm"] {
            _ = rename(path + suffix, aside + suffix)
        }
        return aside
    }

    static func prepareStatements(_ db: SQLiteDatabase) throws(SQLiteError) -> (
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
}
