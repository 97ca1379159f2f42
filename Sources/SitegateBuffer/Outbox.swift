import SitegateCore
import SitegateThreads

/// The durable store of polls waiting for the broker's PUBACK: SQLite in WAL mode, on a thread of its own.
///
/// A poll exists once `append` returns: its transaction committed. Rows are deleted only by `acknowledge`, after
/// the broker confirmed them. Sequence numbers come from SQLite's AUTOINCREMENT, so they are gateway-wide, strictly
/// increasing and never reused, also across restarts and after deletes.
public final class Outbox: Sendable {
    private let thread: DedicatedThread
    private let store: LockedValue<Store>
    public let path: String

    private struct Store: @unchecked Sendable {
        // @unchecked: the database is used only by jobs on `thread`; the lock only hands it over.
        var database: SQLiteDatabase?
        var insert: Statement?
        var delete: Statement?
        var selectAfter: Statement?
    }

    public init(settings: BufferSettings) async throws {
        path = settings.path
        thread = DedicatedThread(name: "buffer")
        store = LockedValue(Store())
        let store = self.store
        do {
            try await thread.run {
                let db = try SQLiteDatabase(path: settings.path)
                try db.execute("PRAGMA journal_mode=WAL")
                try db.execute("PRAGMA synchronous=\(settings.durability == .full ? "FULL" : "NORMAL")")
                try db.execute(
                    """
                    CREATE TABLE IF NOT EXISTS outbox(
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        device TEXT NOT NULL,
                        taken_at_ms INTEGER NOT NULL,
                        committed_at_ms INTEGER NOT NULL,
                        readings BLOB NOT NULL
                    )
                    """)
                let insert = try db.prepare(
                    "INSERT INTO outbox(device, taken_at_ms, committed_at_ms, readings) VALUES (?, ?, ?, ?)")
                let delete = try db.prepare("DELETE FROM outbox WHERE seq = ?")
                let select = try db.prepare(
                    "SELECT seq, device, taken_at_ms, committed_at_ms, readings FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?"
                )
                store.withLock { $0 = Store(database: db, insert: insert, delete: delete, selectAfter: select) }
            }
        } catch {
            thread.shutdown()
            throw error
        }
    }

    /// Commits `polls` in one transaction and returns their sequence numbers, in order.
    @discardableResult
    public func append(_ polls: [Poll], committedAt: UnixTime = SystemWallClock().now()) async throws -> [Int64] {
        let store = self.store
        return try await thread.run {
            try store.withLock { s in
                guard let db = s.database, let insert = s.insert else { throw Self.closedError }
                return try db.transaction { () throws(SQLiteError) -> [Int64] in
                    var seqs: [Int64] = []
                    for poll in polls {
                        insert.reset()
                        insert.bind(1, poll.deviceID)
                        insert.bind(2, poll.takenAt.milliseconds)
                        insert.bind(3, committedAt.milliseconds)
                        insert.bind(4, ReadingCodec.encode(poll.readings))
                        _ = try insert.step()
                        seqs.append(db.lastInsertRowID)
                    }
                    return seqs
                }
            }
        }
    }

    /// Up to `limit` stored polls with a sequence number above `seq`, oldest first.
    public func polls(after seq: Int64, limit: Int) async throws -> [StoredPoll] {
        let store = self.store
        return try await thread.run {
            try store.withLock { s -> [StoredPoll] in
                guard let select = s.selectAfter else { throw Self.closedError }
                select.reset()
                select.bind(1, seq)
                select.bind(2, Int64(limit))
                var out: [StoredPoll] = []
                while try select.step() {
                    let readings = (try? ReadingCodec.decode(select.blob(4))) ?? []
                    out.append(
                        StoredPoll(
                            seq: select.int64(0), committedAt: UnixTime(milliseconds: select.int64(3)),
                            poll: Poll(
                                deviceID: select.text(1), takenAt: UnixTime(milliseconds: select.int64(2)),
                                readings: readings)))
                }
                select.reset()
                return out
            }
        }
    }

    /// Deletes polls the broker acknowledged, in one transaction.
    public func acknowledge(_ seqs: [Int64]) async throws {
        guard !seqs.isEmpty else { return }
        let store = self.store
        try await thread.run {
            try store.withLock { s in
                guard let db = s.database, let delete = s.delete else { throw Self.closedError }
                try db.transaction { () throws(SQLiteError) in
                    for seq in seqs {
                        delete.reset()
                        delete.bind(1, seq)
                        _ = try delete.step()
                    }
                }
            }
        }
    }

    public struct Stats: Sendable, Hashable {
        public var depth: Int
        public var oldestSeq: Int64?
        public var oldestTakenAt: UnixTime?
        public var lastSeq: Int64
        public var fileBytes: Int64
    }

    public func stats() async throws -> Stats {
        let store = self.store
        return try await thread.run {
            try store.withLock { s -> Stats in
                guard let db = s.database else { throw Self.closedError }
                let count = try db.prepare("SELECT count(*), min(seq), min(taken_at_ms) FROM outbox")
                _ = try count.step()
                let depth = Int(count.int64(0))
                let oldest = count.isNull(1) ? nil : count.int64(1)
                let oldestTaken = count.isNull(2) ? nil : UnixTime(milliseconds: count.int64(2))
                let last = try db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")
                let lastSeq = try last.step() ? last.int64(0) : 0
                let pages = try db.prepare(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
                let bytes = try pages.step() ? pages.int64(0) : 0
                return Stats(depth: depth, oldestSeq: oldest, oldestTakenAt: oldestTaken, lastSeq: lastSeq, fileBytes: bytes)
            }
        }
    }

    /// Closes the database and ends the thread; queued work finishes first.
    public func close() {
        let store = self.store
        thread.submit {
            store.withLock { s in
                s.insert = nil
                s.delete = nil
                s.selectAfter = nil
                if let db = s.database {
                    try? db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    db.close()
                }
                s.database = nil
            }
        }
        thread.shutdown()
    }

    private static let closedError = SQLiteError(resultCode: 21, message: "the buffer is closed", operation: "use")
}
