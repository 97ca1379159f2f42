import SitegateCore
import SitegateModbus

/// Per-device counters and the up/down state whose changes are logged (once per change, not once per failure).
public struct DeviceHealth: Sendable, Hashable {
    public typealias State = DeviceState

    public var state: State = .unknown
    public var successes = 0
    public var errorsByKind: [String: Int] = [:]
    public var missedTicks = 0
    /// Ticks not polled because the device is backed off.
    public var backoffSkips = 0
    public var backingOff = false
    /// How long the last successful poll took on the bus.
    public var lastResponseTime: Duration?
    public var lastGoodRead: UnixTime?
    public var lastError: String?
    public var consecutiveFailures = 0

    public init() {}

    /// Records a poll; returns the new state when it changed.
    public mutating func record(_ outcome: ReadOutcome, at time: UnixTime) -> State? {
        for error in outcome.errors { errorsByKind[error.kind, default: 0] += 1 }
        let previous = state
        if outcome.poll != nil && outcome.errors.isEmpty {
            successes += 1
            lastGoodRead = time
            consecutiveFailures = 0
            state = .ok
        } else {
            if outcome.poll != nil { successes += 1; lastGoodRead = time }
            consecutiveFailures += 1
            lastError = outcome.errors.first?.description
            state = .failing
        }
        return state != previous ? state : nil
    }

    /// The figures health and status messages carry (docs/gateway-messages.schema.json).
    var figures: DeviceHealthFigures {
        DeviceHealthFigures(
            state: state, readsOK: successes, errors: errorsByKind, missedTicks: missedTicks, backoff: backingOff,
            backoffSkips: backoffSkips, lastGoodRead: lastGoodRead.map { "\($0)" }, lastError: lastError)
    }
}
