/// The running agent's answer to `status` on its control socket: broker, buses, devices, buffer. `sitegate status`
/// renders it; `status --json` prints it.
public struct StatusReply: JSONMessage, Hashable {
    public enum Key: String, JSONKey { case site, gateway, version, time, broker, buses, devices, buffer }

    public struct Broker: Sendable, Hashable {
        public enum Key: String, JSONKey {
            case url, nodes, connected, state, connectedAt = "connected_at", lostAt = "lost_at", detail, published
        }
        /// The node in use or being tried.
        public var url: String
        /// Every node of the cluster, in the config's order.
        public var nodes: [String]
        public var connected: Bool
        /// "connected", "never connected since start", "connection lost at T"; nil from agents that predate it.
        public var state: String?
        public var connectedAt: String?
        public var lostAt: String?
        public var detail: String
        public var published: Int

        public init(
            url: String, nodes: [String], connected: Bool, state: String?, connectedAt: String?, lostAt: String?,
            detail: String, published: Int
        ) {
            self.url = url
            self.nodes = nodes
            self.connected = connected
            self.state = state
            self.connectedAt = connectedAt
            self.lostAt = lostAt
            self.detail = detail
            self.published = published
        }
    }

    /// Per bus: the sum over its devices, so that a dead line shows at a glance.
    public struct Bus: Sendable, Hashable {
        public enum Key: String, JSONKey { case id, transport, devices, ok, readsOK = "reads_ok", errors }
        public var id: String
        /// `tcp HOST:PORT` or `rtu DEVICE BAUD 8N1`.
        public var transport: String
        public var devices: Int
        public var ok: Int
        public var readsOK: Int
        public var errors: [String: Int]
        /// The bus's measured load; nil from agents that do not measure their buses.
        public var load: BusLoadFigures?

        public init(
            id: String, transport: String, devices: Int, ok: Int, readsOK: Int, errors: [String: Int],
            load: BusLoadFigures? = nil
        ) {
            self.id = id
            self.transport = transport
            self.devices = devices
            self.ok = ok
            self.readsOK = readsOK
            self.errors = errors
            self.load = load
        }
    }

    public struct Device: Sendable, Hashable {
        public enum Key: String, JSONKey { case id, bus, unit, model, lastResponseMS = "last_response_ms" }
        public var id: String
        public var bus: String
        public var unit: Int
        public var model: String
        /// How long the last successful poll took on the bus.
        public var lastResponseMS: Int64?
        public var health: DeviceHealthFigures

        public init(id: String, bus: String, unit: Int, model: String, lastResponseMS: Int64?, health: DeviceHealthFigures) {
            self.id = id
            self.bus = bus
            self.unit = unit
            self.model = model
            self.lastResponseMS = lastResponseMS
            self.health = health
        }
    }

    public var site: String
    public var gateway: String
    public var version: String
    /// As written: `2026-11-29T04:52:34.557Z`.
    public var time: String
    public var broker: Broker
    public var buses: [Bus]
    public var devices: [Device]
    public var buffer: BufferFigures

    public init(
        site: String, gateway: String, version: String, time: String, broker: Broker, buses: [Bus], devices: [Device],
        buffer: BufferFigures
    ) {
        self.site = site
        self.gateway = gateway
        self.version = version
        self.time = time
        self.broker = broker
        self.buses = buses
        self.devices = devices
        self.buffer = buffer
    }

    /// Every device answers and the broker is connected: `sitegate status` exits 0.
    public var allGood: Bool { broker.connected && devices.allSatisfy { $0.health.state == .ok } }
}
