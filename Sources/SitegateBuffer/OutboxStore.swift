import CSQLite
import SitegateCore
import SitegateThreads

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
/// Acknowledged rows stay as the archive (their seqs in the ranges of table `settled`, see `+settled`): for replay
/// requests (`buffer.retain`, `buffer.retain_size`) and for the checkpoints that still have to count them. The
/// archive gives way first whenever space is short (`+acknowledge`).
///
/// The number of unsent polls is kept as a running count: counted once when the database is opened, then changed
/// only after a commit succeeded, so a crash or a rolled-back transaction cannot make it drift. Statistics (asked
/// for every health message and status) then cost a few index look-ups, not a scan of the whole table.
///
/// The work is split by section: `+append` (and `BufferBounds` in Core for the bounds), `+chain`, `+drops`,
/// `+acknowledge`, `+settled`, `+reading`, `+integrity`, `+schema`. The state below is internal rather than private so that
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
    /// Acknowledged messages not settled yet (`BufferTuning.deleteDelay`) with their payload sizes, and when the
    /// oldest of them was acknowledged.
    var acknowledged: [Int64: Int64] = [:]
    /// The same seqs as ranges: what the reads step over.
    var acknowledgedRanges = SeqRanges()
    var acknowledgedSince: UnixTime?
    /// The seqs acknowledged and settled, as table `settled` holds them (`+settled`).
    var settled = SeqRanges()
    /// Acknowledged rows kept: for replays and for the checkpoints still to count them.
    var archive = ArchiveFigures()
    /// The last message's seq and the hash of its bytes: what the next message's `prev` is.
    var head: ChainHead?
    /// The time of the latest append or acknowledgement, for work that has no clock of its own (a purge, close).
    var lastNow = UnixTime(nanoseconds: 0)
    /// The signing key's id is in `chain` (or a handover for it was sealed) since this store opened.
    var keyRecorded = false
    /// The seqs of the last two checkpoints (see `deletableBelow`).
    var checkpointSeqs: [Int64] = []
    /// Messages the transaction in progress inserted (polls and the notices sealed before them): counted into
    /// `depth` and handed to `live` when it commits.
    var insertedMessages: [StoredMessage] = []
    /// Inside a transaction, after its first insert: the seq the next insert gets (AUTOINCREMENT hands out the last
    /// one + 1), so that `sqlite_sequence` is read once a transaction rather than once a message.
    var seqAfterLastInsert: Int64?
    /// The sizes of the latest commits, for acknowledgements (see `RecentSizes`).
    var recentSizes = RecentSizes()
    /// What was committed and not yet read by the publisher, shared with `Outbox` (see `LiveMessages`).
    let live: LockedValue<LiveMessages>

    /// The prepared statements of the hot path.
    struct Statements {
        var insert: Statement
        var selectRange: Statement
        var delete: Statement
        var deleteRange: Statement
        var payloadSizes: Statement
        var archivedRows: Statement
        var anyRowBetween: Statement
        var storeSettled: Statement
        var deleteSettled: Statement
        var lastSeq: Statement

        init(_ db: SQLiteDatabase) throws(SQLiteError) {
            insert = try db.prepare(
                "INSERT INTO outbox(device, taken_at_ms, committed_at_ms, payload, tick_ms, outcome) VALUES (?, ?, ?, ?, ?, ?)")
            selectRange = try db.prepare(
                "SELECT seq, device, committed_at_ms, payload FROM outbox WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?")
            delete = try db.prepare("DELETE FROM outbox WHERE seq = ?")
            deleteRange = try db.prepare("DELETE FROM outbox WHERE seq BETWEEN ? AND ?")
            payloadSizes = try db.prepare("SELECT seq, length(payload) FROM outbox WHERE seq BETWEEN ? AND ?")
            archivedRows = try db.prepare(
                "SELECT seq, committed_at_ms, length(payload) FROM outbox WHERE seq BETWEEN ? AND ? ORDER BY seq")
            anyRowBetween = try db.prepare("SELECT 1 FROM outbox WHERE seq > ? AND seq < ? LIMIT 1")
            storeSettled = try db.prepare("INSERT OR REPLACE INTO settled(first, last) VALUES (?, ?)")
            deleteSettled = try db.prepare("DELETE FROM settled WHERE first = ?")
            lastSeq = try db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")
        }
    }

    init(
        settings: BufferSettings, tuning: BufferTuning = .default, sealing: OutboxSealing, clock: any WallClock,
        live: LockedValue<LiveMessages> = LockedValue(LiveMessages(after: .max))
    ) throws(SQLiteError) {
        self.settings = settings
        self.live = live
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
        settled = try loadSettled()
        depth = try countUnsent()
        head = try loadHead()
        try loadArchive()
        try forgetLiveMessages()
    }

    /// Rows went away other than by acknowledgement (or the database was opened or replaced): the in-memory hand-over
    /// to the publisher starts over after the newest seq, and acknowledgements look rows up in the database again.
    func forgetLiveMessages() throws(SQLiteError) {
        recentSizes.forget()
        let lastSeq = try nextSeq() - 1
        live.withLock { $0.reset(after: lastSeq) }
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
        acknowledged = [:]
        acknowledgedRanges = SeqRanges()
        acknowledgedSince = nil
        keyRecorded = false
        try loadState()
        recoveredFrom = aside
        return aside
    }

    /// Runs `body` in a transaction; when it fails, the state kept in memory goes back to what the database
    /// still holds (the chain head, the settled ranges, the archive's figures).
    /// Messages inserted in a transaction that commits are handed to `live` for the publisher.
    func transaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        let saved = (head, keyRecorded, settled, archive)
        insertedMessages.removeAll(keepingCapacity: true)
        seqAfterLastInsert = nil
        defer { seqAfterLastInsert = nil }
        do {
            let result = try database.transaction(body)
            if !insertedMessages.isEmpty {
                depth += insertedMessages.count
                for message in insertedMessages { recentSizes.committed(seq: message.seq, size: message.payload.count) }
                let committed = insertedMessages
                live.withLock { $0.committed(committed) }
                insertedMessages.removeAll(keepingCapacity: true)
            }
            return result
        } catch {
            (head, keyRecorded, settled, archive) = saved
            insertedMessages.removeAll(keepingCapacity: true)
            throw error
        }
    }
}
