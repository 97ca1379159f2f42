import SitegateBuffer
import SitegateCore

/// What the checkpoints need from the buffer: the tallies of stored data messages by tick (so that they survive
/// restarts and `kill -9`), a commit for evidence messages, and where the last checkpoint ended. The outbox that
/// stores sealed messages provides it.
public protocol CheckpointStore: Sendable {
    /// Per device: the counts per outcome and the lowest and highest `seq` of the data messages whose tick lies in
    /// `[from, to)`, from the stored rows (kept at least until their slot's checkpoint is committed).
    func slotTally(from: UnixTime, to: UnixTime) async throws -> [String: SlotTally]
    /// Seals and commits an evidence message (a checkpoint: `slotEnd` is the end of its slot); returns its `seq`.
    func commitEvidence(_ draft: MessageDraft, slotEnd: UnixTime?) async throws -> Int64
    /// The end of the last slot checkpointed, from the stored checkpoints; nil when there is none.
    func lastCheckpointSlot() async throws -> UnixTime?
}

extension Outbox: CheckpointStore {}
