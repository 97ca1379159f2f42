/// The time during which the kernel said its clock was not synchronised, from samples taken about once a second:
/// the span between two samples counts when either of them saw the clock unsynchronised. For a checkpoint's
/// `unsynchronised_s`.
public struct UnsynchronisedTime: Sendable, Hashable {
    /// A gap between samples longer than this (the agent stalled, or the clock jumped forwards) counts this much only.
    public static let maxGap = Duration.seconds(10)

    private var last: UnixTime?
    private var lastUnsynchronised = false
    /// Disjoint spans, oldest first.
    private var spans: [Range<UnixTime>] = []

    public init() {}

    public mutating func observe(unsynchronised: Bool, at now: UnixTime) {
        defer {
            last = now
            lastUnsynchronised = unsynchronised
        }
        // The first sample, or a clock set back: nothing to attribute.
        guard let last, last < now, unsynchronised || lastUnsynchronised else { return }
        let start = max(last, now + .nanoseconds(-Self.maxGap.nanosecondsClamped))
        if let tail = spans.last, tail.upperBound >= start {
            spans[spans.count - 1] = tail.lowerBound..<max(tail.upperBound, now)
        } else {
            spans.append(start..<now)
        }
    }

    /// Whole seconds of `range` counted unsynchronised (rounded up: a part of a second counts).
    public func seconds(in range: Range<UnixTime>) -> Int {
        var total: Int64 = 0
        for span in spans where span.upperBound > range.lowerBound && span.lowerBound < range.upperBound {
            total += min(span.upperBound, range.upperBound).nanoseconds - max(span.lowerBound, range.lowerBound).nanoseconds
        }
        return Int((total + 999_999_999) / 1_000_000_000)
    }

    /// Forgets what lies before `end` (its slots are checkpointed).
    public mutating func forget(before end: UnixTime) {
        spans = spans.compactMap { span in
            span.upperBound <= end ? nil : max(span.lowerBound, end)..<span.upperBound
        }
    }
}
