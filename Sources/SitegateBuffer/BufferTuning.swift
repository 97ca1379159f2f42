/// How the buffer writes to storage: the knobs behind the flash-wear figures in docs/performance.md. The agent
/// runs with the defaults; the benchmarks vary them. Not a site-config setting.
public struct BufferTuning: Sendable, Hashable {
    /// SQLite page size of a new database (an existing database keeps its own).
    public var pageSize: Int
    /// Write-ahead-log pages after which SQLite copies the log into the database (a checkpoint).
    public var walAutocheckpoint: Int
    /// Bytes the write-ahead-log file is cut back to after a checkpoint.
    public var journalSizeLimit: Int
    /// Acknowledged messages wait in memory and are settled (written to the `settled` ranges, the archive pruned)
    /// together, with the first commit of new polls at least this long after the oldest waiting one, or on their
    /// own at the first acknowledgement twice as long after it (zero: at once). Every commit that leaves them out
    /// writes one page less (docs/performance.md, "Flash wear"). Settling is not what `durability` promises: after
    /// a crash the messages not settled yet are sent again (same seq, same bytes), never lost.
    public var deleteDelay: Duration
    /// ... or once this many acknowledged polls wait.
    public var deleteBatchLimit: Int
    /// Acknowledged polls are kept until a checkpoint has counted them (docs/evidence.md): the agent writes
    /// checkpoints. Off for tools that open the buffer without writing checkpoints.
    public var keepsAckedForCheckpoints: Bool

    /// The defaults are measured choices (docs/performance.md, "Flash wear"): deletes that ride with the next
    /// cycle's commit halve the bytes written per reading. 2 KiB pages would cut them by another third, but make
    /// the database about a quarter larger for 30-point polls (two rows per page), so pages stay at 4 KiB; the
    /// WAL settings changed little and stay small for a full disk's sake.
    public init(
        pageSize: Int = 4096, walAutocheckpoint: Int = 256, journalSizeLimit: Int = 1 << 20,
        deleteDelay: Duration = .seconds(60), deleteBatchLimit: Int = 4096, keepsAckedForCheckpoints: Bool = false
    ) {
        self.keepsAckedForCheckpoints = keepsAckedForCheckpoints
        self.pageSize = pageSize
        self.walAutocheckpoint = walAutocheckpoint
        self.journalSizeLimit = journalSizeLimit
        self.deleteDelay = deleteDelay
        self.deleteBatchLimit = deleteBatchLimit
    }

    /// What the agent uses.
    public static let `default` = BufferTuning()
}
