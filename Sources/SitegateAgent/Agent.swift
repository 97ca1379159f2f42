import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateConfig
import SitegateCore
import SitegateModbus
import SitegateMQTT
import SitegateSystemd
import SitegateThreads
import UnixSignals

/// The running gateway: one poller per bus, one publisher, one outbox, wired from a validated config.
///
/// Data flows one way: schedule -> bus -> readings -> outbox -> publisher -> broker.
public final class Agent: Sendable {
    /// The config in force; a reload replaces it.
    public var config: SiteConfig { current.withLock { $0 } }
    private let current: LockedValue<SiteConfig>
    public let health = HealthBoard()
    let logger: Logger

    let version: String
    let startedAt = SystemWallClock().now()

    public init(config: SiteConfig, version: String, logger: Logger) {
        current = LockedValue(config)
        self.version = version
        self.logger = logger
    }

    /// The MQTT client id: the configured one, or `sitegate-{site}-{gateway}`.
    public var clientID: String {
        config.mqtt.clientID ?? "sitegate-\(config.site.id)-\(config.site.gateway)"
    }

    /// Runs until SIGTERM or SIGINT, then drains in-flight messages and stops.
    public func run() async throws {
        let outbox = try await Outbox(settings: config.buffer, logger: logger)
        defer { outbox.close() }
        let stats = try await outbox.stats()
        logger.info(
            "buffer opened",
            metadata: ["buffer.path": "\(outbox.path)", "buffer.depth": "\(stats.depth)", "buffer.last_seq": "\(stats.lastSeq)"])

        let announcements = Announcements(config: config, version: version, started: startedAt)
        var options = try clientOptions()
        options.will = MQTTClient.Will(topic: announcements.topics.status, payload: announcements.offline)
        let client = try MQTTClient(options: options)
        let publisher = Publisher(
            client: client, outbox: outbox, topics: announcements.topics,
            encoder: SenMLEncoder(siteID: config.site.id, gatewayID: config.site.gateway),
            window: config.mqtt.inflightWindow, health: health, brokers: BrokerEndpoints(config.mqtt),
            announcements: announcements, logger: logger)

        let notifier = SystemdNotifier()
        let watchdog = LockedValue(ProgressWatchdog<ContinuousClock.Instant>())
        watchdog.withLock {
            $0.register("publisher", allowance: WatchdogAllowance.publisher(keepalive: config.mqtt.keepalive), now: .now, idle: true)
        }
        let supervisor = PollerSupervisor(
            agent: self, outbox: outbox, publisher: publisher, watchdog: watchdog, logger: logger)
        publisher.attach(watchdog: watchdog)
        // Started in this order, stopped in reverse: the notifier hears of shutdown first, the publisher last.
        var services: [any Service] = [
            publisher, supervisor,
            ControlServer(path: config.controlSocket, agent: self, outbox: outbox, supervisor: supervisor, logger: logger),
            ReloadService(agent: self, supervisor: supervisor, publisher: publisher, notifier: notifier, logger: logger),
            NotifyService(agent: self, outbox: outbox, notifier: notifier, watchdog: watchdog, logger: logger),
        ]
        if let listener = config.metricsListener {
            services.append(MetricsHTTPServer(listener: listener, agent: self, outbox: outbox, logger: logger))
        }
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // Below the unit's TimeoutStopSec (30 s): the drain ends before systemd would kill us.
        configuration.maximumGracefulShutdownDuration = .seconds(20)
        let group = ServiceGroup(configuration: configuration)
        logger.info(
            "sitegate running",
            metadata: ["site.id": "\(config.site.id)", "devices": "\(config.devices.count)", "buses": "\(config.buses.count)"])
        try await group.run()
        logger.info("sitegate stopped")
    }

