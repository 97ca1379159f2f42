import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateConfig
import SitegateCore
import SitegateModbus
import SitegateMQTT
import UnixSignals

/// The running gateway: one poller per bus, one publisher, one outbox, wired from a validated config.
///
/// Data flows one way: schedule -> bus -> readings -> outbox -> publisher -> broker.
public final class Agent: Sendable {
    public let config: SiteConfig
    public let health = HealthBoard()
    let logger: Logger

    let version: String

    public init(config: SiteConfig, version: String, logger: Logger) {
        self.config = config
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

        let announcements = Announcements(config: config, version: version, started: SystemWallClock().now())
        var options = try clientOptions()
        options.will = MQTTClient.Will(topic: announcements.topics.status, payload: announcements.offline)
        let client = try MQTTClient(options: options)
        let publisher = Publisher(
            client: client, outbox: outbox, topics: announcements.topics,
            encoder: SenMLEncoder(siteID: config.site.id, gatewayID: config.site.gateway),
            window: config.mqtt.inflightWindow, health: health, announcements: announcements, logger: logger)

        var services: [any Service] = [publisher]
        for bus in config.buses {
            let assignments = assignments(for: bus)
            guard !assignments.isEmpty else { continue }
            services.append(
                BusPoller(
                    bus: ModbusBus(config: bus), assignments: assignments, outbox: outbox, publisher: publisher, health: health,
                    clock: SystemWallClock(), logger: logger))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        logger.info(
            "sitegate running",
            metadata: ["site.id": "\(config.site.id)", "devices": "\(config.devices.count)", "buses": "\(config.buses.count)"])
        try await group.run()
        logger.info("sitegate stopped")
    }

    /// The MQTT client's settings, with secrets read now (never logged).
    func clientOptions() throws -> MQTTClient.Options {
        let mqtt = config.mqtt
        var tls: MQTTClient.TLS? = nil
        if mqtt.useTLS {
            tls = MQTTClient.TLS(
                caFile: mqtt.caFile, certFile: mqtt.certFile, keyFile: try mqtt.key.map(Secrets.path(of:)),
                insecure: mqtt.tlsInsecure)
            if mqtt.tlsInsecure {
                logger.warning("tls_insecure is set: the broker's certificate is NOT verified; anyone in the path can read and alter the data")
            }
        }
        return MQTTClient.Options(
            clientID: clientID, host: mqtt.host, port: mqtt.port,
            keepaliveSeconds: Int(mqtt.keepalive.milliseconds / 1000), maxInflight: mqtt.inflightWindow,
            protocolVersion: mqtt.protocolVersion == "5" ? .v5 : .v311,
            reconnectDelay: (.seconds(1), mqtt.reconnectMax), tls: tls, username: mqtt.username,
            password: try mqtt.password.map(Secrets.read))
    }

    /// Each device's point groups on `bus`, with their schedules.
    func assignments(for bus: BusConfig) -> [BusPoller.Assignment] {
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
