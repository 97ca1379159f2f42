import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateCore
import SitegateSystemd
import SitegateThreads

/// Speaks systemd's notify protocol: READY=1 once the services run (the broker may be down for days: readiness
/// does not wait for it), WATCHDOG=1 only while every poller and the publisher make progress, STATUS= with a
/// one-line summary (`StatusLine`) at each ping and when what it shows changes, STOPPING=1 on shutdown. Inert outside systemd.
struct NotifyService: Service {
    let store: ConfigStore
    let health: HealthBoard
    let outbox: Outbox
    let notifier: SystemdNotifier
    let watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>
    let logger: Logger

    func run() async throws {
        let config = store.config
        // Services start after the group traps SIGTERM and SIGINT: a stop from now on is a clean one.
        logger.info(
            "sitegate running",
            metadata: ["site.id": "\(config.site.id)", "devices": "\(config.devices.count)", "buses": "\(config.buses.count)"])
        guard notifier.isActive else {
            // Outside systemd nobody reads WATCHDOG= or STATUS=: no status line built (and the buffer asked) every
            // second for nobody.
            try? await gracefulShutdown()
            return
        }
        _ = try? notifier.ready(status: "polling \(config.devices.count) devices on \(config.buses.count) buses")
        let every = notifier.watchdogPingInterval ?? .seconds(10)
        // STATUS= goes out with every watchdog ping, and within a tick of a change of what it shows: at most one
        // change-driven STATUS per tick (1 s, or the ping interval when shorter).
        let tick = min(every, .seconds(1))
        await cancelWhenGracefulShutdown {
            var withholding = false
            var lastPing: ContinuousClock.Instant?
            var lastKey: StatusLine.Key?
            while !Task.isCancelled {
                let stalls = self.watchdog.withLock { $0.stalls(now: .now) }
                let pingDue = lastPing.map { ContinuousClock.now - $0 >= every - .milliseconds(50) } ?? true
                if pingDue {
                    lastPing = .now
                    if stalls.isEmpty {
                        if (try? self.notifier.watchdog()) == true { self.health.counters.watchdogPinged() }
                        if withholding { self.logger.notice("progress again; watchdog pings resumed") }
                        withholding = false
                    } else if !withholding {
                        withholding = true
                        self.logger.critical(
                            "no progress: withholding the watchdog ping so that systemd restarts the agent",
                            metadata: ["watchdog.stalls": "\(stalls.map(\.description).joined(separator: "; "))"])
                    }
                }
                // The cheap view (the span of buffered seqs) decides whether anything changed; the line sent
                // carries the exact depth.
                let quick = await self.line(stalls: stalls, exactDepth: false)
                if pingDue || quick.key != lastKey {
                    let line = await self.line(stalls: stalls, exactDepth: true)
                    _ = try? self.notifier.status(line.text)
                    lastKey = quick.key
                }
                do { try await Task.sleep(for: tick) } catch { break }
            }
        }
        _ = try? notifier.stopping()
    }

    /// "12/12 devices answering, backlog 0, broker connected to mqtt://broker:1883".
    private func line(stalls: [ProgressWatchdog<ContinuousClock.Instant>.Stall], exactDepth: Bool) async -> StatusLine {
        let (devices, buffer, broker) = health.snapshot()
        let depth: Int64 =
            exactDepth
            ? (try? await outbox.stats()).map { Int64($0.depth) } ?? -1
            : (try? await outbox.unsentCount()) ?? -1
        let overloaded = health.busFigures(at: SystemWallClock().now()).filter(\.value.overloaded)
        return StatusLine(
            devicesOK: devices.values.filter { $0.state == .ok }.count, devicesTotal: store.config.devices.count,
            backlog: depth, broker: broker.statusText, drops: buffer.drops.count, stalled: stalls.map(\.component),
            overloadedBuses: overloaded.keys.sorted().map { ($0, overloaded[$0]!.advice ?? "") })
    }
}
