import SitegateCore
import SitegateThreads

/// What the checkpoints need from the pollers and cannot read from the buffer: how far each bus has accounted for
/// its ticks (committed a poll or counted a miss), and the runs of ticks missed by overrun or clock step. In memory
/// only: after `kill -9` those misses show as `not-running` (docs/evidence.md).
public final class TickLedger: Sendable {
    private struct State: Sendable {
        /// Per bus: every tick before this one is accounted for.
        var accountedUntil: [String: UnixTime] = [:]
        var runs: [MissedTickRun] = []
    }

    private let state = LockedValue(State())

    public init() {}

    /// A bus's poller (re)started, or finished a cycle: every tick before `until` is accounted for.
    func accounted(bus: String, until: UnixTime) {
        state.withLock { $0.accountedUntil[bus] = until }
    }

    /// A bus's poller stopped (reload, shutdown).
    func stopped(bus: String) {
        state.withLock { _ = $0.accountedUntil.removeValue(forKey: bus) }
    }

    func accountedUntil(bus: String) -> UnixTime? {
        state.withLock { $0.accountedUntil[bus] }
    }

    func missed(_ run: MissedTickRun) {
        guard run.from < run.to else { return }
        state.withLock { $0.runs.append(run) }
    }

    /// Per device, the ticks of `slot` missed by overrun and by clock step.
    func missed(in slot: Range<UnixTime>) -> [String: (overrun: Int, clockStep: Int)] {
        var out: [String: (overrun: Int, clockStep: Int)] = [:]
        for run in state.withLock({ $0.runs }) where run.from < slot.upperBound && run.to > slot.lowerBound {
            let n = run.ticks(within: slot)
            guard n > 0 else { continue }
            switch run.reason {
            case .overrun: out[run.deviceID, default: (0, 0)].overrun += n
            case .clockStep: out[run.deviceID, default: (0, 0)].clockStep += n
            }
        }
        return out
    }

    /// Forgets the runs that end at or before `end` (their slots are checkpointed).
    func forget(before end: UnixTime) {
        state.withLock { $0.runs.removeAll { $0.to <= end } }
    }
}
