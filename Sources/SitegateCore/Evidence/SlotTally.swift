/// How one device's ticks in a slot ended, counted from the committed data messages (docs/evidence.md,
/// "Checkpoints"): polls by outcome, and the first and last seq among them.
public struct SlotTally: Sendable, Hashable {
    public var counts: [PollOutcome: Int]
    public var firstSeq: Int64?
    public var lastSeq: Int64?

    public init(counts: [PollOutcome: Int] = [:], firstSeq: Int64? = nil, lastSeq: Int64? = nil) {
        self.counts = counts
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
    }

    public subscript(outcome: PollOutcome) -> Int { counts[outcome, default: 0] }

    public mutating func add(_ outcome: PollOutcome, count: Int, seqs: ClosedRange<Int64>) {
        counts[outcome, default: 0] += count
        firstSeq = min(firstSeq ?? seqs.lowerBound, seqs.lowerBound)
        lastSeq = max(lastSeq ?? seqs.upperBound, seqs.upperBound)
    }
}

extension SlotTally {
    /// Every poll counted.
    public var polls: Int { counts.values.reduce(0, +) }
}
