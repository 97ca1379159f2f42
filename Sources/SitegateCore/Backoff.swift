/// Capped exponential backoff for a device that stopped answering.
///
/// A silent device costs a full response timeout per request and delays every other device on its bus. After
/// `threshold` consecutive failed polls it is tried only every interval × 2^k (k = failures beyond the threshold),
/// at most every `cap`; the first answer ends the backoff.
public struct Backoff: Sendable, Hashable {
    public var threshold: Int
    public var cap: Duration
    public private(set) var failures = 0
    public private(set) var until: UnixTime?

    public init(threshold: Int = 3, cap: Duration = .seconds(300)) {
        self.threshold = threshold
        self.cap = cap
    }

    public var isBackingOff: Bool { until != nil }

    public func allows(at now: UnixTime) -> Bool {
        guard let until else { return true }
        return now >= until
    }

    public mutating func recordSuccess() {
        failures = 0
        until = nil
    }

    /// Records a failed poll of a device polled every `interval`; returns the delay now in force, if any.
    @discardableResult
    public mutating func recordFailure(at now: UnixTime, interval: Duration) -> Duration? {
        failures += 1
        guard failures >= threshold else { return nil }
        let exponent = min(failures - threshold, 20)
        var delay = interval * (1 << exponent)
        if delay > cap { delay = max(cap, interval) }
        until = now + delay
        return delay
    }
}
