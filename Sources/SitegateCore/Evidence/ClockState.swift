/// The kernel's view of its wall clock, as adjtimex(2) reports it read-only: whether it is synchronised (to NTP,
/// PTP or GPS through a daemon that disciplines it) and the error bounds the daemon last set.
public struct ClockState: Sendable, Hashable {
    public var synchronised: Bool
    /// The estimated error, in microseconds (`esterror`).
    public var estimatedErrorMicroseconds: Int64
    /// The maximum error, in microseconds (`maxerror`); the kernel grows it while nothing disciplines the clock.
    public var maximumErrorMicroseconds: Int64

    public init(synchronised: Bool, estimatedErrorMicroseconds: Int64, maximumErrorMicroseconds: Int64) {
        self.synchronised = synchronised
        self.estimatedErrorMicroseconds = estimatedErrorMicroseconds
        self.maximumErrorMicroseconds = maximumErrorMicroseconds
    }

    /// `STA_UNSYNC` in `timex.status` (linux/timex.h).
    public static let statusUnsynchronised: Int32 = 0x0040
    /// adjtimex's return value `TIME_ERROR`: the clock is not synchronised.
    public static let timeError: Int32 = 5

    /// Reads adjtimex's answer: unsynchronised when the status has `STA_UNSYNC` or the call returned `TIME_ERROR`
    /// (the kernel sets both when the maximum error exceeds 16 s, or when no daemon ever synchronised it).
    public init(adjtimexReturn result: Int32, status: Int32, estimatedError: Int, maximumError: Int) {
        self.init(
            synchronised: result != Self.timeError && status & Self.statusUnsynchronised == 0,
            estimatedErrorMicroseconds: Int64(estimatedError), maximumErrorMicroseconds: Int64(maximumError))
    }

    /// What tests inject for a clock nobody synchronises (the kernel's maximum error bound, 16 s).
    public static let unsynchronised = ClockState(
        synchronised: false, estimatedErrorMicroseconds: 16_000_000, maximumErrorMicroseconds: 16_000_000)
    /// A well-synchronised clock, for tests.
    public static let synchronisedExample = ClockState(
        synchronised: true, estimatedErrorMicroseconds: 120, maximumErrorMicroseconds: 16_000)
}

/// Where the clock state comes from: the kernel (adjtimex) in the agent, a fixed state in tests.
public protocol ClockStateSource: Sendable {
    /// The state now; nil when the kernel cannot tell (the call failed).
    func sample() -> ClockState?
}

/// A clock state that never changes: injected by tests (see `FaultInjection`).
public struct FixedClockState: ClockStateSource {
    public var state: ClockState
    public init(_ state: ClockState) { self.state = state }
    public func sample() -> ClockState? { state }
}
