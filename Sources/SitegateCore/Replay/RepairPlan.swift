/// What `sitegate audit --repair` asks the gateway for after a verify pass (docs/evidence.md, "Replay"): every
/// undeclared hole of one gateway's chain, as replay requests within the gateway's limits.
public struct RepairPlan: Sendable, Hashable {
    /// Undeclared holes: lost after the gateway, so its archive may still hold them.
    public var wanted: SeqRanges
    /// Holes declared by gap notices or chain starts: gone by the gateway's own word, not asked for.
    public var declared: SeqRanges

    public init(wanted: SeqRanges, declared: SeqRanges) {
        self.wanted = wanted
        self.declared = declared
    }

    /// The holes `report` found for `gateway` (`{prefix}/{site}/{gateway}`, as the report names gateways).
    public init(report: VerifyReport, gateway: String) {
        let holes = report.gateways.first { $0.gateway == gateway }?.holes ?? []
        wanted = SeqRanges(holes.filter { $0.declaredReason == nil }.map { $0.fromSeq...$0.toSeq })
        declared = SeqRanges(holes.filter { $0.declaredReason != nil }.map { $0.fromSeq...$0.toSeq })
    }

    /// `wanted` as requests `id-1`, `id-2`, ..., each within `limits` (ranges per request, numbers per range and
    /// in all), so that the gateway accepts every one. A range longer than a request may hold is cut across
    /// requests, never within one (its pieces would merge again).
    public func requests(id: String, limits: ReplayLimits = ReplayLimits()) -> [ReplayRequest] {
        var batches: [[ClosedRange<Int64>]] = []
        var current: [ClosedRange<Int64>] = []
        var total: Int64 = 0
        for range in wanted.ranges {
            var start = range.lowerBound
            while start <= range.upperBound {
                let room = limits.maxTotal - total
                if current.count == limits.maxRanges || room <= 0 {
                    batches.append(current)
                    (current, total) = ([], 0)
                    continue
                }
                let end = min(range.upperBound, start + min(limits.maxRangeLength, room) - 1)
                current.append(start...end)
                total += end - start + 1
                start = end + 1
                // Adjacent pieces would merge into one range again: the rest goes in the next request.
                if start <= range.upperBound {
                    batches.append(current)
                    (current, total) = ([], 0)
                }
            }
        }
        if !current.isEmpty { batches.append(current) }
        return batches.enumerated().map { ReplayRequest(id: "\(id)-\($0.offset + 1)", ranges: SeqRanges($0.element)) }
    }
}
