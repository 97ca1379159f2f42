import Logging
import SitegateBuffer
import SitegateCore
import SitegateCrypto

extension Agent {
    /// The checkpoint service, when the buffer can hold evidence messages.
    func checkpointService(outbox: Outbox, publisher: Publisher) -> CheckpointService? {
        guard let evidence = Self.checkpointStore(outbox) else { return nil }
        return CheckpointService(
            store: store, evidence: evidence, ticks: health.ticks, clockSource: faults.clockSource, version: version,
            crypto: LibCrypto(), committed: { publisher.notifyNewData() }, logger: logger)
    }

    /// TEMPORARY, until the outbox stores sealed messages (the integrator's series): the outbox has neither slot
    /// tallies nor evidence messages yet, so no checkpoints are written. Becomes `outbox` with
    /// `extension Outbox: CheckpointStore {}`.
    static func checkpointStore(_ outbox: Outbox) -> (any CheckpointStore)? { nil }
}
