import CSitegateShims
import SitegateCore
import SitegateThreads

/// The kernel's clock state through adjtimex(2), read only: a system call without side effects, cheap enough to
/// ask once per poll cycle.
public struct KernelClockState: ClockStateSource {
    public init() {}

    public func sample() -> ClockState? {
        var status: Int32 = 0
        var estimated = 0
        var maximum = 0
        let result = sitegate_clock_state(&status, &estimated, &maximum)
        guard result >= 0 else { return nil }
        return ClockState(adjtimexReturn: result, status: status, estimatedError: estimated, maximumError: maximum)
    }
}

/// Asks a clock state source at most once a second and keeps the answer in between, so that a bus with many short
/// cycles does not ask the kernel for each.
final class ClockSampler: Sendable {
    private struct Sample: Sendable {
        var at: UnixTime
        var state: ClockState?
    }

    private let source: any ClockStateSource
    private let last = LockedValue<Sample?>(nil)
    static let maxAge = Duration.seconds(1)

    init(source: any ClockStateSource) {
        self.source = source
    }

    /// The state at `now`, sampled anew when the last sample is a second old (or from the future: a clock step).
    func state(at now: UnixTime) -> ClockState? {
        if let cached = last.withLock({ $0 }), cached.at <= now, now - cached.at < Self.maxAge { return cached.state }
        let state = source.sample()
        last.withLock { $0 = Sample(at: now, state: state) }
        return state
    }

    /// Whether a reading taken at `now` is labelled `clock`: the kernel says unsynchronised. When it cannot tell
    /// (adjtimex refused, as under systemd's ProtectClock=yes), nothing is labelled: unknown is not unsynchronised.
    func unsynchronised(at now: UnixTime) -> Bool {
        state(at: now).map { !$0.synchronised } ?? false
    }
}
