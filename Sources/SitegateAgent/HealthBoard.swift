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
    }

    /// The counts behind `sitegate metrics`.
    public let counters = AgentCounters()
    private let devices = LockedValue<[String: DeviceHealth]>([:])
    private let firsts = LockedValue<Set<String>>([])

    /// True the first time `milestone` is reached in this process (start-up figures are logged once).
    func firstTime(_ milestone: String) -> Bool {
        firsts.withLock { $0.insert(milestone).inserted }
    }
    private let buffer = LockedValue(BufferHealth())
    private let broker = LockedValue(BrokerHealth())

    public init() {}

    func update(_ deviceID: String, _ body: (inout DeviceHealth) -> Void) {
        devices.withLock { body(&$0[deviceID, default: DeviceHealth()]) }
    }

    func updateBuffer<T>(_ body: (inout BufferHealth) -> T) -> T {
        buffer.withLock { body(&$0) }
    }

    func setBroker(connected: Bool, detail: String) {
        broker.withLock {
            $0.connected = connected
            $0.detail = detail
        }
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
