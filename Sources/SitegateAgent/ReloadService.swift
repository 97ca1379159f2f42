import Logging
import ServiceLifecycle
import SitegateConfig
import SitegateCore
import SitegateSystemd
import UnixSignals

/// SIGHUP (`systemctl reload sitegate`): the new config is validated first; if it has errors the running one
/// stays and the log says why. Otherwise buses and devices are applied (only the buses whose settings or devices
/// changed are restarted) without touching the buffer or the broker session. Changes to site, mqtt, buffer,
/// control_socket, log, metrics and signing need a restart; they are named in the log and not applied.
final class ReloadService: Service {
    let store: ConfigStore
    /// What the status message says besides the config.
    let version: String
    let started: UnixTime
    let supervisor: PollerSupervisor
    let publisher: Publisher
    let notifier: SystemdNotifier
    let logger: Logger

    init(
        store: ConfigStore, version: String, started: UnixTime, supervisor: PollerSupervisor, publisher: Publisher,
        notifier: SystemdNotifier, logger: Logger
    ) {
        self.store = store
        self.version = version
        self.started = started
        self.supervisor = supervisor
        self.publisher = publisher
        self.notifier = notifier
        self.logger = logger
    }

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            _ = try? notifier.reloading()
            await reload()
            _ = try? notifier.ready()
        }
    }

    private func reload() async {
        let old = store.config
        let loaded: SiteConfigLoader.Loaded
        do {
            loaded = try SiteConfigLoader.load(path: old.path)
        } catch {
            for d in error.diagnostics { logger.error("reload: \(d.description)") }
            logger.error("reload refused: \(old.path) has errors; the running config stays in force")
            return
        }
        for w in loaded.warnings { logger.warning("reload: \(w.description)") }
        var new = loaded.config
        var needRestart: [String] = []
        if new.site != old.site { needRestart.append("site") }
        if new.mqtt != old.mqtt { needRestart.append("mqtt") }
        if new.buffer != old.buffer { needRestart.append("buffer") }
        if new.controlSocket != old.controlSocket { needRestart.append("control_socket") }
        if new.logLevel != old.logLevel { needRestart.append("log") }
        if new.metricsListener != old.metricsListener { needRestart.append("metrics") }
        if new.signing != old.signing { needRestart.append("signing") }
        // What only a restart can change keeps its running value.
        new.site = old.site
        new.mqtt = old.mqtt
        new.buffer = old.buffer
        new.controlSocket = old.controlSocket
        new.logLevel = old.logLevel
        new.metricsListener = old.metricsListener
        new.signing = old.signing
        store.replace(with: new)
        let changes = await supervisor.apply(new)
        publisher.reload(Announcements(config: new, version: version, started: started))
        logger.notice(
            "reloaded \(old.path)",
            metadata: [
                "reload.buses_started": "\(changes.started.joined(separator: ","))",
                "reload.buses_stopped": "\(changes.stopped.joined(separator: ","))",
                "reload.buses_restarted": "\(changes.restarted.joined(separator: ","))",
                "reload.devices": "\(new.devices.count)",
            ])
        if !needRestart.isEmpty {
            logger.warning(
                "reload: changes to \(needRestart.joined(separator: ", ")) take effect only after a restart (systemctl restart sitegate)")
        }
    }
}
