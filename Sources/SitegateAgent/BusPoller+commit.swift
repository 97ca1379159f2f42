import Logging
import SitegateBuffer
import SitegateCore
import SitegateSystemd
import SitegateThreads

// Committing a cycle's polls to the outbox, and reporting what the buffer did with them.
extension BusPoller {
    /// Commits a cycle's polls; reports bound drops, a paused buffer and commit failures once per change of state.
    func commit(_ polls: [Poll]) async {
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
