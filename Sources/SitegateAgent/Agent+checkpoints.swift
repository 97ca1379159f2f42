import Logging
import SitegateBuffer
import SitegateCore
import SitegateCrypto

extension Agent {
    /// The service that commits a checkpoint per slot into `outbox`, for `publisher` to send.
    func checkpointService(outbox: Outbox, publisher: Publisher) -> CheckpointService {
        CheckpointService(
            store: store, evidence: outbox, ticks: health.ticks, clockSource: faults.clockSource, version: version,
            crypto: LibCrypto(), committed: { publisher.notifyNewData() }, logger: logger)
    }
}
