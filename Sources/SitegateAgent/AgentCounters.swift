import SitegateCore
import SitegateModbus
import SitegateThreads

/// What only ever grows, for `sitegate metrics`: polls by outcome, readings, broker sessions and the publish
/// latency (a bus's transactions and busy time are `BusActivity`'s, on the health board). The health board keeps states (answering or not, connected or not); these are the counts a
/// fleet's Prometheus turns into rates. Written by the pollers, the publisher and the notifier, read when scraped.
public final class AgentCounters: Sendable {
    public struct Device: Sendable, Hashable {
        /// Polls with every point read.
        public var full = 0
        /// Polls with some points read and some failed.
        public var partial = 0
        /// Polls that read nothing.
        public var failed = 0
        /// Values committed to the buffer.
        public var readings = 0
    }

    public struct Broker: Sendable, Hashable {
        /// Sessions started (CONNACK accepted).
        public var connects = 0
        /// Sessions that ended without us asking.
        public var losses = 0
        /// Connection attempts that failed or were refused.
        public var failures = 0
        /// From commit to PUBACK, per poll, in seconds: a backlog drained after an outage shows its age here.
        public var publishLatency = Histogram(bounds: AgentCounters.latencyBounds)
    }

    public struct Watchdog: Sendable, Hashable {
        public var pings = 0
        /// Whether the agent is withholding the ping because a component stalled.
        public var withholding = false
    }

    /// From 5 ms (a local broker) to a day (a long outage), roughly 2.5x apart.
    public static let latencyBounds: [Double] = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400,
    ]

    private let devices = LockedValue<[String: Device]>([:])
    private let broker = LockedValue(Broker())
    private let watchdog = LockedValue(Watchdog())

    public init() {}

    /// One poll cycle of a bus: each device's outcome.
    /// One bus cycle's reads: `outcomes[i]` is device `deviceIDs[i]`'s.
    func recordCycle<IDs: Sequence<String>>(deviceIDs: IDs, outcomes: [ReadOutcome]) {
        devices.withLock { table in
            // One look-up per device and cycle (each `table[id]` hashes the id).
            for (id, outcome) in zip(deviceIDs, outcomes) { Self.count(outcome, into: &table[id, default: Device()]) }
        }
    }

    private static func count(_ outcome: ReadOutcome, into device: inout Device) {
        guard let readings = outcome.poll?.readings.count else {
            device.failed += 1
            return
        }
        if outcome.errors.isEmpty { device.full += 1 } else { device.partial += 1 }
        device.readings += readings
    }

    func brokerConnected() { broker.withLock { $0.connects += 1 } }
    func brokerLost() { broker.withLock { $0.losses += 1 } }
    func brokerFailed() { broker.withLock { $0.failures += 1 } }
    func published(latencies: [Duration]) {
        broker.withLock { b in
            for latency in latencies { b.publishLatency.observe(max(0, latency.seconds)) }
        }
    }

    func watchdogPinged() { watchdog.withLock { $0.pings += 1 } }
    func watchdogWithholding(_ on: Bool) { watchdog.withLock { $0.withholding = on } }

    public func snapshot() -> (devices: [String: Device], broker: Broker, watchdog: Watchdog) {
        (devices.withLock { $0 }, broker.withLock { $0 }, watchdog.withLock { $0 })
    }
}
