import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateCore
import SitegateSystemd
import SitegateThreads

/// Speaks systemd's notify protocol: READY=1 once the services run (the broker may be down for days: readiness
/// does not wait for it), WATCHDOG=1 only while every poller and the publisher make progress, STATUS= with a
/// one-line summary, STOPPING=1 on shutdown. Inert outside systemd.
final class NotifyService: Service {
    let agent: Agent
    let outbox: Outbox
    let notifier: SystemdNotifier
    let watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>
    let logger: Logger

    init(
        agent: Agent, outbox: Outbox, notifier: SystemdNotifier,
        watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>, logger: Logger
    ) {
        self.agent = agent
        self.outbox = outbox
        self.notifier = notifier
        self.watchdog = watchdog
        self.logger = logger
    }

    func run() async throws {
        let config = agent.config
        _ = try? notifier.ready(status: "polling \(config.devices.count) devices on \(config.buses.count) buses")
        let every = notifier.watchdogPingInterval ?? .seconds(10)
        await cancelWhenGracefulShutdown {
            var withholding = false
            while !Task.isCancelled {
                let stalls = self.watchdog.withLock { $0.stalls(now: .now) }
                self.agent.health.counters.watchdogWithholding(!stalls.isEmpty)
                if stalls.isEmpty {
                    if (try? self.notifier.watchdog()) == true { self.agent.health.counters.watchdogPinged() }
                    if withholding { self.logger.notice("progress again; watchdog pings resumed") }
                    withholding = false
                } else if !withholding {
                    withholding = true
                    self.logger.critical(
                        "no progress: withholding the watchdog ping so that systemd restarts the agent",
                        metadata: ["watchdog.stalls": "\(stalls.map(\.description).joined(separator: "; "))"])
                }
                _ = try? self.notifier.status(await self.summary(stalls: stalls))
                do { try await Task.sleep(for: every) } catch { break }
            }
        }
        _ = try? notifier.stopping()
    }

    /// "12/12 devices answering, backlog 0, broker connected".
    private func summary(stalls: [ProgressWatchdog<ContinuousClock.Instant>.Stall]) async -> String {
        let (devices, buffer, broker) = agent.health.snapshot()
        let total = agent.config.devices.count
        let ok = devices.values.filter { $0.state == .ok }.count
        let depth = (try? await outbox.stats().depth) ?? -1
        var text = "\(ok)/\(total) devices answering, backlog \(depth), broker \(broker.connected ? "connected" : "disconnected")"
        if buffer.drops.count > 0 { text += ", \(buffer.drops.count) dropped" }
        if !stalls.isEmpty { text += "; STALLED: \(stalls.map(\.component).joined(separator: ", "))" }
        return text
    }
}
