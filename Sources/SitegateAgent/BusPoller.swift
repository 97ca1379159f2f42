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
/// are committed in one transaction. Every due tick ends in exactly one poll (full, partial or failed; a tick skipped
/// for backoff is a failed poll), or is counted as missed (overrun, clock step) in the `TickLedger` for the
/// checkpoints (docs/evidence.md). A tick that cannot run on time is skipped, never shifted and never caught up. A
/// device that stopped answering is backed off (see `Backoff`) so that it does not eat the bus time of the others.
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
    /// The kernel's clock state, asked at most once a second: readings taken unsynchronised are labelled.
    let clockState: ClockSampler
    /// The longest nap between looks at the wall clock: a clock set forwards or back is noticed within it.
    static let nap = Duration.seconds(1)

    init(
        bus: ModbusBus, assignments: [Assignment], outbox: Outbox, publisher: Publisher,
        health: HealthBoard, watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>, clock: any WallClock,
        logger: Logger, faults: FaultInjection = .none
    ) {
        self.watchdog = watchdog
        self.hangs = faults.hangingBus == bus.config.id
        self.clockState = ClockSampler(source: faults.clockSource)
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
        // The ticks before the first one are not this poller's: `not-running` in the checkpoints.
        if let first = initialTasks.map(\.next).min() { health.ticks.accounted(bus: bus.config.id, until: first) }
    }

    public func run() async throws {
        defer {
            bus.shutdown()
            health.ticks.stopped(bus: bus.config.id)
        }
        await cancelWhenGracefulShutdown {
            var tasks = self.initialTasks
            var backoffs: [String: Backoff] = [:]
            var knowledge: [String: DeviceKnowledge] = [:]
            var steps = StepWatch()
            while !Swift.Task.isCancelled {
                guard let due = tasks.map(\.next).min() else { return }
                let wait = due - self.clock.now()
                if wait > .zero {
                    do { try await Swift.Task.sleep(for: min(wait, Self.nap)) } catch { return }
                    continue
                }
                await self.runCycle(&tasks, backoffs: &backoffs, knowledge: &knowledge, steps: &steps)
            }
        }
    }

    /// Runs every task due now as one poll cycle.
    private func runCycle(
        _ tasks: inout [Task], backoffs: inout [String: Backoff], knowledge: inout [String: DeviceKnowledge],
        steps: inout StepWatch
    ) async {
        let now = clock.now()
        let due = tasks.indices.filter { tasks[$0].next <= now }
        let active = due.filter { backoffs[tasks[$0].plan.deviceID, default: Backoff()].allows(at: now) }
        let plans = active.map { tasks[$0].plan }
        let hang = hangs
        let started = clock.now()
        var jump = steps.observe(wall: started)
        let unsynchronised = clockState.unsynchronised(at: started)
        var outcomes: [ReadOutcome]
        do {
            outcomes = try await bus.withConnection { transaction in
                while hang { pause() }
                return plans.map { DeviceReader.read($0, on: transaction) }
            }
        } catch {
            let failure = error as? ModbusError ?? .io("\(error)")
            outcomes = plans.map { ReadOutcome.unreachable($0, error: failure, at: started) }
        }
        let finished = clock.now()
        jump += steps.observe(wall: finished)
        health.counters.recordCycle(deviceIDs: active.lazy.map { [tasks] in tasks[$0].plan.deviceID }, outcomes: outcomes)
        var missedTicks = 0
        let cycle = polls(for: due, active: active, outcomes: outcomes, tasks: tasks, unsynchronised: unsynchronised)
        for (index, outcome) in zip(active, outcomes) {
            if !outcome.learnedHoles.isEmpty || !outcome.unsupportedPoints.isEmpty {
                learn(from: outcome, device: tasks[index].plan.deviceID, tasks: &tasks, knowledge: &knowledge)
            }
            record(
                outcome, device: tasks[index].plan.deviceID, unit: tasks[index].plan.unit,
                interval: tasks[index].assignment.schedule.interval, at: finished, due: tasks[index].next,
                backoff: &backoffs[tasks[index].plan.deviceID, default: Backoff()])
        }
        for index in due {
            let (next, missed) = tasks[index].schedule.advance(from: tasks[index].next, now: finished)
            let skipped = !active.contains(index)
            missedTicks += missed
            countMissed(
                device: tasks[index].plan.deviceID, schedule: tasks[index].assignment.schedule,
                after: tasks[index].next, through: next, jump: jump)
            if missed > 0 || skipped {
                health.update(tasks[index].plan.deviceID) { h in
                    h.missedTicks += missed
                    if skipped { h.backoffSkips += 1 }
                }
            }
            tasks[index].next = next
        }
        health.recordBusCycle(
            bus.config.id, start: started, end: finished, transactions: outcomes.reduce(0) { $0 + $1.transactions },
            timeouts: outcomes.reduce(0) { $0 + $1.errors.filter { $0.kind == "timeout" }.count }, missedTicks: missedTicks)
        if !cycle.isEmpty { await commit(cycle) }
        // Every tick before the earliest next one has its poll committed or its miss counted.
        if let until = tasks.indices.lazy.map({ [tasks] in tasks[$0].next }).min() {
            health.ticks.accounted(bus: bus.config.id, until: until)
        }
        // Whether or not the meters answered, the poller itself is alive: that is what the watchdog asks.
        let id = "bus:\(bus.config.id)"
        watchdog.withLock { $0.progressed(id, now: .now) }
    }
}
