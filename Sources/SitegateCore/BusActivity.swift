/// A bus's measured load: its transactions, how long they take, the share of wall time its thread spends on them
/// and the ticks its devices missed. Fed by the bus's poller after each cycle; read by status, health and metrics.
///
/// Totals count since start; the recent figures cover the last complete window (a minute by default), or the time
/// since start until one is complete, so that a bus that recovered stops being reported as overloaded.
public struct BusActivity: Sendable, Hashable {
    /// The measured figures at one instant, as plain values.
    public struct Figures: Sendable, Hashable {
        /// Modbus transactions since start (answered or not).
        public var transactions: Int
        /// Transactions that ended in a response timeout, since start.
        public var timeouts: Int
        /// Ticks not served before the next one was due, since start (the sum over the bus's devices).
        public var missedTicks: Int
        /// Time the bus thread spent on transactions and their idle gaps, since start.
        public var busySeconds: Double
        /// The share of wall time the bus was busy in the recent window (1.0 = always busy).
        public var utilisation: Double
        /// Mean bus time per transaction in the recent window (idle gaps included); nil without transactions.
        public var transactionMilliseconds: Double?
        /// Ticks missed in the recent window.
        public var recentMissedTicks: Int
        /// Timeouts in the recent window.
        public var recentTimeouts: Int

        /// Busy nine tenths of the time, or missing ticks: the next slow answer makes (more) ticks late.
        public var overloaded: Bool { utilisation >= 0.9 || recentMissedTicks > 0 }

        /// What to do about an overloaded bus, for status, health and STATUS=.
        public var advice: String? {
            guard overloaded else { return nil }
            var text = "busy \(Int((utilisation * 100).rounded()))% of the time"
            if recentMissedTicks > 0 { text += ", \(recentMissedTicks) ticks missed in the last minute" }
            text += ": split the bus or lengthen intervals"
            if recentTimeouts > 0 { text += " (\(recentTimeouts) timeouts each cost a response_timeout: fix or remove silent devices first)" }
            return text
        }
    }

    private struct Window: Sendable, Hashable {
        var busy: Duration = .zero
        var transactions = 0
        var timeouts = 0
        var missed = 0
    }

    public let window: Duration
    private var transactions = 0
    private var timeouts = 0
    private var missedTicks = 0
    private var busy: Duration = .zero
    private var windowStart: UnixTime
    private var current = Window()
    private var previous: Window?

    public init(start: UnixTime, window: Duration = .seconds(60)) {
        windowStart = start
        self.window = window
    }

    /// One poll cycle ran on the bus from `start` to `end`.
    public mutating func recordCycle(start: UnixTime, end: UnixTime, transactions count: Int, timeouts timedOut: Int) {
        roll(to: end)
        let spent = max(.zero, end - start)
        transactions += count
        timeouts += timedOut
        busy += spent
        current.busy += spent
        current.transactions += count
        current.timeouts += timedOut
    }

    /// `count` ticks of the bus's devices were not served before the next one was due.
    public mutating func recordMissedTicks(_ count: Int, at time: UnixTime) {
        guard count > 0 else { return }
        roll(to: time)
        missedTicks += count
        current.missed += count
    }

    public func figures(at now: UnixTime) -> Figures {
        var copy = self
        copy.roll(to: now)
        let (recent, length): (Window, Duration) =
            if let previous = copy.previous { (previous, window) } else { (copy.current, now - copy.windowStart) }
        let seconds = length.seconds
        let busySeconds = recent.busy.seconds
        return Figures(
            transactions: transactions, timeouts: timeouts, missedTicks: missedTicks,
            busySeconds: busy.seconds,
            utilisation: seconds > 0 ? min(1, busySeconds / seconds) : 0,
            transactionMilliseconds: recent.transactions > 0 ? busySeconds * 1000 / Double(recent.transactions) : nil,
            recentMissedTicks: recent.missed, recentTimeouts: recent.timeouts)
    }

    /// Closes the windows that ended before `time`.
    private mutating func roll(to time: UnixTime) {
        guard time >= windowStart + window else { return }
        let elapsed = (time - windowStart) / window
        let whole = Int(elapsed.rounded(.down))
        previous = whole == 1 ? current : Window()  // a gap of more than a window had no cycles at all
        current = Window()
        windowStart = windowStart + window * whole
    }
}
