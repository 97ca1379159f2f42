import Logging
import SitegateCore
import SitegateThreads

/// The durable store of messages waiting for the broker's PUBACK: SQLite in WAL mode, on a thread of its own.
///
/// A poll exists once `append` returns its sequence number: its transaction committed. Rows are deleted only by
/// `acknowledge` (after the broker confirmed them; see `BufferTuning.deleteDelay`), by the size and age bounds (counted as drops), or by `purge`.
/// A database SQLite reports as corrupt is moved aside, kept for forensics, and replaced by a new one.
public final class Outbox: Sendable {
    private let thread: DedicatedThread
    private let store: LockedValue<StoreBox>
    /// Each commit's messages, for the publisher to take without a database read (see `LiveMessages`).
    private let live = LockedValue(LiveMessages(after: .max))
    private let clock: any WallClock
    private let logger: Logger
    public let path: String

    private struct StoreBox: @unchecked Sendable {
        // @unchecked: the store is used only by jobs on `thread`; the lock just hands it over.
        var store: OutboxStore?
    }

    public init(
        sealing: OutboxSealing, settings: BufferSettings, tuning: BufferTuning = .default,
        clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "sitegate")
    ) async throws {
        path = settings.path
        self.clock = clock
        self.logger = logger
        thread = DedicatedThread(name: "buffer")
        let box = LockedValue(StoreBox())
        store = box
        let live = self.live
        do {
            let recovered = try await thread.run {
                let store = try OutboxStore(settings: settings, tuning: tuning, sealing: sealing, clock: clock, live: live)
                box.withLock { $0.store = store }
                return store.recoveredFrom
            }
            if let recovered {
                logger.critical(
                    "the buffer database was corrupt: moved aside and replaced by a new one; readings in it were not sent",
                    metadata: ["buffer.path": "\(settings.path)", "buffer.corrupt_copy": "\(recovered)"])
            }
        } catch {
            thread.shutdown()
            throw error
        }
    }

    /// Runs `body` with the store on the buffer thread; replaces a database that turns out corrupt, then retries once.
    private func withStore<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (OutboxStore) throws -> T)
        async throws -> T
    {
        let box = store
        let clock = self.clock
        let logger = self.logger
        return try await thread.run {
            guard let store = box.withLock({ $0.store }) else { throw Outbox.closedError }
            do {
                return try body(store)
            } catch let error as SQLiteError where error.isCorruption {
                let aside = try store.replaceCorruptDatabase(clock: clock)
                logger.critical(
                    "the buffer database became corrupt during \(operation): moved aside and replaced; readings in it were not sent",
                    metadata: ["buffer.corrupt_copy": "\(aside)", "error": "\(error)"])
                return try body(store)
            }
        }
    }

    /// Commits `polls` in one transaction (see `AppendResult` for what the bounds did).
    @discardableResult
    public func append(_ polls: [Poll]) async throws -> AppendResult {
        let clock = self.clock
        return try await withStore("append") { try $0.append(polls, now: clock.now()) }
    }

    /// Up to `limit` unsent messages with a sequence number above `seq` (and below `before`), oldest first.
    public func messages(after seq: Int64, before: Int64? = nil, limit: Int) async throws -> [StoredMessage] {
        try await withStore("read") { try $0.messages(after: seq, before: before, limit: limit) }
    }

    /// Up to `limit` unsent messages with a sequence number above `seq`, oldest first, for a publisher that follows
    /// the commits: from memory when every one of them is still there (no thread hand-over, no read), from the
    /// database otherwise. Either way the same messages as `messages(after:limit:)`.
    public func liveMessages(after seq: Int64, limit: Int) async throws -> [StoredMessage] {
        if let taken = live.withLock({ $0.take(after: seq, limit: limit) }) { return taken }
        return try await messages(after: seq, limit: limit)
    }

    /// Whether the publisher follows the commits (it has a broker): while it does not, commits are not kept in
    /// memory for it (see `LiveMessages`); an outage's messages are backlog, read from the database.
    public func followLive(_ on: Bool) {
        live.withLock { $0.follow(on) }
    }

    /// Tests: whether the running figures (the unsent count, the acknowledgements waiting) agree with the rows.
    func figuresAgreeWithRows() async throws -> Bool {
        try await withStore("check") { try $0.figuresAgreeWithRows() }
    }

    /// Tests: the seq above which the in-memory hand-over holds every unsent message.
    var liveCoveredAfter: Int64 { live.withLock { $0.coveredAfter } }

    /// Commits an evidence message (a checkpoint: `slotEnd` is the end of its slot) in a transaction of its own;
    /// returns its seq.
    @discardableResult
    public func commitEvidence(_ draft: MessageDraft, slotEnd: UnixTime? = nil) async throws -> Int64 {
        let clock = self.clock
        return try await withStore("commit") { try $0.commitEvidence(draft, slotEnd: slotEnd, now: clock.now()) }
    }

    /// Per device, how the ticks in [`from`, `to`) ended, from the stored rows (docs/evidence.md, "Checkpoints").
    public func slotTally(from: UnixTime, to: UnixTime) async throws -> [String: SlotTally] {
        try await withStore("tally") { try $0.slotTally(from: from, to: to) }
    }

    /// Which numbers of `range` are archived, unsent or present at all (replay requests, docs/evidence.md).
    public func replayCoverage(_ range: ClosedRange<Int64>, devices: Set<String>?, time: ClosedRange<Int64>?)
        async throws -> ReplayCoverage
    {
        try await withStore("replay") { try $0.coverage(range, devices: devices, time: time) }
    }

    /// Up to `limit` archived messages in `range` after `seq`, passing the filters, in seq order.
    public func archived(
        in range: ClosedRange<Int64>, after seq: Int64, devices: Set<String>?, time: ClosedRange<Int64>?, limit: Int
    ) async throws -> [StoredMessage] {
        try await withStore("replay") { try $0.archived(in: range, after: seq, devices: devices, time: time, limit: limit) }
    }

    /// The end of the last slot a checkpoint was committed for.
    public func lastCheckpointSlot() async throws -> UnixTime? {
        try await withStore("slots") { try $0.lastCheckpointSlot() }
    }

    /// Deletes polls the broker acknowledged, in one transaction, now or with later ones (`BufferTuning.deleteDelay`);
    /// from now on they are neither read nor counted.
    public func acknowledge(_ seqs: [Int64]) async throws {
        guard !seqs.isEmpty else { return }
        let clock = self.clock
        try await withStore("delete") { try $0.acknowledge(seqs, now: clock.now()) }
    }

    public func stats() async throws -> BufferStats {
        try await withStore("stats") { try $0.stats() }
    }

    /// The number of unsent messages (a running count, no query): for frequent checks (STATUS=).
    public func unsentCount() async throws -> Int64 {
        try await withStore("count") { Int64($0.unsentCount) }
    }

    /// `PRAGMA integrity_check`: "ok" when the database is sound.
    public func integrityCheck() async throws -> String {
        try await withStore("integrity check") { try $0.integrityCheck() }
    }

    /// Checks a buffer file without opening it for use (no recovery, no writes): "ok" when sound, SQLite's
    /// findings otherwise.
    public static func integrityCheck(path: String) -> String {
        do { return try OutboxStore.integrityCheck(path: path) } catch { return "\(error)" }
    }

    /// Deletes every buffered poll (counted as drops).
    public func purge() async throws -> DropReport {
        try await withStore("purge") { try $0.purge() }
    }

    /// Closes the database and ends the thread; queued work finishes first.
    public func close() {
        let box = store
        thread.submit {
            box.withLock { b in
                b.store?.close()
                b.store = nil
            }
        }
        thread.shutdown()
    }

    static let closedError = SQLiteError(resultCode: 21, message: "the buffer is closed", operation: "use")
}
