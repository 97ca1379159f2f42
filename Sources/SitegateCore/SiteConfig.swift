/// A site's configuration after validation: every reference resolved, every value in range.
public struct SiteConfig: Sendable {
    public var site: SiteIdentity
    public var mqtt: MQTTSettings
    public var buffer: BufferSettings
    public var mapSearchPaths: [String]
    public var buses: [BusConfig]
    public var devices: [DeviceConfig]
    /// The maps the devices use, by map id.
    public var maps: [String: DeviceMap]
    /// The file it was loaded from.
    public var path: String
    /// The log level the config asks for, if any (the command line wins).
    public var logLevel: LogLevel?
    /// The agent's control socket, for `sitegate status`, `watch` and `read`.
    public var controlSocket: String = "/run/sitegate/sitegate.sock"
    /// Where to serve Prometheus metrics over HTTP, if anywhere (`metrics.listen`, loopback only).
    public var metricsListener: MetricsListener?
    /// The checkpoint slots (`evidence.slot`).
    public var evidence = EvidenceSettings()
    /// The config file's text as loaded: its SHA-256 is the checkpoints' `config_hash`.
    public var sourceText = ""
    /// The signing keys. A config built in code signs only when told to; the loader gives a config without a
    /// `signing` section `.automatic` (the default key file when there is one).
    public var signing: SigningSettings = .off

    public init(
        site: SiteIdentity, mqtt: MQTTSettings, buffer: BufferSettings, mapSearchPaths: [String], buses: [BusConfig],
        devices: [DeviceConfig], maps: [String: DeviceMap], path: String
    ) {
        self.site = site
        self.mqtt = mqtt
        self.buffer = buffer
        self.mapSearchPaths = mapSearchPaths
        self.buses = buses
        self.devices = devices
        self.maps = maps
        self.path = path
    }

    public func bus(_ id: String) -> BusConfig? { buses.first { $0.id == id } }
    public func device(_ id: String) -> DeviceConfig? { devices.first { $0.id == id } }
}

/// `evidence:`: how the gateway accounts for its ticks (docs/evidence.md, "Checkpoints").
public struct EvidenceSettings: Sendable, Hashable {
    /// One checkpoint per slot, aligned to UTC; 15 minutes by default.
    public var slots: EvidenceSlots

    public init(slots: EvidenceSlots = .quarterHour) {
        self.slots = slots
    }
}

public enum LogLevel: String, Sendable, Hashable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

public struct SiteIdentity: Sendable, Hashable {
    public var id: String
    public var gateway: String
    public var name: String?
    public var location: String?

    public init(id: String, gateway: String, name: String? = nil, location: String? = nil) {
        self.id = id
        self.gateway = gateway
        self.name = name
        self.location = location
    }
}

/// Where a secret comes from: a file, or a systemd credential (`LoadCredential=`) in `$CREDENTIALS_DIRECTORY`.
/// Secrets never appear in the YAML itself and are never logged.
public enum SecretSource: Sendable, Hashable {
    case file(String)
    case credential(String)
}

/// One broker of `mqtt.url`: a single broker, or one node of a cluster.
public struct BrokerNode: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with brackets around an IPv6 address.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct MQTTSettings: Sendable, Hashable {
    /// The brokers to connect to, in order of preference: one, or the nodes of a cluster (never empty). All share
    /// the scheme, TLS settings and credentials.
    public var nodes: [BrokerNode]
    /// The first node (the only one for a single broker).
    public var host: String {
        get { nodes[0].host }
        set { nodes[0].host = newValue }
    }
    public var port: Int {
        get { nodes[0].port }
        set { nodes[0].port = newValue }
    }
    public var useTLS: Bool
    public var topicPrefix: String
    public var clientID: String?
    public var username: String?
    public var password: SecretSource?
    /// CA certificates to verify the broker with; nil means the system store.
    public var caFile: String?
    public var certFile: String?
    public var key: SecretSource?
    /// Turns certificate verification off; only by explicit `tls_insecure: true`, warned about at every start.
    public var tlsInsecure: Bool
    public var keepalive: Duration
    /// How many QoS 1 messages may await their PUBACK at once.
    public var inflightWindow: Int
    /// "3.1.1" or "5".
    public var protocolVersion: String = "3.1.1"
    /// How often the health message is published.
    public var healthInterval: Duration = .seconds(60)
    /// Longest wait between reconnect attempts (the wait doubles from 1 s up to this, randomised to 50-100%).
    public var reconnectMax: Duration = .seconds(60)

    public init(
        host: String, port: Int, useTLS: Bool = false, topicPrefix: String = "gia/v1", clientID: String? = nil,
        username: String? = nil, password: SecretSource? = nil, caFile: String? = nil, certFile: String? = nil,
        key: SecretSource? = nil, tlsInsecure: Bool = false, keepalive: Duration = .seconds(30), inflightWindow: Int = 100
    ) {
        self.nodes = [BrokerNode(host: host, port: port)]
        self.useTLS = useTLS
        self.topicPrefix = topicPrefix
        self.clientID = clientID
        self.username = username
        self.password = password
        self.caFile = caFile
        self.certFile = certFile
        self.key = key
        self.tlsInsecure = tlsInsecure
        self.keepalive = keepalive
        self.inflightWindow = inflightWindow
    }

    /// `mqtt://host:port` or `mqtts://host:port` of node `index`.
    public func url(ofNode index: Int) -> String {
        "\(useTLS ? "mqtts" : "mqtt")://\(nodes[index])"
    }
}

