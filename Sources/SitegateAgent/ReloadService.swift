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
struct ReloadService: Service {
    /// What asks for a reload: nil for SIGHUP; an in-process test yields to a stream of its own (`AgentTriggers`).
    let requests: AsyncStream<Void>?
    let store: ConfigStore
    /// What the status message says besides the config.
    let version: String
    let started: UnixTime
    let supervisor: PollerSupervisor
    let publisher: Publisher
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        if let requests {
            for await _ in requests.cancelOnGracefulShutdown() { await reloadTellingSystemd() }
        } else {
            for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
                await reloadTellingSystemd()
            }
        }
    }

    private func reloadTellingSystemd() async {
        _ = try? notifier.reloading()
        await reload()
        _ = try? notifier.ready()
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
        // What only a restart can change keeps its running value; a change to it is named in the log.
        var needRestart: [String] = []
        func keepRunning<Value: Equatable>(_ key: String, _ setting: WritableKeyPath<SiteConfig, Value>) {
            if new[keyPath: setting] != old[keyPath: setting] { needRestart.append(key) }
            new[keyPath: setting] = old[keyPath: setting]
        }
        keepRunning("site", \.site)
        keepRunning("mqtt", \.mqtt)
        keepRunning("buffer", \.buffer)
        keepRunning("control_socket", \.controlSocket)
        keepRunning("log", \.logLevel)
        keepRunning("metrics", \.metricsListener)
        keepRunning("signing", \.signing)
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
