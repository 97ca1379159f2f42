/// One counter point's observations in a capture, in time order: what the audit interpolates
/// (docs/evidence.md, "Auditing a capture").
public struct CounterSeries: Sendable {
    public enum Observation: Sendable, Hashable {
        /// A value; `clock` when it was taken with the clock unsynchronised.
        case good(Double, clock: Bool)
        /// An invalid sentinel (`q: invalid`).
        case invalid
        /// No value, and why: the `vs` of a failed record or of the `_poll` record.
        case failed(String)
    }

    public struct Point: Sendable, Hashable {
        public var ms: Int64
        public var observation: Observation
    }

    public var unit: String?
    public var points: [Point] = []
    /// The good readings alone, in time order (the interpolation's input).
    public private(set) var good: [(ms: Int64, value: Double, clock: Bool)] = []

    public init(unit: String? = nil) { self.unit = unit }

    mutating func finish() {
        points.sort { $0.ms < $1.ms }
        good = points.compactMap { p in
            if case .good(let v, let clock) = p.observation { return (p.ms, v, clock) }
            return nil
        }
    }

    /// The observations of every point of a data message: `bt` plus each record's `t`; `_poll` speaks for all.
    static func observations(records: [JSONValue]) -> [(name: String?, unit: String?, point: Point)] {
        guard let base = records.first?["bt"]?.number else { return [] }
        var out: [(String?, String?, Point)] = []
        for record in records {
            guard let name = record["n"]?.string else { continue }
            let ms = Int64(((base + (record["t"]?.number ?? 0)) * 1000).rounded())
            let labels = (record["q"]?.string ?? "").split(separator: ",")
            let observation: Observation
            if labels.contains("failed") {
                observation = .failed(record["vs"]?.string ?? "unknown")
            } else if labels.contains("invalid") {
                observation = .invalid
            } else if let v = record["v"]?.number {
                observation = .good(v, clock: labels.contains("clock"))
            } else {
                continue
            }
            let isPoll = name == SenMLEncoder.pollRecordName
            out.append((isPoll ? nil : name, record["u"]?.string, Point(ms: ms, observation: observation)))
        }
        return out
    }
}
