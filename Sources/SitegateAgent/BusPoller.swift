import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateCore
import SitegateModbus
import SitegateSystemd
import SitegateThreads

#if canImport(Glibc)
import Glibc
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
    private let health: HealthBoard

    init(
        bus: ModbusBus, assignments: [Assignment], outbox: Outbox, publisher: Publisher,
        health: HealthBoard, watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>, clock: any WallClock,
        logger: Logger
    ) {
        self.watchdog = watchdog
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

    /// A fault for tests of the watchdog: SITEGATE_FAULT_HANG_BUS=<bus id> blocks that bus's thread for good, as a
    /// driver stuck in a system call would.
    private var hangsForTesting: Bool {
        getenv("SITEGATE_FAULT_HANG_BUS").map { String(cString: $0) == bus.config.id } ?? false
    }

    /// Runs every task due now as one poll cycle.
    private func runCycle(
        _ tasks: inout [Task], backoffs: inout [String: Backoff], knowledge: inout [String: DeviceKnowledge]
    ) async {
        let now = clock.now()
        let due = tasks.indices.filter { tasks[$0].next <= now }
        let active = due.filter { backoffs[tasks[$0].plan.deviceID, default: Backoff()].allows(at: now) }
        let plans = active.map { tasks[$0].plan }
        let hang = hangsForTesting
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

    /// A device refused registers inside merged reads: remember where, and plan its groups around them.
    private func learn(
        from outcome: ReadOutcome, device deviceID: String, tasks: inout [Task],
        knowledge: inout [String: DeviceKnowledge]
    ) {
        var k = knowledge[deviceID, default: DeviceKnowledge()]
        for (function, ranges) in outcome.learnedHoles { k.holes[function, default: []] += ranges }
        k.unsupported.formUnion(outcome.unsupportedPoints)
        knowledge[deviceID] = k
        for i in tasks.indices where tasks[i].plan.deviceID == deviceID {
            let a = tasks[i].assignment
            let planner = RequestPlanner(defaults: a.map.defaults, holes: k.holes)
            tasks[i].plan = DevicePlan(
                device: a.device, map: a.map, pointIDs: a.pointIDs.filter { !k.unsupported.contains($0) },
                planner: planner)
        }
        let holes = outcome.learnedHoles.flatMap { function, ranges in
            ranges.map { "\(function.rawValue) \(hexRange($0))" }
        }
        logger.warning(
            "device refuses some registers (illegal data address): reads are planned around them from now on",
            metadata: [
                "device.id": "\(deviceID)", "modbus.holes": "\(holes.joined(separator: ", "))",
                "modbus.unsupported_points": "\(outcome.unsupportedPoints.joined(separator: ", "))",
            ])
    }

    /// Counts the outcome, logs a change of the device's state, and advances its backoff.
    private func record(_ outcome: ReadOutcome, for task: Task, at time: UnixTime, due: UnixTime, backoff: inout Backoff) {
        let plan = task.plan
        let meta: Logger.Metadata = ["device.id": "\(plan.deviceID)", "modbus.unit": "\(plan.unit)"]
        if outcome.poll != nil {
            if backoff.isBackingOff { logger.info("device answers again; backoff ended", metadata: meta) }
            backoff.recordSuccess()
        } else if let delay = backoff.recordFailure(at: due, interval: task.schedule.interval), delay == task.schedule.interval {
            // Counted from the tick the poll was due at, so a backoff of one interval skips no tick.
            logger.warning(
                "device keeps failing: polling it less often (up to every \(DurationNotation.format(backoff.cap)))",
                metadata: meta)
        }
        let backingOff = backoff.isBackingOff
        health.update(plan.deviceID) { h in
            h.backingOff = backingOff
            if outcome.poll != nil { h.lastResponseTime = outcome.duration }
            guard let changed = h.record(outcome, at: time) else { return }
            switch changed {
            case .ok:
                logger.info("device answers", metadata: meta)
            case .failing where outcome.poll != nil:
                logger.warning(
                    "device answers, but some reads fail: \(outcome.errors.first.map { "\($0)" } ?? "")", metadata: meta)
            case .failing:
                logger.warning(
                    "device not answering: \(outcome.errors.first.map { "\($0)" } ?? "no data")", metadata: meta)
            case .unknown:
                break
            }
        }
    }

    /// Commits a cycle's polls; reports bound drops, a paused buffer and commit failures once per change of state.
    private func commit(_ polls: [Poll]) async {
        do {
            let result = try await outbox.append(polls)
            if !result.seqs.isEmpty {
                publisher.notifyNewData()
                // New data means an acknowledgement is owed: a publisher that stops working is caught too.
                if health.brokerConnected { watchdog.withLock { $0.setIdle("publisher", false, now: .now) } }
                if health.firstTime("commit") {
                    logger.info("first poll committed", metadata: ["startup.ms": "\(ProcessUptime.milliseconds() ?? -1)"])
                }
            }
            let (startedDropping, pausedChanged) = health.updateBuffer { b -> (Bool, Bool) in
                let firstDrops = b.drops.count == 0 && result.drop.count > 0
                b.drops.merge(result.drop)
                if result.paused { b.notCommitted += polls.count }
                let changed = b.paused != result.paused
                b.paused = result.paused
                b.lastError = nil
                return (firstDrops, changed)
            }
            if startedDropping {
                logger.warning(
                    "buffer full: dropping the oldest unsent polls (counted in health data)",
                    metadata: [
                        "buffer.dropped": "\(result.drop.count)",
                        "buffer.dropped_from": "\(result.drop.oldest.map { "\($0)" } ?? "-")",
                        "buffer.dropped_to": "\(result.drop.newest.map { "\($0)" } ?? "-")",
                    ])
            }
            if pausedChanged {
                if result.paused {
                    logger.warning("buffer full and when_full is pause: new readings are not stored until the backlog drains")
                } else {
                    logger.notice("buffer has room again: storing readings")
                }
            }
        } catch {
            let first = health.updateBuffer { b -> Bool in
                b.notCommitted += polls.count
                defer { b.lastError = "\(error)" }
                return b.lastError == nil
            }
            if first {
                logger.error(
                    "cannot commit polls to the buffer; they are lost and counted until it works again",
                    metadata: ["buffer.polls": "\(polls.count)", "error": "\(error)"])
            }
        }
    }
}

func hexRange(_ r: Range<Int>) -> String {
    func hex(_ n: Int) -> String {
        let d = String(n, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 4 - d.count)) + d
    }
    return r.count == 1 ? hex(r.lowerBound) : "\(hex(r.lowerBound))-\(hex(r.upperBound - 1))"
}
