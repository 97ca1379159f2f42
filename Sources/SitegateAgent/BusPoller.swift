import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateCore
import SitegateModbus

/// Polls the devices of one bus on their wall-clock schedules and commits every poll to the outbox.
///
/// Transactions run on the bus's own thread; this service only decides when. A tick that cannot run on time is
/// counted as missed and skipped, never shifted and never caught up.
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
            while !Swift.Task.isCancelled {
                guard let due = tasks.map(\.next).min() else { return }
                let wait = due - self.clock.now()
                if wait > .zero {
                    do { try await Swift.Task.sleep(for: wait) } catch { return }
                }
                for index in tasks.indices where tasks[index].next <= self.clock.now() {
                    tasks[index] = await self.poll(tasks[index])
                }
            }
        }
    }

    /// Commits a poll; reports bound drops, a paused buffer and commit failures once per change of state.
    private func commit(_ poll: Poll) async {
        do {
            let result = try await outbox.append([poll])
            if !result.seqs.isEmpty { publisher.notifyNewData() }
            let (startedDropping, pausedChanged) = health.updateBuffer { b -> (Bool, Bool) in
                let firstDrops = b.drops.count == 0 && result.drop.count > 0
                b.drops.merge(result.drop)
                if result.paused { b.notCommitted += 1 }
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
                    logger.warning("buffer full and when_full is pause: new readings are not taken until the backlog drains")
                } else {
                    logger.notice("buffer has room again: taking readings")
                }
            }
        } catch {
            let first = health.updateBuffer { b -> Bool in
                b.notCommitted += 1
                defer { b.lastError = "\(error)" }
                return b.lastError == nil
            }
            if first {
                logger.error(
                    "cannot commit polls to the buffer; they are lost and counted until it works again",
                    metadata: ["device.id": "\(poll.deviceID)", "error": "\(error)"])
            }
        }
    }

    /// Runs one due task and returns it with its next tick.
    private func poll(_ task: Task) async -> Task {
        let plan = task.plan
        let outcome: ReadOutcome
        do {
            outcome = try await bus.withConnection { transaction in DeviceReader.read(plan, on: transaction) }
        } catch {
            outcome = ReadOutcome(
                poll: nil, errors: [error as? ModbusError ?? .io("\(error)")], transactions: 0, raw: [:])
        }
        if let poll = outcome.poll { await commit(poll) }
        let now = clock.now()
        let (next, missed) = task.schedule.advance(from: task.next, now: now)
        var updated = task
        updated.next = next
        health.update(plan.deviceID) { h in
            h.missedTicks += missed
            if let changed = h.record(outcome, at: now) {
                let meta: Logger.Metadata = ["device.id": "\(plan.deviceID)", "modbus.unit": "\(plan.unit)"]
                switch changed {
                case .ok: logger.info("device answers", metadata: meta)
                case .failing where outcome.poll != nil:
                    logger.warning(
                        "device answers, but some reads fail: \(outcome.errors.first.map { "\($0)" } ?? "")", metadata: meta)
                case .failing:
                    logger.warning(
                        "device not answering: \(outcome.errors.first.map { "\($0)" } ?? "no data")", metadata: meta)
                case .unknown: break
                }
            }
        }
        if missed > 0 {
            logger.debug("ticks missed", metadata: ["device.id": "\(plan.deviceID)", "missed": "\(missed)"])
        }
        return updated
    }
}
