import Logging
import ServiceLifecycle
import SitegateCore

/// Commits one checkpoint per slot (docs/evidence.md, "Checkpoints"): when every bus has accounted for the ticks
/// due before the slot's end (or a bounded wait has passed), and, after a stop, one for every slot missed while the
/// agent was not running. Samples the kernel's clock once a second for the slots' `unsynchronised_s`.
struct CheckpointService: Service {
    /// How long after a slot's end a bus that has not finished its ticks is waited for; its ticks still open then
    /// count as `overrun` (the bus was busy).
    static let grace = Duration.seconds(60)
    static let period = Duration.seconds(1)

    let store: ConfigStore
    let evidence: any CheckpointStore
    let ticks: TickLedger
    let clockSource: any ClockStateSource
    var clock: any WallClock = SystemWallClock()
    let version: String
    let crypto: any EvidenceCrypto
    /// Called after each commit (the publisher has new data).
    var committed: @Sendable () -> Void = {}
    let logger: Logger

    func run() async throws {
        let started = clock.now()
        await cancelWhenGracefulShutdown {
            var state = State(started: started)
            while !Task.isCancelled {
                await self.step(&state)
                do { try await Task.sleep(for: Self.period) } catch { return }
            }
        }
    }

    /// What the loop carries from one second to the next.
    struct State {
        let started: UnixTime
        /// The end of the last checkpoint committed; unknown until the store answered.
        var lastEnd: UnixTime??
        var unsynchronised = UnsynchronisedTime()
        var lastState: ClockState?
        var failing = false
        var clockUnreadable = false

        init(started: UnixTime) { self.started = started }
    }

    /// Samples the clock, then commits every checkpoint that is due and ready.
    func step(_ state: inout State) async {
        let now = clock.now()
        state.lastState = clockSource.sample()
        if (state.lastState == nil) != state.clockUnreadable {
            state.clockUnreadable.toggle()
            if state.clockUnreadable {
                logger.warning(
                    """
                    cannot read the kernel's clock state (adjtimex refused; systemd's ProtectClock=yes does that): \
                    checkpoints say the clock is not synchronised, readings are not labelled
                    """)
            } else {
                logger.notice("the kernel's clock state can be read again")
            }
        }
        state.unsynchronised.observe(unsynchronised: state.lastState.map { !$0.synchronised } ?? false, at: now)
        do {
            if state.lastEnd == nil { state.lastEnd = .some(try await evidence.lastCheckpointSlot()) }
            let config = store.config
            let pending = CheckpointBacklog.pending(
                lastEnd: state.lastEnd!, firstStart: state.started, now: now, slots: config.evidence.slots)
            if pending.count > 1 {
                logger.info(
                    "writing the checkpoints of slots that ended while the agent was not running",
                    metadata: ["evidence.slots": "\(pending.count)", "evidence.from": "\(pending[0].lowerBound)"])
            }
            for slot in pending {
                guard ready(slot, config: config, now: now, started: state.started) else { break }
                let tallies = try await evidence.slotTally(from: slot.lowerBound, to: slot.upperBound)
                let message = checkpoint(slot, config: config, tallies: tallies, state: state)
                let seq = try await evidence.commitEvidence(message.draft(at: clock.now()), slotEnd: slot.upperBound)
                committed()
                logger.debug(
                    "checkpoint committed", metadata: ["evidence.slot_start": "\(slot.lowerBound)", "evidence.seq": "\(seq)"])
                state.lastEnd = .some(slot.upperBound)
                state.unsynchronised.forget(before: slot.upperBound)
                ticks.forget(before: slot.upperBound)
            }
            if state.failing { logger.notice("checkpoints are committed again") }
            state.failing = false
        } catch {
            if !state.failing {
                logger.error("cannot commit a checkpoint; retrying every second", metadata: ["error": "\(error)"])
            }
            state.failing = true
        }
    }

    /// A slot is ready when every bus with devices has accounted for its ticks before the slot's end, or the wait
    /// for them is over. A slot that ended before the agent started has nothing to wait for.
    func ready(_ slot: Range<UnixTime>, config: SiteConfig, now: UnixTime, started: UnixTime) -> Bool {
        if slot.upperBound <= started || now >= slot.upperBound + Self.grace { return true }
        // A bus without anything to poll has no poller (see `PollerSupervisor`): nothing to wait for.
        return config.buses.allSatisfy { bus in
            (ticks.accountedUntil(bus: bus.id).map { $0 >= slot.upperBound } ?? false) || config.assignments(on: bus).isEmpty
        }
    }
}
