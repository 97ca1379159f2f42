extension GatewayAudit {
    /// One device's counter point in one slot `[start, end)` (ms), by the rules of docs/evidence.md.
    func row(
        device: String, name: String, unit: String?, series s: CounterSeries, start: Int64, end: Int64, interval: Int64
    ) -> CaptureAudit.Row {
        let good = s.good
        // A boundary is tight when its bracketing readings are at most 1.5 poll intervals apart: adjacent ticks.
        let tolerance = interval * 3 / 2
        let bs = Self.bracket(good, at: start), be = Self.bracket(good, at: end)
        func width(_ b: (before: Int?, after: Int?)) -> Int64? {
            guard let i = b.before, let j = b.after else { return nil }
            return good[j].ms - good[i].ms
        }
        let ws = width(bs), we = width(be)
        let startValue = Self.value(good, bs, at: start), endValue = Self.value(good, be, at: end)
        let inside = s.points.filter { $0.ms >= start && $0.ms < end }
        let goodInside = good.contains { $0.ms >= start && $0.ms <= end }
        let invalidInside = inside.filter { $0.observation == .invalid }.count

        // The readings the slot's value rests on: from the start's bracket to the end's.
        let from = bs.before ?? good.firstIndex { $0.ms >= start } ?? good.count
        let to = be.after ?? good.lastIndex { $0.ms <= end } ?? -1
        let used = from <= to ? Array(good[from...to]) : []
        let decrease = zip(used, used.dropFirst()).first { $1.value < $0.value }
        let clock = [bs.before, bs.after, be.before, be.after].compactMap { $0 }.contains { good[$0].clock }

        var reasons: [String] = []
        let status: CaptureAudit.Status
        if let (a, b) = decrease {
            status = .invalid
            reasons.append(
                "counter decreased from \(AuditFormat.decimal(a.value)) to \(AuditFormat.decimal(b.value)) at "
                    + "\(UnixTime(milliseconds: b.ms)) (reset or rollover)")
        } else if !goodInside && invalidInside > 0 {
            status = .invalid
            reasons.append("only invalid values (\(invalidInside))")
        } else if ws == nil || we == nil || !goodInside {
            status = .missing
        } else if ws! <= tolerance && we! <= tolerance && !clock {
            status = .measured
        } else {
            status = .estimated
        }
        let (received, committed, due) = accounting(device: device, from: start, to: end)
        if status != .measured {
            // Where the slot's value lacks readings: the slot itself and any wide or open bracket around it.
            let lower = ws.map { $0 <= tolerance ? start : good[bs.before!].ms } ?? (bs.before.map { good[$0].ms } ?? Int64.min)
            let upper = we.map { $0 <= tolerance ? end : good[be.after!].ms } ?? (be.after.map { good[$0].ms } ?? Int64.max)
            // An INVALID slot has said so already.
            reasons += self.reasons(device: device, series: s, lower: lower, upper: upper, slotStart: start, slotEnd: end)
                .filter { status != .invalid || !$0.hasPrefix("invalid value") }
            if bs.before == nil { reasons.append("no good reading before the slot in the capture") }
            if be.after == nil { reasons.append("no good reading after the slot in the capture") }
            if clock { reasons.append("clock unsynchronised at a boundary reading") }
            if status == .missing && reasons.isEmpty {
                reasons.append(committed == nil ? "no message and no checkpoint for the slot" : "no reading for the slot")
            }
        }
        let energy: Double? = (status == .measured || status == .estimated) ? endValue.flatMap { e in startValue.map { e - $0 } } : nil
        return CaptureAudit.Row(
            device: device, point: name, unit: unit, slotStart: start / 1000, slotEnd: end / 1000, status: status,
            energy: energy, startValue: startValue, endValue: endValue, received: received, committed: committed, due: due,
            reasons: reasons)
    }

    /// Messages received for the slots within `[from, to)`, and the checkpoints' counts for them (nil when none
    /// of them has a checkpoint for the device).
    func accounting(device: String, from: Int64, to: Int64) -> (received: Int, committed: Int?, due: Int?) {
        let received = (messageTimes[device] ?? []).filter { $0 >= from && $0 < to }.count
        var committed: Int?, due: Int?
        for c in checkpoints where c.start * 1000 >= from && c.end * 1000 <= to {
            guard let d = c.devices[device] else { continue }
            committed = (committed ?? 0) + d.committed
            due = (due ?? 0) + d.due
        }
        return (received, committed, due)
    }

    /// Why readings are missing in `(lower, upper)`: failures in the data, ticks the checkpoints count as
    /// missed, and holes in the message stream.
    func reasons(device: String, series s: CounterSeries, lower: Int64, upper: Int64, slotStart: Int64, slotEnd: Int64) -> [String] {
        var out: [String] = []
        var failures: [String: Int] = [:]
        var order: [String] = []
        var invalid = 0
        for p in s.points where p.ms > lower && p.ms < upper {
            switch p.observation {
            case .failed(let why):
                if failures[why] == nil { order.append(why) }
                failures[why, default: 0] += 1
            case .invalid: invalid += 1
            case .good: break
            }
        }
        out += order.map { "failed: \($0) ×\(failures[$0]!)" }
        if invalid > 0 { out.append("invalid value ×\(invalid)") }
        // Checkpoints of the slots that overlap the window.
        var missed: [String: Int] = [:]
        for c in checkpoints where c.end * 1000 > lower && c.start * 1000 < upper {
            if let d = c.devices[device] { missed.merge(d.missed, uniquingKeysWith: +) }
        }
        for reason in ["not-running", "overrun", "clock-step"] + missed.keys.sorted() where (missed[reason] ?? 0) > 0 {
            out.append("\(reason) ×\(missed[reason]!)")
            missed[reason] = 0
        }
        // Holes whose time span meets the window, unless the slot's checkpoint shows this device lost nothing.
        let (received, committed, _) = accounting(device: device, from: slotStart, to: slotEnd)
        let deviceLostNothing = committed.map { $0 <= received } ?? false
        for hole in report.holes where !deviceLostNothing {
            let from = hole.fromTime?.milliseconds ?? Int64.min, to = hole.toTime?.milliseconds ?? Int64.max
            guard from < upper && to > lower else { continue }
            out.append(hole.declaredReason.map { "gap notice (\($0)): \(hole.seqRange)" } ?? "messages lost: \(hole.seqRange) (undeclared gap)")
        }
        return out
    }
}
