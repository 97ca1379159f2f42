/// Faults that tests inject into a running agent, passed in by the composition root (`sitegate run` takes them from
/// its environment; see `RunCommand`). Product code never reads the environment for them. Empty in production.
public struct FaultInjection: Sendable, Hashable {
    /// Blocks this bus's thread for good, as a driver stuck in a system call would: for tests of the watchdog.
    public var hangingBus: String?

    public init(hangingBus: String? = nil) {
        self.hangingBus = hangingBus
    }

    /// No fault: what production runs with.
    public static let none = FaultInjection()
}
