import SitegateCore

/// Faults that tests inject into a running agent, passed in by the composition root (`sitegate run` takes them from
/// its environment; see `RunCommand`). Product code never reads the environment for them. Empty in production.
public struct FaultInjection: Sendable, Hashable {
    /// Blocks this bus's thread for good, as a driver stuck in a system call would: for tests of the watchdog.
    public var hangingBus: String?
    /// The kernel clock state to report instead of adjtimex's: for tests of the `clock` label and the checkpoints'
    /// clock (the machine's own clock may be synchronised or not).
    public var clock: ClockState?

    public init(hangingBus: String? = nil, clock: ClockState? = nil) {
        self.hangingBus = hangingBus
        self.clock = clock
    }

    /// No fault: what production runs with.
    public static let none = FaultInjection()

    /// Where the clock state comes from: the injected one, else the kernel.
    var clockSource: any ClockStateSource {
        clock.map { FixedClockState($0) } ?? KernelClockState()
    }
}
