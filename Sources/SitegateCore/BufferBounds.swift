/// The buffer's bounds as decisions: when new polls are refused, and how much of the oldest is dropped when the size
/// bound, the age bound or a full disk is reached.
///
/// Pure: the outbox measures (bytes used, free space on the file system, the clock) and carries out what this says,
/// so the policy is tested without a database or a full disk.
public struct BufferBounds: Sendable, Hashable {
    public var maxBytes: Int64
    public var maxAge: Duration
    public var whenFull: BufferFullPolicy

    /// The share of the stored rows dropped per step while making room: small, so that little more than needed goes.
    public static let dropStep = 0.02
    /// The share dropped at once when the disk itself is full: the write must succeed right after.
    public static let diskFullStep = 0.05
    /// How often the age bound is checked; finding the oldest row costs a look-up, not worth doing every commit.
    public static let ageCheckInterval: Duration = .seconds(60)

    public init(maxBytes: Int64, maxAge: Duration, whenFull: BufferFullPolicy) {
        self.maxBytes = maxBytes
        self.maxAge = maxAge
        self.whenFull = whenFull
    }

    public init(_ settings: BufferSettings) {
        self.init(maxBytes: settings.maxBytes, maxAge: settings.maxAge, whenFull: settings.whenFull)
    }

    /// Before a commit: `pause` stores nothing new once the size bound is reached. The size is measured only when
    /// the policy needs it (a query per commit saved with `drop_oldest`).
    public func refusesNewPolls<E: Error>(usedBytes: () throws(E) -> Int64) throws(E) -> Bool {
        guard whenFull == .pause else { return false }
        return try usedBytes() >= maxBytes
    }

    /// When the disk is full even after emptying the write-ahead log: the share of the oldest to drop so that the
    /// write succeeds, or nil to pause (`pause` never drops unsent polls).
    public var diskFullDrop: Double? {
        whenFull == .dropOldest ? Self.diskFullStep : nil
    }

    /// After a commit: whether to drop the oldest because the file system is nearly full (less than twice the reserve
    /// left; measured only with `drop_oldest`), so that it never runs full while writing still works.
    public func dropsForFreeSpace(free: () -> Int64, reserve: Int64) -> Bool {
        whenFull == .dropOldest && free() < 2 * reserve
    }

    /// After a commit: whether the size bound calls for drops (the size measured only with `drop_oldest`).
    public func dropsForSize<E: Error>(usedBytes: () throws(E) -> Int64) throws(E) -> Bool {
        guard whenFull == .dropOldest else { return false }
        return try usedBytes() > maxBytes
    }

    /// Once dropping for size, the oldest go until the buffer is this small: some room, so that the next commits do
    /// not each drop again.
    public var sizeAfterDrops: Int64 { maxBytes * 95 / 100 }

    /// When the age bound is checked at `now` (the last check was at `lastCheck`): the time before which polls are
    /// dropped, or nil when no check is due.
    public func ageCutoff(now: UnixTime, lastCheck: UnixTime) -> UnixTime? {
        guard now - lastCheck > Self.ageCheckInterval else { return nil }
        return now + (.zero - maxAge)
    }
}
