/// Ticks aligned to wall-clock boundaries: a 15-minute interval ticks at :00, :15, :30 and :45 UTC, shifted by an
/// optional offset. A tick that cannot run on time is skipped and counted, never shifted and never caught up.
public struct WallClockSchedule: Sendable, Hashable {
    public var interval: Duration
    public var offset: Duration

    public init(interval: Duration, offset: Duration = .zero) {
        precondition(interval > .zero, "interval must be positive")
        self.interval = interval
        self.offset = offset
    }

    /// The first tick strictly after `time`.
    public func nextTick(after time: UnixTime) -> UnixTime {
        let step = interval.nanosecondsClamped
        let shift = offset.nanosecondsClamped
        let k = (time.nanoseconds - shift).floorDiv(step) + 1
        return UnixTime(nanoseconds: k * step + shift)
    }

    /// The tick at or before `time`.
    public func tick(atOrBefore time: UnixTime) -> UnixTime {
        let step = interval.nanosecondsClamped
        let shift = offset.nanosecondsClamped
        return UnixTime(nanoseconds: (time.nanoseconds - shift).floorDiv(step) * step + shift)
    }

    /// After the tick `due` ran (or was due) and it is now `now`: the next tick to wait for, and how many ticks
    /// between the two were missed because the bus could not keep up.
    public func advance(from due: UnixTime, now: UnixTime) -> (next: UnixTime, missed: Int) {
        let next = nextTick(after: max(due, now))
        let step = interval.nanosecondsClamped
        let skipped = (next.nanoseconds - due.nanoseconds) / step - 1
        return (next, Int(max(0, skipped)))
    }
}
