import CSQLite
import SitegateCore

// Opening the database: pragmas, the schema, and the upgrade of a buffer written before contract v2.
extension OutboxStore {
    static func open(
        _ settings: BufferSettings, tuning: BufferTuning, sealing: OutboxSealing, clock: any WallClock, replacing: String?
    ) throws(SQLiteError) -> SQLiteDatabase {
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
        check.reset()  // a statement still stepping would lock the tables the upgrade rebuilds
        try db.transaction { () throws(SQLiteError) in
            let exists = try db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'")
            let found = try exists.step()
            exists.reset()
            if !found {
                try createSchema(db, clock: clock)
                let start = ChainStart(reason: replacing == nil ? .newDatabase : .databaseReplaced, replaced: replacing)
                try setPendingStart(db, start)
            } else if try !hasColumn(db, table: "outbox", column: "payload") {
                try upgradeFromV1(db, sealing: sealing)
            }
            try db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            // What the broker acknowledged, as ranges of seqs (`+settled`).
            try db.execute("CREATE TABLE IF NOT EXISTS settled(first INTEGER PRIMARY KEY, last INTEGER NOT NULL)")
            try moveMarksToRanges(db)
        }
        return db
    }

    private static func createSchema(_ db: SQLiteDatabase, clock: any WallClock) throws(SQLiteError) {
        try db.execute(outboxTable("outbox"))
        try db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        try createEvidenceTables(db)
        let floor = clock.now().milliseconds * 1000
        let seed = try db.prepare("INSERT INTO sqlite_sequence(name, seq) VALUES ('outbox', ?)")
        seed.bind(1, floor)
        _ = try seed.step()
        let meta = try db.prepare("INSERT INTO meta(key, value) VALUES ('first_seq', ?)")
        meta.bind(1, floor + 1)
        _ = try meta.step()
    }

    /// One row per message: `payload` is the sealed bytes; `readings` only in rows from a v1 buffer, until the
    /// upgrade turned them into bytes. (Buffers written before the settled ranges also have a column `acked`, no longer used.)
    private static func outboxTable(_ name: String) -> String {
        """
        CREATE TABLE \(name)(
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            device TEXT NOT NULL,
            taken_at_ms INTEGER NOT NULL,
            committed_at_ms INTEGER NOT NULL,
            payload BLOB,
            tick_ms INTEGER,
            outcome INTEGER,
            readings BLOB
        )
        """
    }

    /// The chain's state (`chain`: key-value), gap notices to seal (`pending_gaps`), checkpoints (`slots`).
    private static func createEvidenceTables(_ db: SQLiteDatabase) throws(SQLiteError) {
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS chain(key TEXT PRIMARY KEY, value);
            CREATE TABLE IF NOT EXISTS pending_gaps(
                id INTEGER PRIMARY KEY, reason TEXT NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL,
                from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, first_prev BLOB, last_hash BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS slots(slot_end_ms INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
            """)
    }

    static func hasColumn(_ db: SQLiteDatabase, table: String, column: String) throws(SQLiteError) -> Bool {
        let info = try db.prepare("SELECT 1 FROM pragma_table_info('\(table)') WHERE name = '\(column)'")
        defer { info.reset() }
        return try info.step()
    }

    /// A buffer written by a version before contract v2 holds readings, not messages. Its polls were committed
    /// unsigned and unchained: they are published in the v1 form they had (docs/evidence.md, "Upgrading from v1"),
    /// and a chain start with reason `upgrade` begins the chain after them.
    private static func upgradeFromV1(_ db: SQLiteDatabase, sealing: OutboxSealing) throws(SQLiteError) {
        // v1's `readings` was NOT NULL: the table is rebuilt (SQLite cannot drop a constraint), keeping the
        // sequence counter, which counts numbers handed out to rows deleted since.
        let counter = try db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")
        let lastSeq = try counter.step() ? counter.int64(0) : 0
        counter.reset()
        try db.execute(outboxTable("outbox_v2"))
        try db.execute(
            """
            INSERT INTO outbox_v2(seq, device, taken_at_ms, committed_at_ms, readings)
                SELECT seq, device, taken_at_ms, committed_at_ms, readings FROM outbox;
            DROP TABLE outbox;
            ALTER TABLE outbox_v2 RENAME TO outbox;
            DELETE FROM sqlite_sequence WHERE name IN ('outbox', 'outbox_v2');
            """)
        let restore = try db.prepare("INSERT INTO sqlite_sequence(name, seq) VALUES ('outbox', ?)")
        restore.bind(1, lastSeq)
        _ = try restore.step()
        try createEvidenceTables(db)
        let rows = try db.prepare("SELECT seq, device, taken_at_ms, committed_at_ms, readings FROM outbox ORDER BY seq")
        let update = try db.prepare("UPDATE outbox SET payload = ?, readings = NULL WHERE seq = ?")
        while try rows.step() {
            // A row whose readings cannot be decoded is kept and sent empty rather than dropped silently.
            let readings = (try? ReadingCodec.decode(rows.blob(4))) ?? []
            let poll = Poll(deviceID: rows.text(1), takenAt: UnixTime(milliseconds: rows.int64(2)), readings: readings)
            let stored = StoredPoll(seq: rows.int64(0), committedAt: UnixTime(milliseconds: rows.int64(3)), poll: poll)
            update.reset()
            update.bind(1, Array(sealing.encoder.encodeV1(stored).utf8))
            update.bind(2, rows.int64(0))
            _ = try update.step()
        }
        try setPendingStart(db, ChainStart(reason: .upgrade))
    }
}