public enum Durability: String, Sendable, Hashable, CaseIterable {
    /// fsync at every commit: a committed poll survives power loss.
    case full
    /// fsync at WAL checkpoints only: power loss may lose the last commits, never corrupts.
    case normal
}

/// What the buffer does when it reaches its size bound.
public enum BufferFullPolicy: String, Sendable, Hashable, CaseIterable {
    /// Delete the oldest polls to make room (counted and reported as drops).
    case dropOldest = "drop_oldest"
    /// Stop committing new polls until the broker drains the backlog (new readings are not taken).
    case pause
}

public struct BufferSettings: Sendable, Hashable {
    public var path: String
    public var durability: Durability
    /// Bound on the bytes the buffer's rows occupy in the database file.
    public var maxBytes: Int64
    /// Polls older than this are dropped (counted) even when there is room.
    public var maxAge: Duration
    public var whenFull: BufferFullPolicy
    /// How long acknowledged messages stay in the archive, for replay requests (docs/evidence.md); zero: none.
    public var retain: Duration
    /// Bound on the archive's payload bytes; the archive also shrinks first whenever `maxBytes` is short.
    public var retainBytes: Int64

    public init(
        path: String, durability: Durability = .full, maxBytes: Int64 = 128 << 20, maxAge: Duration = .seconds(90 * 86400),
        whenFull: BufferFullPolicy = .dropOldest, retain: Duration = .seconds(7 * 86400), retainBytes: Int64 = 32 << 20
    ) {
        self.path = path
        self.durability = durability
        self.maxBytes = maxBytes
        self.maxAge = maxAge
        self.whenFull = whenFull
        self.retain = retain
        self.retainBytes = retainBytes
    }

    /// Whether acknowledged messages are kept for replays.
    public var archives: Bool { retain > .zero && retainBytes > 0 }
}

public enum Parity: String, Sendable, Hashable, CaseIterable {
    case none, even, odd
}

public enum BusTransport: Sendable, Hashable {
    case tcp(host: String, port: Int)
    case rtu(device: String, baud: Int, parity: Parity, dataBits: Int, stopBits: Int)
}

extension BusTransport {
    /// The inter-frame silence t3.5 on a serial line (MBSL V1.02 §2.5.1.1); zero over TCP.
    public var minimumIdle: Duration {
        guard case .rtu(_, let baud, let parity, let dataBits, let stopBits) = self else { return .zero }
        let tChar = BusTimingModel.characterTime(baud: baud, dataBits: dataBits, parity: parity, stopBits: stopBits)
        return .microseconds(Int64((BusTimingModel.t35(baud: baud, characterTime: tChar) * 1e6).rounded(.up)))
    }
}

public struct BusConfig: Sendable, Hashable {
    public var id: String
    public var transport: BusTransport
    public var responseTimeout: Duration
    public var byteTimeout: Duration
    /// Idle time kept between two transactions on this bus (a device's map may ask for more).
    public var delayBetweenRequests: Duration
    /// Switch the serial port to RS-485 mode (TIOCSRS485), for adapters whose driver needs it.
    public var rs485: Bool = false
    /// A TCP endpoint that is a Modbus TCP-to-RTU gateway: the devices behind it sit on a serial line, so their
    /// maps' `min_delay` applies (`tcp: {rtu_gateway: true}`).
    public var rtuGateway: Bool = false

    /// Whether the devices on this bus share a serial line's timing (an RTU bus, or TCP through a gateway): only
    /// then do the maps' `min_delay` values apply; a native TCP meter answers at network speed.
    public var hasSerialTiming: Bool {
        if case .rtu = transport { return true }
        return rtuGateway
    }

    public init(
        id: String, transport: BusTransport, responseTimeout: Duration = .seconds(1),
        byteTimeout: Duration = .milliseconds(500), delayBetweenRequests: Duration = .zero
    ) {
        self.id = id
        self.transport = transport
        self.responseTimeout = responseTimeout
        self.byteTimeout = byteTimeout
        self.delayBetweenRequests = delayBetweenRequests
    }
}

/// Points of one device read together on one interval.
public struct PollGroup: Sendable, Hashable {
    public var name: String
    public var interval: Duration
    public var offset: Duration
    public var pointIDs: [String]

    public init(name: String, interval: Duration, offset: Duration = .zero, pointIDs: [String]) {
        self.name = name
        self.interval = interval
        self.offset = offset
        self.pointIDs = pointIDs
    }
}

extension DeviceConfig {
    /// Every point any of the device's groups reads, in the map's order (register order for people).
    public func configuredPoints(in map: DeviceMap) -> [String] {
        let wanted = Set(groups.flatMap(\.pointIDs))
        return map.points.map(\.id).filter(wanted.contains)
    }
}

public struct DeviceConfig: Sendable, Hashable {
    public var id: String
    public var busID: String
    public var unit: Int
    public var model: String
    public var groups: [PollGroup]
    public var serialNumber: String?
    /// Overrides of the map's defaults for this one device.
    public var wordOrder: WordOrder?
    public var minDelay: Duration?

    public init(
        id: String, busID: String, unit: Int, model: String, groups: [PollGroup], serialNumber: String? = nil,
        wordOrder: WordOrder? = nil, minDelay: Duration? = nil
    ) {
        self.id = id
        self.busID = busID
        self.unit = unit
        self.model = model
        self.groups = groups
        self.serialNumber = serialNumber
        self.wordOrder = wordOrder
        self.minDelay = minDelay
    }
}
