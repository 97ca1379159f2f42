/// Which slots still need their checkpoint: every slot that ended since the last one checkpointed, so the record
/// has no silent slot however long the agent was stopped. Pure: the service asks it after each checkpoint.
public enum CheckpointBacklog {
    /// Slots checkpointed one by one after a long stop: 7 days of 15-minute slots, and never more than this many.
    public static let maxSlotsOneByOne = 672
    public static let maxSpanOneByOne = Duration.seconds(7 * 86_400)

    /// The ranges to checkpoint now, oldest first: from `lastEnd` (the end of the last checkpoint stored; nil
    /// when there is none, then from the slot that holds `firstStart`, the agent's start) to the last slot
    /// boundary at or before `now`. Beyond the most recent `limit` slots, the older ones are summarised in one
    /// range. A `lastEnd` off the grid (the slot length changed between runs) first gets a range up to the next
    /// boundary.
    public static func pending(
        lastEnd: UnixTime?, firstStart: UnixTime, now: UnixTime, slots: EvidenceSlots, limit: Int? = nil
    ) -> [Range<UnixTime>] {
        let from = lastEnd ?? slots.start(of: firstStart)
        let to = slots.start(of: now)
        guard from < to else { return [] }
        var ranges: [Range<UnixTime>] = []
        var cursor = from
        let aligned = slots.start(of: from)
        if aligned != from {
            let next = aligned + slots.length
            ranges.append(from..<next)
            cursor = next
        }
        let whole = slots.count(from: cursor, to: to)
        let bySpan = Int(maxSpanOneByOne.nanosecondsClamped / slots.length.nanosecondsClamped)
        let keep = max(1, limit ?? min(maxSlotsOneByOne, bySpan))
        if whole > keep {
            let summaryEnd = to + .nanoseconds(-Int64(keep) * slots.length.nanosecondsClamped)
            // The off-grid head, if any, joins the summary.
            let summaryStart = ranges.first?.lowerBound ?? cursor
            ranges = [summaryStart..<summaryEnd]
            cursor = summaryEnd
        }
        while cursor < to {
            ranges.append(cursor..<(cursor + slots.length))
            cursor = cursor + slots.length
        }
        return ranges
    }
}
