import SitegateCore

// Reading the archive for replay requests: which of the asked numbers are held, and the messages themselves.
extension OutboxStore {
    /// Of the seqs in `range`, those archived and those still unsent that pass the filters, and all present.
    func coverage(_ range: ClosedRange<Int64>, devices: Set<String>?, time: ClosedRange<Int64>?) throws(SQLiteError)
        -> ReplayCoverage
    {
        let s = try database.prepare(
            "SELECT seq, device, taken_at_ms FROM outbox WHERE seq BETWEEN ? AND ? ORDER BY seq")
        s.bind(1, range.lowerBound)
        s.bind(2, range.upperBound)
        defer { s.reset() }
        var coverage = ReplayCoverage()
        while try s.step() {
            let seq = s.int64(0)
            coverage.present.append(seq...seq)
            guard Self.passes(device: s.text(1), time: s.int64(2), devices: devices, timeRange: time) else { continue }
            if isArchived(seq) { coverage.archived.append(seq...seq) } else { coverage.unsent.append(seq...seq) }
        }
        return coverage
    }

    /// Up to `limit` archived messages in `range` after `seq`, passing the filters, in seq order.
    func archived(
        in range: ClosedRange<Int64>, after seq: Int64, devices: Set<String>?, time: ClosedRange<Int64>?, limit: Int
    ) throws(SQLiteError) -> [StoredMessage] {
        let s = try database.prepare(
            "SELECT seq, device, committed_at_ms, payload, taken_at_ms FROM outbox "
                + "WHERE seq > ? AND seq BETWEEN ? AND ? ORDER BY seq")
        s.bind(1, seq)
        s.bind(2, range.lowerBound)
        s.bind(3, range.upperBound)
        defer { s.reset() }
        var out: [StoredMessage] = []
        while out.count < limit, try s.step() {
            guard isArchived(s.int64(0)) else { continue }
            let device = s.text(1)
            guard Self.passes(device: device, time: s.int64(4), devices: devices, timeRange: time) else { continue }
            out.append(
                StoredMessage(
                    seq: s.int64(0), committedAt: UnixTime(milliseconds: s.int64(2)),
                    destination: device.isEmpty ? .evidence : .data(device: device), payload: s.blob(3)))
        }
        return out
    }

    /// Evidence messages (no device) always pass the device filter: they bridge the chain of what is replayed.
    private static func passes(device: String, time: Int64, devices: Set<String>?, timeRange: ClosedRange<Int64>?) -> Bool {
        if let devices, !device.isEmpty, !devices.contains(device) { return false }
        if let timeRange, !timeRange.contains(time) { return false }
        return true
    }
}

/// Which of a replay request's numbers the buffer holds.
public struct ReplayCoverage: Sendable, Hashable {
    /// Acknowledged and kept: republished for the request.
    public var archived = SeqRanges()
    /// Not sent yet: they go out anyway, in the normal order.
    public var unsent = SeqRanges()
    /// Every number with a row, filtered or not; the rest of the request is missing.
    public var present = SeqRanges()

    public init() {}

    public mutating func merge(_ other: ReplayCoverage) {
        for r in other.archived.ranges { archived.append(r) }
        for r in other.unsent.ranges { unsent.append(r) }
        for r in other.present.ranges { present.append(r) }
    }
}
