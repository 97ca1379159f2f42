import SitegateCore
import SitegateModbus

// Accounting for every due tick: a poll for each (full, partial, failed, or failed for backoff), and the ticks
// skipped counted by reason (docs/evidence.md, "Accounting for every tick").
extension BusPoller {
    /// The wall clock watched against the monotonic one, to tell a clock step from an overrun.
    struct StepWatch {
        private var detector = ClockStepDetector()
        private let origin = ContinuousClock.now

        /// How far the wall clock jumped since the last look (zero at the first).
        mutating func observe(wall: UnixTime) -> Duration {
            detector.observe(wall: wall, monotonic: ContinuousClock.now - origin)
        }
    }

    /// One poll per due tick, in task order: the read ones as they went, the backed-off ones failed with `backoff`
    /// and dated at their tick.
    func polls(for due: [Int], active: [Int], outcomes: [ReadOutcome], tasks: [Task], unsynchronised: Bool) -> [Poll] {
        if active == due {
            // Nobody backed off (the usual cycle): the outcomes are in task order already.
            return zip(due, outcomes).map { index, outcome in
                outcome.poll(tick: tasks[index].next, deviceID: tasks[index].plan.deviceID, clockUnsynchronised: unsynchronised)
            }
        }
        let read = Dictionary(uniqueKeysWithValues: zip(active, outcomes))
        return due.map { index in
            let task = tasks[index]
            guard let outcome = read[index] else {
                return .failed(
                    deviceID: task.plan.deviceID, at: task.next, tick: task.next, reason: .backoff,
                    clockUnsynchronised: unsynchronised)
            }
            return outcome.poll(tick: task.next, deviceID: task.plan.deviceID, clockUnsynchronised: unsynchronised)
        }
    }

    /// The ticks of a task strictly between the one just run (or skipped, `previous`) and `next` were missed: by a
    /// clock step when the wall clock jumped by more than two intervals during the wait or the cycle, else by
    /// overrun. Given the task's parts, not the task: a task passed from the poller's array was copied whole.
    func countMissed(
        device: String, schedule: WallClockSchedule, after previous: UnixTime, through next: UnixTime, jump: Duration
    ) {
        let first = previous + schedule.interval
        guard first < next else { return }
        let reason: MissReason = ClockStepDetector.isStep(jump, interval: schedule.interval) ? .clockStep : .overrun
        health.ticks.missed(MissedTickRun(deviceID: device, schedule: schedule, from: first, to: next, reason: reason))
    }
}
