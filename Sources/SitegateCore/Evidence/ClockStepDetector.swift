/// Tells a step of the wall clock (set by hand, or by an NTP daemon correcting a large offset) from time passing:
/// between two observations, the wall clock should advance as much as a monotonic clock does.
public struct ClockStepDetector: Sendable, Hashable {
    private var lastWall: Int64?
    private var lastMonotonic: Int64 = 0

    public init() {}

    /// Records the two clocks now; returns how far the wall clock moved beyond (or behind, negative) the monotonic
    /// clock since the last observation: zero for the first one.
    public mutating func observe(wall: UnixTime, monotonic: Duration) -> Duration {
        let m = monotonic.nanosecondsClamped
        defer {
            lastWall = wall.nanoseconds
            lastMonotonic = m
        }
        guard let lastWall else { return .zero }
        return .nanoseconds((wall.nanoseconds - lastWall) - (m - lastMonotonic))
    }

    /// Whether a jump is a clock step for a schedule of `interval`: more than two intervals either way (less is
    /// the ordinary slew of a disciplined clock, or a late wake-up).
    public static func isStep(_ jump: Duration, interval: Duration) -> Bool {
        abs(jump.nanosecondsClamped) > 2 * interval.nanosecondsClamped
    }
}
