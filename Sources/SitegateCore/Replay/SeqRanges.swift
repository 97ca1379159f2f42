/// Sets of sequence numbers as sorted, disjoint, inclusive ranges: what replay requests ask for and answers report.
public struct SeqRanges: Sendable, Hashable {
    public private(set) var ranges: [ClosedRange<Int64>]

    public init(_ ranges: [ClosedRange<Int64>] = []) {
        self.ranges = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) { append(r) }
    }

    /// Builds from increasing seqs.
    public init<S: Sequence>(increasing seqs: S) where S.Element == Int64 {
        ranges = []
        for seq in seqs { append(seq...seq) }
    }

    /// Adds a range that starts at or after the last one's start.
    public mutating func append(_ range: ClosedRange<Int64>) {
        if let last = ranges.last, range.lowerBound <= last.upperBound &+ 1 {
            ranges[ranges.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
        } else {
            ranges.append(range)
        }
    }

    /// Adds a range anywhere, merging it with the ranges it overlaps or touches.
    public mutating func insert(_ range: ClosedRange<Int64>) {
        if ranges.isEmpty || range.lowerBound > ranges[ranges.count - 1].upperBound &+ 1 {
            ranges.append(range)
            return
        }
        // The first range that ends at or after the new one's start, less one (it may touch).
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound &+ 1 < range.lowerBound { low = mid + 1 } else { high = mid }
        }
        var merged = range
        var end = low
        while end < ranges.count, ranges[end].lowerBound <= merged.upperBound &+ 1 {
            merged = min(merged.lowerBound, ranges[end].lowerBound)...max(merged.upperBound, ranges[end].upperBound)
            end += 1
        }
        ranges.replaceSubrange(low..<end, with: [merged])
    }

    public var count: Int64 { ranges.reduce(0) { $0 + ($1.upperBound - $1.lowerBound + 1) } }
    public var isEmpty: Bool { ranges.isEmpty }

    public func contains(_ seq: Int64) -> Bool {
        // Binary search: answers and requests hold up to a few hundred ranges.
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound < seq { low = mid + 1 } else { high = mid }
        }
        return low < ranges.count && ranges[low].contains(seq)
    }

    /// The ranges minus `other`.
    public func subtracting(_ other: SeqRanges) -> SeqRanges {
        var out = SeqRanges()
        for r in ranges {
            var start = r.lowerBound
            for o in other.ranges where o.upperBound >= start && o.lowerBound <= r.upperBound {
                if o.lowerBound > start { out.append(start...(o.lowerBound - 1)) }
                start = max(start, o.upperBound &+ 1)
                if start > r.upperBound { break }
            }
            if start <= r.upperBound { out.append(start...r.upperBound) }
        }
        return out
    }

    /// `[[a,b],[c,d]]`.
    public var json: String {
        JSONText.array(ranges.map { "[\($0.lowerBound),\($0.upperBound)]" })
    }

    /// Parses `[[a,b],...]` (a single number stands for one seq); nil for anything else.
    public static func parse(_ value: JSONValue?) -> [ClosedRange<Int64>]? {
        guard let items = value?.array else { return nil }
        var out: [ClosedRange<Int64>] = []
        for item in items {
            if let pair = item.array {
                guard pair.count == 2, let a = exactInteger(pair[0]), let b = exactInteger(pair[1]), a <= b else { return nil }
                out.append(a...b)
            } else if let one = exactInteger(item) {
                out.append(one...one)
            } else {
                return nil
            }
        }
        return out
    }

    /// Parses `100-200,300` as people type it; nil for anything else.
    public static func parse(text: String) -> SeqRanges? {
        var out: [ClosedRange<Int64>] = []
        for part in text.split(separator: ",") {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(ends.count), let a = Int64(ends[0]), let b = Int64(ends.last!), a >= 1, a <= b else {
                return nil
            }
            out.append(a...b)
        }
        return out.isEmpty ? nil : SeqRanges(out)
    }

    /// `100-200,300`.
    public var text: String {
        ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
    }

    /// A JSON number that is a whole number and exact in a double.
    static func exactInteger(_ value: JSONValue) -> Int64? {
        guard let n = value.number, n.isFinite, n == n.rounded(), abs(n) <= 9_007_199_254_740_992 else { return nil }
        return Int64(n)
    }
}
