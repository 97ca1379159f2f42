/// The checkpoint grid: slots of `length` aligned to UTC midnight (and so to 1970-01-01), like the EU imbalance
/// settlement period (docs/evidence.md, "Checkpoints"). A length must divide a day, so that every day has the
/// same boundaries.
public struct EvidenceSlots: Sendable, Hashable {
    public var length: Duration

    public static let day = Duration.seconds(86_400)
    /// The default: the quarter-hour of the settlement period.
    public static let quarterHour = EvidenceSlots(length: .seconds(900))!

    /// Nil unless `length` is a whole number of seconds, at least one, that divides 24 hours.
    public init?(length: Duration) {
        guard Self.isValid(length) else { return nil }
        self.length = length
    }

    public static func isValid(_ length: Duration) -> Bool {
        let ns = length.nanosecondsClamped
        return ns >= 1_000_000_000 && ns % 1_000_000_000 == 0 && day.nanosecondsClamped % ns == 0
    }

    private var step: Int64 { length.nanosecondsClamped }

    /// The start of the slot that holds `time`.
    public func start(of time: UnixTime) -> UnixTime {
        UnixTime(nanoseconds: time.nanoseconds.floorDiv(step) * step)
    }

    /// The slot that holds `time`: `[start, end)`.
    public func slot(of time: UnixTime) -> Range<UnixTime> {
        let start = start(of: time)
        return start..<(start + length)
    }

    /// The slots from `from` (a boundary, or rounded down to one) up to `to` (exclusive, rounded down), in order.
    public func slots(from: UnixTime, to: UnixTime) -> [Range<UnixTime>] {
        var out: [Range<UnixTime>] = []
        var s = start(of: from)
        let end = start(of: to)
        while s < end {
            out.append(s..<(s + length))
            s = s + length
        }
        return out
    }

    /// How many whole slots `[from, to)` holds (both boundaries).
    public func count(from: UnixTime, to: UnixTime) -> Int {
        Int(max(0, (start(of: to).nanoseconds - start(of: from).nanoseconds) / step))
    }
}

extension WallClockSchedule {
    /// How many of this schedule's ticks lie in `[from, to)`.
    public func ticks(from: UnixTime, to: UnixTime) -> Int {
        guard from < to else { return 0 }
        let step = interval.nanosecondsClamped
        let shift = offset.nanosecondsClamped
        // Ticks are k * step + shift: count the k with from <= tick < to.
        func firstAtOrAfter(_ t: UnixTime) -> Int64 { -((shift - t.nanoseconds).floorDiv(step)) }
        return Int(firstAtOrAfter(to) - firstAtOrAfter(from))
    }

    /// The ticks in `[from, to)`, counted in `range` only (the part of a run of ticks that lies in one slot).
    public func ticks(from: UnixTime, to: UnixTime, within range: Range<UnixTime>) -> Int {
        ticks(from: max(from, range.lowerBound), to: min(to, range.upperBound))
    }
}
