import Logging
import SitegateCore
import SitegateModbus

// Recording a device's outcome: health, change-of-state logs, backoff.
extension BusPoller {
    /// Counts the outcome, logs a change of the device's state, and advances its backoff. Given the task's parts,
    /// not the task: a task passed from the poller's array was copied whole (its plan's arrays retained) each poll.
    func record(
        _ outcome: ReadOutcome, device: String, unit: Int, interval: Duration, at time: UnixTime, due: UnixTime,
        backoff: inout Backoff
    ) {
        // Built only when a line is logged (the logger takes it as an autoclosure): this runs for every poll.
        func meta() -> Logger.Metadata { ["device.id": "\(device)", "modbus.unit": "\(unit)"] }
        if outcome.poll != nil {
            if backoff.isBackingOff { logger.info("device answers again; backoff ended", metadata: meta()) }
            backoff.recordSuccess()
        } else if let delay = backoff.recordFailure(at: due, interval: interval), delay == interval {
            // Counted from the tick the poll was due at, so a backoff of one interval skips no tick.
            logger.warning(
                "device keeps failing: polling it less often (up to every \(DurationNotation.format(backoff.cap)))",
                metadata: meta())
        }
        let backingOff = backoff.isBackingOff
        health.update(device) { h in
            h.backingOff = backingOff
            if outcome.poll != nil { h.lastResponseTime = outcome.duration }
            guard let changed = h.record(outcome, at: time) else { return }
            switch changed {
            case .ok:
                logger.info("device answers", metadata: meta())
            case .failing where outcome.poll != nil:
                logger.warning(
                    "device answers, but some reads fail: \(outcome.errors.first.map { "\($0)" } ?? "")", metadata: meta())
            case .failing:
                logger.warning(
                    "device not answering: \(outcome.errors.first.map { "\($0)" } ?? "no data")", metadata: meta())
            case .unknown:
                break
            }
        }
    }
}
