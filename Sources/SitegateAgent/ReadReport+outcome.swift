import SitegateCore
import SitegateModbus

extension ReadReport {
    /// The report of one read of every configured point of `device`.
    public init(device: DeviceConfig, map: DeviceMap, plan: DevicePlan, outcome: ReadOutcome) {
        var values: [String: Reading] = [:]
        for r in outcome.poll?.readings ?? [] { values[r.pointID] = r }
        let points = plan.points.map { p -> Point in
            var point = Point(
                id: p.id, address: p.address, function: p.function.rawValue, type: p.type.rawValue, unit: p.unit,
                range: p.plausibleRange, raw: outcome.raw[p.id].map { $0.map { Hex.word($0) }.joined(separator: " ") }, status: "ok")
            switch values[p.id]?.value {
            case .number(let v)?:
                point.value = v
                point.outOfRange = p.plausibleRange.map { !$0.contains(v) } ?? false
            case .text(let s)?:
                point.text = s
            case .invalid?:
                point.status = "invalid"
            case nil:
                point.status = outcome.unsupportedPoints.contains(p.id) ? "refused" : "no answer"
            }
            return point
        }
        self.init(
            device: device.id, model: map.id, unit: device.unit, bus: device.busID, transactions: outcome.transactions,
            takenAt: outcome.poll.map { "\($0.takenAt)" }, errors: outcome.errors.map { "\($0)" }, points: points)
    }
}
