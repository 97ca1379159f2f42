import SitegateBuffer
import SitegateCore
import SitegateThreads

/// The agent's current view of its devices, buffer and broker connection: written by the pollers and the
/// publisher, read by logging and status reporting.
public final class HealthBoard: Sendable {
    public struct BufferHealth: Sendable, Hashable {
        /// Polls deleted by the size and age bounds since start.
        public var drops = DropReport()
        /// Polls not committed because the buffer was full with policy pause, or the disk failed.
        public var notCommitted = 0
        public var paused = false
        public var lastError: String?
    }

    public struct BrokerHealth: Sendable, Hashable {
        public var connected = false
        public var detail = "not connected yet"
        public var published = 0
        /// The node in use, or being tried (its URL); nil before the first attempt.
        public var node: String?
        /// When the current or last session began; nil when the agent never connected since start.
        public var connectedAt: UnixTime?
        /// When the last session ended; nil while the first session lasts or none began.
        public var lostAt: UnixTime?

        /// "connected", "never connected since start" or "connection lost at T".
        public var state: String {
            if connected { return "connected" }
            guard let lostAt else { return "never connected since start" }
            return "connection lost at \(lostAt)"
        }

        /// For STATUS=: "connected to mqtt://b:1883", "disconnected (never connected since start), trying ...".
        public var statusText: String {
            if connected { return "connected to \(node ?? "?")" }
            return "disconnected (\(state))" + (node.map { ", trying \($0)" } ?? "")
        }
    }

    /// The counts behind `sitegate metrics`.
    public let counters = AgentCounters()
    /// How far each bus has accounted for its ticks, and the ticks missed, for the checkpoints.
    public let ticks = TickLedger()
    private let devices = LockedValue<[String: DeviceHealth]>([:])
    private let firsts = LockedValue<Set<String>>([])

    /// True the first time `milestone` is reached in this process (start-up figures are logged once).
    func firstTime(_ milestone: String) -> Bool {
        firsts.withLock { $0.insert(milestone).inserted }
    }
    private let buffer = LockedValue(BufferHealth())
    private let broker = LockedValue(BrokerHealth())
    private let buses = LockedValue<[String: BusActivity]>([:])

    public init() {}

    /// Fresh measurements for a bus whose poller (re)starts with new settings.
    func startBus(_ id: String, at time: UnixTime) {
        buses.withLock { $0[id] = BusActivity(start: time) }
    }

    /// A bus no longer polled (removed by a reload).
    func forgetBus(_ id: String) {
        buses.withLock { _ = $0.removeValue(forKey: id) }
    }

    /// One poll cycle of a bus and the ticks its devices missed because of it.
    func recordBusCycle(_ id: String, start: UnixTime, end: UnixTime, transactions: Int, timeouts: Int, missedTicks: Int) {
        buses.withLock {
            $0[id, default: BusActivity(start: start)].recordCycle(
                start: start, end: end, transactions: transactions, timeouts: timeouts)
            $0[id]!.recordMissedTicks(missedTicks, at: end)
        }
    }

    /// Each bus's measured transactions, timeouts, utilisation and missed ticks, by bus id (for status, health
    /// and metrics).
    public func busFigures(at now: UnixTime) -> [String: BusActivity.Figures] {
        buses.withLock { $0 }.mapValues { $0.figures(at: now) }
    }

    func update(_ deviceID: String, _ body: (inout DeviceHealth) -> Void) {
        devices.withLock { body(&$0[deviceID, default: DeviceHealth()]) }
    }

    func updateBuffer<T>(_ body: (inout BufferHealth) -> T) -> T {
        buffer.withLock { body(&$0) }
    }

    func setBroker(connected: Bool, detail: String, at now: UnixTime = SystemWallClock().now()) {
        broker.withLock {
            if connected && !$0.connected { $0.connectedAt = now }
            if !connected && $0.connected { $0.lostAt = now }
            $0.connected = connected
            $0.detail = detail
        }
    }

    /// The node the client uses or tries now.
    func setBrokerNode(_ url: String) {
        broker.withLock { $0.node = url }
    }

    /// One flag, without copying the device table (asked once per poll cycle).
    var brokerConnected: Bool { broker.withLock { $0.connected } }

    func recordPublished(_ count: Int) {
        broker.withLock { $0.published += count }
    }

    public func snapshot() -> (devices: [String: DeviceHealth], buffer: BufferHealth, broker: BrokerHealth) {
        (devices.withLock { $0 }, buffer.withLock { $0 }, broker.withLock { $0 })
    }
}
