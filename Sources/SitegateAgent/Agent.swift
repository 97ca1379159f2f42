import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateConfig
import SitegateCore
import SitegateModbus
import SitegateMQTT
import SitegateSystemd
import SitegateThreads

/// The running gateway: one poller per bus, one publisher, one outbox, wired from a validated config. The
/// composition root: it builds the services and hands each what it needs (the config store, the health board, the
/// outbox, the watchdog). Only the control socket and the metrics listener still ask it for the status and metrics
/// they render.
///
/// Data flows one way: schedule -> bus -> readings -> outbox -> publisher -> broker.
public final class Agent: Sendable {
    /// The config in force; a reload replaces it.
    public var config: SiteConfig { store.config }
    let store: ConfigStore
    public let health = HealthBoard()
    let logger: Logger

    let version: String
    let startedAt = SystemWallClock().now()
    /// Faults injected by tests; none in production.
    let faults: FaultInjection

    public init(config: SiteConfig, version: String, logger: Logger, faults: FaultInjection = .none) {
        store = ConfigStore(config)
        self.version = version
        self.logger = logger
        self.faults = faults
    }

    /// Runs until SIGTERM or SIGINT (or the graceful shutdown of the task that runs it), then drains in-flight
    /// messages and stops.
    public func run(triggers: AgentTriggers = .signals) async throws {
        // Read here, not at config load: credentials exist only in the service's environment. Never logged.
        let keys = try SigningKeys.load(config.signing)
        if let warning = keys.warning { logger.warning("\(warning)") }
        let sealing = OutboxSealing(
            siteID: config.site.id, gatewayID: config.site.gateway, signer: keys.current, previousSigner: keys.previous)
        // Acknowledged polls stay until a checkpoint has counted them: the checkpoint service runs below.
        let outbox = try await Outbox(
            sealing: sealing, settings: config.buffer, tuning: BufferTuning(keepsAckedForCheckpoints: true), logger: logger)
        defer { outbox.close() }
        let stats = try await outbox.stats()
        logger.info(
            "buffer opened",
            metadata: ["buffer.path": "\(outbox.path)", "buffer.depth": "\(stats.depth)", "buffer.last_seq": "\(stats.lastSeq)"])

        let announcements = Announcements(config: config, version: version, started: startedAt)
        var options = try MQTTClient.Options(config, logger: logger)
        options.will = MQTTClient.Will(topic: announcements.topics.status, payload: announcements.offline)
        let client = try MQTTClient(options: options)
        let notifier = SystemdNotifier()
        let watchdog = LockedValue(ProgressWatchdog<ContinuousClock.Instant>())
        watchdog.withLock {
            $0.register("publisher", allowance: WatchdogAllowance.publisher(keepalive: config.mqtt.keepalive), now: .now, idle: true)
        }
        let publisher = Publisher(
            client: client, outbox: outbox, topics: announcements.topics, window: config.mqtt.inflightWindow, health: health, brokers: BrokerEndpoints(config.mqtt),
            announcements: announcements, watchdog: watchdog, logger: logger)
        let supervisor = PollerSupervisor(
            store: store, health: health, outbox: outbox, publisher: publisher, watchdog: watchdog, faults: faults,
            logger: logger)
        // Started in this order, stopped in reverse: the notifier hears of shutdown first, the publisher last.
        var services: [any Service] = [
            publisher, supervisor,
            ControlServer(path: config.controlSocket, agent: self, outbox: outbox, supervisor: supervisor, logger: logger),
            ReloadService(
                requests: triggers.reloadRequests, store: store, version: version, started: startedAt, supervisor: supervisor, publisher: publisher,
                notifier: notifier, logger: logger),
            NotifyService(store: store, health: health, outbox: outbox, notifier: notifier, watchdog: watchdog, logger: logger),
        ]
        services.append(checkpointService(outbox: outbox, publisher: publisher))
        if let listener = config.metricsListener {
            services.append(MetricsHTTPServer(listener: listener, agent: self, outbox: outbox, logger: logger))
        }
        // Named by type: the group would otherwise log a struct service with all its fields.
        let named = services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0, serviceName: String(reflecting: type(of: $0))) }
        var configuration = ServiceGroupConfiguration(
            services: named, gracefulShutdownSignals: triggers.shutdownSignals, logger: logger)
        // Below the unit's TimeoutStopSec (30 s): the drain ends before systemd would kill us.
        configuration.maximumGracefulShutdownDuration = .seconds(20)
        let group = ServiceGroup(configuration: configuration)
        // "sitegate running" is logged by NotifyService with READY=1: from then on SIGTERM means a clean stop.
        try await group.run()
        logger.info("sitegate stopped")
    }
}
