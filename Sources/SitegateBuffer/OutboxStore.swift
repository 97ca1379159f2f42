import CSQLite
import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

/// The outbox's SQLite side, used from the buffer thread only (see `Outbox`).
///
/// Table `outbox`: one row per committed message (a device poll or an evidence message), `seq INTEGER PRIMARY KEY
/// AUTOINCREMENT`, so sequence numbers are gateway-wide, strictly increasing and never reused. `payload` holds the
/// exact bytes that are published, sealed (chained and signed) in the transaction that commits them; the chain head
/// lives in table `chain`, gap notices waiting to be sealed in `pending_gaps`, the checkpoints' seqs in `slots`
/// (docs/evidence.md). A new database starts its sequence at its creation time in milliseconds × 1000: numbers keep
/// increasing when a buffer is replaced (corruption, a deleted file), as long as the clock is right. Table `meta`
/// keeps the drop counters across restarts.
///
/// Acknowledged rows stay as the archive (marked `acked`, found through the index on `(acked, seq)`): for replay
/// requests (`buffer.retain`, `buffer.retain_size`) and for the checkpoints that still have to count them. The
/// archive gives way first whenever space is short (`+acknowledge`).
///
/// The number of unsent polls is kept as a running count: counted once when the database is opened, then changed
/// only after a commit succeeded, so a crash or a rolled-back transaction cannot make it drift. Statistics (asked
/// for every health message and status) then cost a few index look-ups, not a scan of the whole table.
///
/// The work is split by section: `+append` (and `BufferBounds` in Core for the bounds), `+chain`, `+drops`,
/// `+acknowledge`, `+reading`, `+integrity`, `+schema`. The state below is internal rather than private so that
/// those files share it.
final class OutboxStore {
    let settings: BufferSettings
    let tuning: BufferTuning
    let sealing: OutboxSealing
    private(set) var database: SQLiteDatabase
    var statements: Statements
    var lastAgeCheck = UnixTime(nanoseconds: 0)
    /// Set when the database had to be replaced, for the agent to report loudly.
    private(set) var recoveredFrom: String?
    /// Disk space held back for the moment the disk is full (see `DiskReserve`).
    let reserve: DiskReserve
    var appendsSinceReserveCheck = 0
    /// Unsent rows in `outbox`: see the type's comment.
    var depth = 0
    /// Acknowledged polls not marked or deleted yet (`BufferTuning.deleteDelay`), and when the oldest of them was
    /// acknowledged.
    var acknowledged: Set<Int64> = []
    var acknowledgedSince: UnixTime?
    /// Acknowledged rows kept (marked `acked`): for replays and for the checkpoints still to count them.
    var archive = ArchiveFigures()
    /// The last message's seq and the hash of its bytes: what the next message's `prev` is.
    var head: ChainHead?
    /// The time of the latest append or acknowledgement, for work that has no clock of its own (a purge, close).
    var lastNow = UnixTime(nanoseconds: 0)
    /// The signing key's id is in `chain` (or a handover for it was sealed) since this store opened.
    var keyRecorded = false
    /// Rows inserted by the transaction in progress (polls and the notices sealed before them).
    var insertedInTransaction = 0
    /// The seqs of the last two checkpoints (see `deletableBelow`).
    var checkpointSeqs: [Int64] = []

    /// The prepared statements of the hot path.
    struct Statements {
        var insert: Statement
        var selectAfter: Statement
        var selectRange: Statement
        var delete: Statement
        var markAcked: Statement
        var exists: Statement
        var oldestArchived: Statement
        var lastSeq: Statement

        init(_ db: SQLiteDatabase) throws(SQLiteError) {
            insert = try db.prepare(
                "INSERT INTO outbox(device, taken_at_ms, committed_at_ms, payload, tick_ms, outcome) VALUES (?, ?, ?, ?, ?, ?)")
            let columns = "seq, device, committed_at_ms, payload"
            selectAfter = try db.prepare(
                "SELECT \(columns) FROM outbox WHERE seq > ? AND acked = 0 ORDER BY seq LIMIT ?")
            selectRange = try db.prepare(
                "SELECT \(columns) FROM outbox WHERE seq > ? AND seq < ? AND acked = 0 ORDER BY seq LIMIT ?")
            delete = try db.prepare("DELETE FROM outbox WHERE seq = ?")
            markAcked = try db.prepare("UPDATE outbox SET acked = 1 WHERE seq = ? AND acked = 0 RETURNING length(payload)")
            lastSeq = try db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")
            oldestArchived = try db.prepare(
                "SELECT seq, committed_at_ms, length(payload) FROM outbox WHERE acked = 1 ORDER BY acked, seq")
            exists = try db.prepare("SELECT 1 FROM outbox WHERE seq = ? AND acked = 0")
        }
    }

    init(settings: BufferSettings, tuning: BufferTuning = .default, sealing: OutboxSealing, clock: any WallClock)
        throws(SQLiteError)
    {
        self.settings = settings
        self.tuning = tuning
        self.sealing = sealing
        let opened: (SQLiteDatabase, String?)
        do {
            opened = (try Self.open(settings, tuning: tuning, sealing: sealing, clock: clock, replacing: nil), nil)
        } catch where error.isCorruption {
            let aside = Self.moveAside(settings.path, clock: clock)
            opened = (try Self.open(settings, tuning: tuning, sealing: sealing, clock: clock, replacing: aside), aside)
        }
        (database, recoveredFrom) = opened
        statements = try Statements(database)
        reserve = DiskReserve(path: settings.path + ".reserve")
        try loadState()
        reserve.restoreIfRoom()
    }

    /// The running figures, from the database: at open, and after it was replaced.
    private func loadState() throws(SQLiteError) {
        depth = try Self.countUnsent(database)
        head = try loadHead()
        try loadArchive()
    }

    static func countUnsent(_ db: SQLiteDatabase) throws(SQLiteError) -> Int {
        let count = try db.prepare("SELECT count(*) FROM outbox WHERE acked = 0")
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

    /// After SQLite reported corruption during operation: move the file aside and start a new buffer.
    func replaceCorruptDatabase(clock: any WallClock) throws(SQLiteError) -> String {
        database.close()
        let aside = Self.moveAside(settings.path, clock: clock)
        database = try Self.open(settings, tuning: tuning, sealing: sealing, clock: clock, replacing: aside)
        statements = try Statements(database)
        acknowledged = []
        acknowledgedSince = nil
        keyRecorded = false
        try loadState()
        recoveredFrom = aside
        return aside
    }
}
