import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateCore
import SitegateModbus
import SitegateSystemd
import SitegateThreads

#if canImport(Glibc)
import Glibc  // pause(), for the injected hang
#endif

/// Polls the devices of one bus on their wall-clock schedules and commits every poll cycle to the outbox.
///
/// A cycle is every point group due at one tick: its transactions run in one job on the bus's own thread, its polls
/// are committed in one transaction. A tick that cannot run on time is counted as missed and skipped, never shifted
/// and never caught up. A device that stopped answering is backed off (see `Backoff`) so that it does not eat the
/// bus time of the others.
public final class BusPoller: Service {
    /// One point group of one device, with what is needed to plan it again when the device refuses registers.
    public typealias Assignment = PollAssignment

    struct Task: Sendable {
        var assignment: Assignment
        var plan: DevicePlan
        var next: UnixTime
        var schedule: WallClockSchedule { assignment.schedule }
    }

    /// What a device turned out not to support, learnt from its exceptions.
    struct DeviceKnowledge: Sendable {
        var holes: [RegisterFunction: [Range<Int>]] = [:]
        var unsupported: Set<String> = []
    }

    let bus: ModbusBus
    let outbox: Outbox
    let publisher: Publisher
    let clock: any WallClock
    let logger: Logger
    let watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>
    private let initialTasks: [Task]
    /// Tests only: this bus's thread hangs for good (see `FaultInjection`).
    private let hangs: Bool
    let health: HealthBoard

    init(
        bus: ModbusBus, assignments: [Assignment], outbox: Outbox, publisher: Publisher,
        health: HealthBoard, watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>, clock: any WallClock,
        logger: Logger, faults: FaultInjection = .none
    ) {
        self.watchdog = watchdog
        self.hangs = faults.hangingBus == bus.config.id
        self.bus = bus
        self.outbox = outbox
        self.publisher = publisher
        self.clock = clock
        self.health = health
        var logger = logger
        logger[metadataKey: "bus.id"] = "\(bus.config.id)"
        self.logger = logger
        let now = clock.now()
        health.startBus(bus.config.id, at: now)
        initialTasks = assignments.map {
            Task(
                assignment: $0, plan: $0.plan,
                next: $0.schedule.nextTick(after: now))
        }
    }

    public func run() async throws {
        defer { bus.shutdown() }
        await cancelWhenGracefulShutdown {
            var tasks = self.initialTasks
            var backoffs: [String: Backoff] = [:]
            var knowledge: [String: DeviceKnowledge] = [:]
            while !Swift.Task.isCancelled {
                guard let due = tasks.map(\.next).min() else { return }
                let wait = due - self.clock.now()
                if wait > .zero {
                    do { try await Swift.Task.sleep(for: wait) } catch { return }
                }
                await self.runCycle(&tasks, backoffs: &backoffs, knowledge: &knowledge)
            }
        }
    }

    /// Runs every task due now as one poll cycle.
    private func runCycle(
        _ tasks: inout [Task], backoffs: inout [String: Backoff], knowledge: inout [String: DeviceKnowledge]
    ) async {
        let now = clock.now()
        let due = tasks.indices.filter { tasks[$0].next <= now }
        let active = due.filter { backoffs[tasks[$0].plan.deviceID, default: Backoff()].allows(at: now) }
        let plans = active.map { tasks[$0].plan }
        let hang = hangs
        let started = clock.now()
        var outcomes: [ReadOutcome]
        do {
            outcomes = try await bus.withConnection { transaction in
                while hang { pause() }
                return plans.map { DeviceReader.read($0, on: transaction) }
            }
        } catch {
            let failure = error as? ModbusError ?? .io("\(error)")
            outcomes = plans.map { _ in ReadOutcome(poll: nil, errors: [failure], transactions: 0, raw: [:]) }
        }
        let finished = clock.now()
        health.counters.recordCycle(zip(active, outcomes).map { (tasks[$0.0].plan.deviceID, $0.1) })
        var missedTicks = 0
        var cycle: [Poll] = []
        for (index, outcome) in zip(active, outcomes) {
            if let poll = outcome.poll { cycle.append(poll) }
            if !outcome.learnedHoles.isEmpty || !outcome.unsupportedPoints.isEmpty {
                learn(from: outcome, device: tasks[index].plan.deviceID, tasks: &tasks, knowledge: &knowledge)
            }
            record(
                outcome, for: tasks[index], at: finished, due: tasks[index].next,
                backoff: &backoffs[tasks[index].plan.deviceID, default: Backoff()])
        }
        for index in due {
            let (next, missed) = tasks[index].schedule.advance(from: tasks[index].next, now: finished)
            let skipped = !active.contains(index)
            missedTicks += missed
            health.update(tasks[index].plan.deviceID) { h in
                h.missedTicks += missed
                if skipped { h.backoffSkips += 1 }
            }
            tasks[index].next = next
        }
        health.recordBusCycle(
            bus.config.id, start: started, end: finished, transactions: outcomes.reduce(0) { $0 + $1.transactions },
            timeouts: outcomes.reduce(0) { $0 + $1.errors.filter { $0.kind == "timeout" }.count }, missedTicks: missedTicks)
        if !cycle.isEmpty { await commit(cycle) }
        // Whether or not the meters answered, the poller itself is alive: that is what the watchdog asks.
        let id = "bus:\(bus.config.id)"
        watchdog.withLock { $0.progressed(id, now: .now) }
    }
}
