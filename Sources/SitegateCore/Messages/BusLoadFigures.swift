/// A bus's measured load, as the health message (`health.buses.*` in docs/gateway-messages.schema.json) and the
/// status reply's bus entries carry it.
public struct BusLoadFigures: Sendable, Hashable {
    public enum Key: String, JSONKey {
        case transactions, timeouts, missedTicks = "missed_ticks", missedTicksRecent = "missed_ticks_recent"
        case utilisation, transactionMS = "transaction_ms", overloaded, advice
    }

    public var transactions: Int
    public var timeouts: Int
    public var missedTicks: Int
    public var missedTicksRecent: Int
    /// The share of the last minute the bus was busy, to a thousandth.
    public var utilisation: Double
    /// Mean bus time per transaction in the last minute, to a microsecond; nil without transactions.
    public var transactionMS: Double?
    public var overloaded: Bool
    /// What to do about an overloaded bus; written only then.
    public var advice: String?

    public init(
        transactions: Int, timeouts: Int, missedTicks: Int, missedTicksRecent: Int, utilisation: Double,
        transactionMS: Double?, overloaded: Bool, advice: String?
    ) {
        self.transactions = transactions
        self.timeouts = timeouts
        self.missedTicks = missedTicks
        self.missedTicksRecent = missedTicksRecent
        self.utilisation = utilisation
        self.transactionMS = transactionMS
        self.overloaded = overloaded
        self.advice = advice
    }

    /// The figures as messages carry them: rounded to three decimals.
    public init(_ f: BusActivity.Figures) {
        func rounded(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
        self.init(
            transactions: f.transactions, timeouts: f.timeouts, missedTicks: f.missedTicks,
            missedTicksRecent: f.recentMissedTicks, utilisation: rounded(f.utilisation),
            transactionMS: f.transactionMilliseconds.map(rounded), overloaded: f.overloaded, advice: f.advice)
    }

    /// Adds the fields to an object being written (the status reply puts them after the bus's own).
    public func write(into w: inout JSONObjectWriter) {
        w.add(
            Key.self,
            [
                .transactions: .int(transactions), .timeouts: .int(timeouts), .missedTicks: .int(missedTicks),
                .missedTicksRecent: .int(missedTicksRecent), .utilisation: .number(utilisation),
                .transactionMS: transactionMS.map(JSONField.number) ?? .null, .overloaded: .bool(overloaded),
                .advice: advice.map(JSONField.string),
            ])
    }

    /// nil when the object has no load figures (an agent that does not measure its buses).
    public init?(fields r: JSONObjectReader) {
        guard let utilisation = r.number(Key.utilisation) else { return nil }
        self.init(
            transactions: r.int(Key.transactions) ?? 0, timeouts: r.int(Key.timeouts) ?? 0,
            missedTicks: r.int(Key.missedTicks) ?? 0, missedTicksRecent: r.int(Key.missedTicksRecent) ?? 0,
            utilisation: utilisation, transactionMS: r.number(Key.transactionMS), overloaded: r.bool(Key.overloaded) ?? false,
            advice: r.string(Key.advice))
    }
}
