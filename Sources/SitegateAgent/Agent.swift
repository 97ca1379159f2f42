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