    /// The running agent's state for `sitegate status`: devices, buffer, broker.
    func statusJSON(outbox: Outbox) async -> String {
        let (devices, bufferHealth, broker) = health.snapshot()
        let stats = try? await outbox.stats()
        let deviceFields = config.devices.map { device -> String in
            let h = devices[device.id] ?? DeviceHealth()
            let fields = [
                "\"id\":\(JSONText.quoted(device.id))", "\"bus\":\(JSONText.quoted(device.busID))", "\"unit\":\(device.unit)",
                "\"model\":\(JSONText.quoted(device.model))",
                "\"last_response_ms\":" + (h.lastResponseTime.map { "\($0.milliseconds)" } ?? "null"),
            ] + h.jsonFields()
            return "{" + fields.joined(separator: ",") + "}"
        }
        // Per bus: the sum over its devices, so a dead line shows at a glance.
        let busFields = config.buses.map { bus -> String in
            let members = config.devices.filter { $0.busID == bus.id }.map { devices[$0.id] ?? DeviceHealth() }
            var errors: [String: Int] = [:]
            for m in members { for (k, n) in m.errorsByKind { errors[k, default: 0] += n } }
            let transport: String = switch bus.transport {
            case .tcp(let host, let port): "tcp \(host):\(port)"
            case .rtu(let device, let baud, let parity, let dataBits, let stopBits):
                "rtu \(device) \(baud) \(dataBits)\(parity.rawValue.prefix(1).uppercased())\(stopBits)"
            }
            return "{\"id\":\(JSONText.quoted(bus.id)),\"transport\":\(JSONText.quoted(transport)),"
                + "\"devices\":\(members.count),\"ok\":\(members.filter { $0.state == .ok }.count),"
                + "\"reads_ok\":\(members.reduce(0) { $0 + $1.successes }),"
                + "\"errors\":{\(errors.keys.sorted().map { "\(JSONText.quoted($0)):\(errors[$0]!)" }.joined(separator: ","))}}"
        }
        var buffer = ["\"not_committed\":\(bufferHealth.notCommitted)", "\"paused\":\(bufferHealth.paused)"]
        if let b = stats {
            buffer += [
                "\"depth\":\(b.depth)", "\"oldest\":" + (b.oldestTakenAt.map { JSONText.quoted("\($0)") } ?? "null"),
                "\"used_bytes\":\(b.usedBytes)", "\"max_bytes\":\(b.maxBytes)", "\"drops\":\(b.drops.count)",
                "\"last_seq\":\(b.lastSeq)",
            ]
        }
        return "{\"site\":\(JSONText.quoted(config.site.id)),\"gateway\":\(JSONText.quoted(config.site.gateway)),"
            + "\"version\":\(JSONText.quoted(version)),\"time\":\(JSONText.quoted("\(SystemWallClock().now())")),"
            + "\"broker\":{\"url\":\(JSONText.quoted(broker.node ?? config.mqtt.url(ofNode: 0))),"
            + "\"nodes\":[\(config.mqtt.nodes.indices.map { JSONText.quoted(config.mqtt.url(ofNode: $0)) }.joined(separator: ","))],"
            + "\"connected\":\(broker.connected),\"state\":\(JSONText.quoted(broker.state)),"
            + "\"connected_at\":" + (broker.connectedAt.map { JSONText.quoted("\($0)") } ?? "null") + ","
            + "\"lost_at\":" + (broker.lostAt.map { JSONText.quoted("\($0)") } ?? "null") + ","
            + "\"detail\":\(JSONText.quoted(broker.detail)),\"published\":\(broker.published)},"
            + "\"buses\":[\(busFields.joined(separator: ","))],"
            + "\"devices\":[\(deviceFields.joined(separator: ","))],\"buffer\":{\(buffer.joined(separator: ","))}}"
    }

    /// The MQTT client's settings, with secrets read now (never logged).
    public func clientOptions() throws -> MQTTClient.Options {
        let mqtt = config.mqtt
        var tls: MQTTClient.TLS? = nil
        if mqtt.useTLS {
            for (key, file) in [("ca_file", mqtt.caFile), ("cert_file", mqtt.certFile)] {
                if let file, (try? TextFile.read(file)) == nil {
                    throw Secrets.MissingSecret(description: "\(key) \(file) cannot be read")
                }
            }
            tls = MQTTClient.TLS(
                caFile: mqtt.caFile, certFile: mqtt.certFile, keyFile: try mqtt.key.map(Secrets.path(of:)),
                insecure: mqtt.tlsInsecure)
            if mqtt.tlsInsecure {
                logger.warning("tls_insecure is set: the broker's certificate is NOT verified; anyone in the path can read and alter the data")
            }
        }
        var options = MQTTClient.Options(
            clientID: clientID, host: mqtt.host, port: mqtt.port,
            keepaliveSeconds: Int(mqtt.keepalive.milliseconds / 1000), maxInflight: mqtt.inflightWindow,
            protocolVersion: mqtt.protocolVersion == "5" ? .v5 : .v311,
            reconnectDelay: (.seconds(1), mqtt.reconnectMax), tls: tls, username: mqtt.username,
            password: try mqtt.password.map(Secrets.read))
        options.nodes = mqtt.nodes
        return options
    }

    /// Replaces the config in force (a reload that validated).
    func replaceConfig(_ new: SiteConfig) {
        current.withLock { $0 = new }
    }

    /// Each device's point groups on `bus`, with their schedules.
    func assignments(for bus: BusConfig, in config: SiteConfig) -> [BusPoller.Assignment] {
        var out: [BusPoller.Assignment] = []
        for device in config.devices where device.busID == bus.id {
            guard let map = config.maps[device.model] else { continue }
            for group in device.groups {
                // Text and bit-field points describe the meter; data messages carry numbers only.
                let numeric = group.pointIDs.filter { map.point($0)?.type.isNumeric ?? false }
                guard !numeric.isEmpty else { continue }
                out.append(
                    BusPoller.Assignment(
                        device: device, map: map, pointIDs: numeric,
                        schedule: WallClockSchedule(interval: group.interval, offset: group.offset)))
            }
        }
        return out
    }
}
