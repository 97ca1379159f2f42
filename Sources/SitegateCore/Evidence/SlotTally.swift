/// One device's committed data messages whose tick lies in a slot, as the outbox counts them from its stored
/// rows: how many polls of each outcome, and the lowest and highest `seq` among them. It survives restarts and
/// `kill -9` because it is read from the buffer, not kept in memory.
public struct SlotTally: Sendable, Hashable {
    public var full: Int
    public var partial: Int
    public var failed: Int
    /// The lowest and highest `seq` of the device's data messages of the slot; nil when there were none.
    public var firstSeq: Int64?
    public var lastSeq: Int64?

    public init(full: Int = 0, partial: Int = 0, failed: Int = 0, firstSeq: Int64? = nil, lastSeq: Int64? = nil) {
        self.full = full
        self.partial = partial
        self.failed = failed
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
    }

    public subscript(outcome: PollOutcome) -> Int {
        get {
            switch outcome {
            case .full: full
            case .partial: partial
            case .failed: failed
            }
        }
        set {
            switch outcome {
            case .full: full = newValue
            case .partial: partial = newValue
            case .failed: failed = newValue
            }
        }
    }

    /// Every poll counted.
    public var polls: Int { full + partial + failed }

    /// Adds `count` polls of `outcome` whose `seq`s lie in `firstSeq...lastSeq` (one row, or one GROUP BY group).
    public mutating func add(_ outcome: PollOutcome, count: Int = 1, firstSeq: Int64, lastSeq: Int64) {
        self[outcome] += count
        self.firstSeq = min(self.firstSeq ?? firstSeq, firstSeq)
        self.lastSeq = max(self.lastSeq ?? lastSeq, lastSeq)
    }
}

/// Ticks of a slot that produced no poll, by reason (docs/evidence.md, "Accounting for every tick").
public struct MissedTicks: Sendable, Hashable {
    /// The bus was still busy with earlier ticks.
    public var overrun: Int
    /// The wall clock jumped over them.
    public var clockStep: Int
    /// The agent was not running, or the device was not configured, at those ticks.
    public var notRunning: Int

    public init(overrun: Int = 0, clockStep: Int = 0, notRunning: Int = 0) {
        self.overrun = overrun
        self.clockStep = clockStep
        self.notRunning = notRunning
    }

    public var total: Int { overrun + clockStep + notRunning }
}

/// Why a run of ticks was missed while the agent ran (`not-running` is what is left over at checkpoint time).
public enum MissReason: String, Sendable, Hashable, CaseIterable {
    case overrun
    case clockStep = "clock-step"
}

/// Consecutive ticks of one device's schedule that were skipped for one reason: the ticks in `[from, to)`.
/// Kept in memory until their slots are checkpointed (after `kill -9` they count as `not-running`).
public struct MissedTickRun: Sendable, Hashable {
    public var deviceID: String
    public var schedule: WallClockSchedule
    public var from: UnixTime
    public var to: UnixTime
    public var reason: MissReason

    public init(deviceID: String, schedule: WallClockSchedule, from: UnixTime, to: UnixTime, reason: MissReason) {
        self.deviceID = deviceID
        self.schedule = schedule
        self.from = from
        self.to = to
        self.reason = reason
    }

    /// The run's ticks that lie in `slot`.
    public func ticks(within slot: Range<UnixTime>) -> Int {
        schedule.ticks(from: from, to: to, within: slot)
    }
}
