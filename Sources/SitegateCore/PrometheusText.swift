/// Prometheus's text exposition format (version 0.0.4), written without Foundation.
///
/// One `Family` per metric name: `# HELP`, `# TYPE`, then its samples. Names follow Prometheus's conventions
/// (a `sitegate_` prefix, base units, `_total` on counters); this type checks their shape, not their meaning.
/// `promtool check metrics` reads the result in the integration tests.
public struct PrometheusText: Sendable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    private(set) public var text = ""

    public init() {}

    /// Starts a family. Every sample that follows belongs to it until the next `family`.
    public mutating func family(_ name: String, _ kind: Kind, help: String) {
        precondition(Self.isValidName(name), "not a Prometheus metric name: \(name)")
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    /// One sample line: `name{labels} value`.
    public mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " " + Self.number(value) + "\n"
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Int) {
        sample(name, labels, Double(value))
    }

    /// A sample without labels.
    public mutating func sample(_ name: String, _ value: Double) { sample(name, [], value) }
    public mutating func sample(_ name: String, _ value: Int) { sample(name, [], Double(value)) }

    /// A whole histogram family: cumulative buckets, `+Inf`, `_sum` and `_count`, for each label set.
    public mutating func histogram(
        _ name: String, help: String, series: [(labels: [(String, String)], histogram: Histogram)]
    ) {
        family(name, .histogram, help: help)
        for (labels, h) in series {
            var cumulative = 0
            for (bound, count) in zip(h.bounds, h.counts) {
                cumulative += count
                sample(name + "_bucket", labels + [("le", Self.number(bound))], cumulative)
            }
            sample(name + "_bucket", labels + [("le", "+Inf")], h.count)
            sample(name + "_sum", labels, h.sum)
            sample(name + "_count", labels, h.count)
        }
    }

    /// Metric names: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(0x30...0x39).contains(first) else { return false }
        return name.utf8.allSatisfy { c in
            (0x61...0x7A).contains(c) || (0x41...0x5A).contains(c) || (0x30...0x39).contains(c) || c == 0x5F || c == 0x3A
        }
    }

    /// Label values escape backslash, double quote and newline.
    static func escapeLabel(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return s }
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// HELP text escapes backslash and newline.
    static func escapeHelp(_ s: String) -> String {
        s.replacingAll("\\", with: "\\\\").replacingAll("\n", with: "\\n")
    }

    /// Integers without a fraction; `+Inf`, `-Inf` and `NaN` as Prometheus spells them.
    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return v.description
    }
}

/// A fixed-bucket histogram of durations in seconds (Prometheus's cumulative form is produced when written).
public struct Histogram: Sendable, Hashable {
    /// Upper bounds, ascending.
    public let bounds: [Double]
    /// Observations per bucket: `counts[i]` counts values in (bounds[i-1], bounds[i]]; above the last bound only in `count`.
    public private(set) var counts: [Int]
    public private(set) var count = 0
    public private(set) var sum = 0.0

    public init(bounds: [Double]) {
        precondition(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 }, "bounds must ascend")
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count)
    }

    public mutating func observe(_ value: Double) {
        count += 1
        sum += value
        // Few buckets: a linear walk is as fast as a search and obviously right.
        if let i = bounds.firstIndex(where: { value <= $0 }) { counts[i] += 1 }
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
