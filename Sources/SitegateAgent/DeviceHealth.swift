import SitegateCore
import SitegateModbus

/// Per-device counters and the up/down state whose changes are logged (once per change, not once per failure).
public struct DeviceHealth: Sendable, Hashable {
    public enum State: String, Sendable { case unknown, ok, failing }

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

    /// The JSON fields health and status messages share (docs/gateway-messages.schema.json), without braces.
    func jsonFields() -> [String] {
        let errors = errorsByKind.keys.sorted().map { "\(JSONText.quoted($0)):\(errorsByKind[$0]!)" }
        var fields = [
            "\"state\":\(JSONText.quoted(state.rawValue))", "\"reads_ok\":\(successes)",
            "\"errors\":{\(errors.joined(separator: ","))}", "\"missed_ticks\":\(missedTicks)",
            "\"backoff\":\(backingOff)", "\"backoff_skips\":\(backoffSkips)",
            "\"last_good_read\":" + (lastGoodRead.map { JSONText.quoted("\($0)") } ?? "null"),
        ]
        if let e = lastError { fields.append("\"last_error\":\(JSONText.quoted(e))") }
        return fields
    }
}
