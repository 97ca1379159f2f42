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
