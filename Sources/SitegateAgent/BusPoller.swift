import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateCore
import SitegateModbus

/// Polls the devices of one bus on their wall-clock schedules and commits every poll cycle to the outbox.
///
/// A cycle is every point group due at one tick: its transactions run in one job on the bus's own thread, its polls
/// are committed in one transaction. A tick that cannot run on time is counted as missed and skipped, never shifted
/// and never caught up. A device that stopped answering is backed off (see `Backoff`) so that it does not eat the
/// bus time of the others.
public final class BusPoller: Service {
    struct Task: Sendable {
        var plan: DevicePlan
        var schedule: WallClockSchedule
        var next: UnixTime
    }

    let bus: ModbusBus
    let outbox: Outbox
    let publisher: Publisher
    let clock: any WallClock
    let logger: Logger
    private let initialTasks: [Task]
    private let health: HealthBoard

    init(
        bus: ModbusBus, plans: [(DevicePlan, WallClockSchedule)], outbox: Outbox, publisher: Publisher,
        health: HealthBoard, clock: any WallClock, logger: Logger
    ) {
        self.bus = bus
        self.outbox = outbox
        self.publisher = publisher
        self.clock = clock
        self.health = health
        var logger = logger
        logger[metadataKey: "bus.id"] = "\(bus.config.id)"
        self.logger = logger
        let now = clock.now()
        initialTasks = plans.map { Task(plan: $0.0, schedule: $0.1, next: $0.1.nextTick(after: now)) }
    }

    public func run() async throws {
        defer { bus.shutdown() }
        await cancelWhenGracefulShutdown {
            var tasks = self.initialTasks
            var backoffs: [String: Backoff] = [:]
            while !Swift.Task.isCancelled {
                guard let due = tasks.map(\.next).min() else { return }
                let wait = due - self.clock.now()
                if wait > .zero {
                    do { try await Swift.Task.sleep(for: wait) } catch { return }
                }
                await self.runCycle(&tasks, backoffs: &backoffs)
            }
        }
    }

    /// Runs every task due now as one poll cycle.
    private func runCycle(_ tasks: inout [Task], backoffs: inout [String: Backoff]) async {
        let now = clock.now()
        let due = tasks.indices.filter { tasks[$0].next <= now }
        let active = due.filter { backoffs[tasks[$0].plan.deviceID, default: Backoff()].allows(at: now) }
        let plans = active.map { tasks[$0].plan }
        var outcomes: [ReadOutcome]
        do {
            outcomes = try await bus.withConnection { transaction in
                plans.map { DeviceReader.read($0, on: transaction) }
            }
        } catch {
            let failure = error as? ModbusError ?? .io("\(error)")
            outcomes = plans.map { _ in ReadOutcome(poll: nil, errors: [failure], transactions: 0, raw: [:]) }
        }
        let finished = clock.now()
        var cycle: [Poll] = []
        for (index, outcome) in zip(active, outcomes) {
            if let poll = outcome.poll { cycle.append(poll) }
            record(outcome, for: tasks[index], at: finished, backoff: &backoffs[tasks[index].plan.deviceID, default: Backoff()])
        }
        for index in due {
            let (next, missed) = tasks[index].schedule.advance(from: tasks[index].next, now: finished)
            let skipped = !active.contains(index)
            health.update(tasks[index].plan.deviceID) { h in
                h.missedTicks += missed
                if skipped { h.backoffSkips += 1 }
            }
            tasks[index].next = next
        }
        if !cycle.isEmpty { await commit(cycle) }
    }

    /// Counts the outcome, logs a change of the device's state, and advances its backoff.
    private func record(_ outcome: ReadOutcome, for task: Task, at time: UnixTime, backoff: inout Backoff) {
        let plan = task.plan
        let meta: Logger.Metadata = ["device.id": "\(plan.deviceID)", "modbus.unit": "\(plan.unit)"]
        if outcome.poll != nil {
            if backoff.isBackingOff { logger.info("device answers again; backoff ended", metadata: meta) }
            backoff.recordSuccess()
        } else if let delay = backoff.recordFailure(at: time, interval: task.schedule.interval), delay == task.schedule.interval {
            logger.warning(
                "device keeps failing: polling it less often (up to every \(DurationNotation.format(backoff.cap)))",
                metadata: meta)
        }
        let backingOff = backoff.isBackingOff
        health.update(plan.deviceID) { h in
            h.backingOff = backingOff
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
            if !result.seqs.isEmpty { publisher.notifyNewData() }
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
