import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateCore
import SitegateModbus
import SitegateSystemd
import SitegateThreads

/// Runs one `BusPoller` per bus and changes the set on a reload: a bus whose settings or devices changed gets a
/// new poller, the others keep running undisturbed. The outbox and the broker session are not touched.
final class PollerSupervisor: Service {
    struct Running: Sendable {
        var assignments: [BusPoller.Assignment]
        var config: BusConfig
        var bus: ModbusBus
        var task: Task<Void, Never>
    }

    let store: ConfigStore
    let health: HealthBoard
    let outbox: Outbox
    let publisher: Publisher
    let watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>
    /// Faults injected by tests, handed to each poller.
    let faults: FaultInjection
    let logger: Logger
    private let running = LockedValue<[String: Running]>([:])

    init(
        store: ConfigStore, health: HealthBoard, outbox: Outbox, publisher: Publisher,
        watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>, faults: FaultInjection = .none, logger: Logger
    ) {
        self.faults = faults
        self.store = store
        self.health = health
        self.outbox = outbox
        self.publisher = publisher
        self.watchdog = watchdog
        self.logger = logger
    }

    /// The bus a device is on, for `sitegate read` through the control socket.
    func bus(_ id: String) -> ModbusBus? {
        running.withLock { $0[id]?.bus }
    }

    func run() async throws {
        _ = await apply(store.config)
        try? await gracefulShutdown()
        await stopAll()
    }

    /// Makes the running pollers match `config`; returns what changed, for the log.
    @discardableResult
    func apply(_ config: SiteConfig) async -> (started: [String], stopped: [String], restarted: [String]) {
        var wanted: [String: (BusConfig, [BusPoller.Assignment])] = [:]
        for bus in config.buses {
            let assignments = config.assignments(on: bus)
            if !assignments.isEmpty { wanted[bus.id] = (bus, assignments) }
        }
        let current = running.withLock { $0 }
        var started: [String] = [], stopped: [String] = [], restarted: [String] = []
        for (id, old) in current {
            if let (bus, assignments) = wanted[id], bus == old.config, assignments == old.assignments { continue }
            await stop(id, old)
            if wanted[id] != nil { restarted.append(id) } else { stopped.append(id) }
        }
        for (id, (bus, assignments)) in wanted where running.withLock({ $0[id] == nil }) {
            start(bus, assignments)
            if !restarted.contains(id) { started.append(id) }
        }
        return (started.sorted(), stopped.sorted(), restarted.sorted())
    }

    private func start(_ config: BusConfig, _ assignments: [BusPoller.Assignment]) {
        let bus = ModbusBus(config: config)
        let poller = BusPoller(
            bus: bus, assignments: assignments, outbox: outbox, publisher: publisher, health: health,
            watchdog: watchdog, clock: SystemWallClock(), logger: logger, faults: faults)
        let transactions = assignments.reduce(0) { $0 + $1.plan.requests.count }
        let longest = assignments.map(\.schedule.interval).max() ?? .seconds(1)
        watchdog.withLock {
            $0.register(
                "bus:\(config.id)",
                allowance: WatchdogAllowance.poller(
                    longestInterval: longest, responseTimeout: config.responseTimeout, transactionsPerCycle: transactions),
                now: .now)
        }
        // The poller's own task, so that one bus can be replaced without touching the others.
        let task = Task { _ = try? await poller.run() }
        running.withLock { $0[config.id] = Running(assignments: assignments, config: config, bus: bus, task: task) }
    }

    /// Cancels a poller and waits for it: it finishes its cycle, commits it, and closes its bus.
    private func stop(_ id: String, _ old: Running) async {
        old.task.cancel()
        running.withLock { _ = $0.removeValue(forKey: id) }
        watchdog.withLock { $0.unregister("bus:\(id)") }
        await old.task.value
        health.forgetBus(id)
    }

    private func stopAll() async {
        for (id, old) in running.withLock({ $0 }) { await stop(id, old) }
    }
}
