import SitegateCore

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
    /// When the first poll in the buffer (the lowest seq) was taken.
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
    /// The archive of acknowledged messages kept for replays (zero when `buffer.retain` is 0).
    public var archive: ArchiveStats = ArchiveStats()
}

public struct ArchiveStats: Sendable, Hashable {
    public var count = 0
    public var bytes: Int64 = 0
    public var oldestSeq: Int64?
    /// When the oldest archived message was committed.
    public var oldestCommittedAt: UnixTime?
    /// Archived messages deleted early because space was short (over the database's life).
    public var evicted = 0
    public var maxBytes: Int64 = 0
    public var retain: Duration = .zero

    public init() {}
}
