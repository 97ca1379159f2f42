/// The audit of one gateway's chain: series per device and counter point, slots, and the rules of
/// docs/evidence.md, "Auditing a capture".
struct GatewayAudit {
    let chain: CaptureVerifier.Chain
    let report: VerifyReport.Gateway
    let metas: [String: DeviceMetaMessage]
    let options: CaptureAudit.Options

    /// Per device: each counter point's series, and the times of its data messages.
    private(set) var series: [String: [String: CounterSeries]] = [:]
    private(set) var messageTimes: [String: [Int64]] = [:]
    private(set) var checkpoints: [CheckpointRecord] = []

    init(chain: CaptureVerifier.Chain, report: VerifyReport.Gateway, metas: [String: DeviceMetaMessage], options: CaptureAudit.Options) {
        self.chain = chain
        self.report = report
        self.metas = metas
        self.options = options
        var pollFailures: [String: [CounterSeries.Point]] = [:]
        for received in chain.messages {
            switch received.message.body {
            case .data(let device, let records):
                messageTimes[device, default: []].append(received.message.time.milliseconds)
                for (name, unit, point) in CounterSeries.observations(records: records) {
                    guard let name else {
                        pollFailures[device, default: []].append(point)
                        continue
                    }
                    series[device, default: [:]][name, default: CounterSeries(unit: unit)].points.append(point)
                    if unit != nil { series[device]![name]!.unit = unit }
                }
            case .evidence(kind: EvidenceKind.checkpoint.rawValue, let fields):
                if let c = CheckpointRecord(seq: received.message.seq, fields: fields) { checkpoints.append(c) }
            default:
                break
            }
        }
        // A poll without values (`_poll`) is a failure of every point.
        for (device, failures) in pollFailures {
            for name in counters(of: device).map(\.name) {
                series[device, default: [:]][name, default: CounterSeries()].points += failures
            }
        }
        for device in series.keys { for name in series[device]!.keys { series[device]![name]!.finish() } }
        for device in messageTimes.keys { messageTimes[device]!.sort() }
    }

    /// The counter points of a device and their poll interval in ms: from its meta, or `--counters`.
    func counters(of device: String) -> [(name: String, unit: String?, intervalMs: Int64?)] {
        let metaPoints = metas[device]?.points ?? []
        if let names = options.counters {
            // Only the points the device has: in its meta, or in its data.
            let has = Set(metaPoints.map(\.n)).union(series[device].map { Array($0.keys) } ?? [])
            return names.filter(has.contains).map { name in
                let p = metaPoints.first { $0.n == name }
                return (name, p?.u, p.map { Int64($0.intervalSeconds * 1000) }.flatMap { $0 > 0 ? $0 : nil })
            }
        }
        return metaPoints.filter { $0.kind == "counter" }.map { p in
            (p.n, p.u, p.intervalSeconds > 0 ? Int64(p.intervalSeconds * 1000) : nil)
        }
    }

    func rows() -> [CaptureAudit.Row] {
        let slot = options.slotSeconds * 1000
        let times = messageTimes.values.flatMap { [$0.first!, $0.last!] } + checkpoints.flatMap { [$0.start * 1000, $0.end * 1000] }
        guard let first = times.min(), let last = times.max() else { return [] }
        let firstSlot = first.floorDiv(slot) * slot
        let lastEnd = (last + slot - 1).floorDiv(slot) * slot
        let devices = Set(series.keys).union(metas.keys).union(checkpoints.flatMap(\.devices.keys)).sorted()
        var rows: [CaptureAudit.Row] = []
        for device in devices {
            for counter in counters(of: device) {
                let s = series[device]?[counter.name] ?? CounterSeries(unit: counter.unit)
                let interval = counter.intervalMs ?? Self.medianSpacing(s.good.map(\.ms)) ?? slot
                var start = firstSlot
                while start < max(lastEnd, firstSlot + slot) {
                    rows.append(row(device: device, name: counter.name, unit: s.unit ?? counter.unit, series: s, start: start, end: start + slot, interval: interval))
                    start += slot
                }
            }
        }
        return rows
    }

    static func medianSpacing(_ ms: [Int64]) -> Int64? {
        let d = zip(ms, ms.dropFirst()).map { $1 - $0 }.filter { $0 > 0 }.sorted()
        return d.isEmpty ? nil : d[d.count / 2]
    }

    /// The last good reading at or before `t` and the first at or after it.
    static func bracket(_ good: [(ms: Int64, value: Double, clock: Bool)], at t: Int64) -> (before: Int?, after: Int?) {
        // Binary search for the first reading at or after t.
        var lo = 0, hi = good.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if good[mid].ms < t { lo = mid + 1 } else { hi = mid }
        }
        let after = lo < good.count ? lo : nil
        let before = lo < good.count && good[lo].ms == t ? lo : (lo > 0 ? lo - 1 : nil)
        return (before, after)
    }

    /// The register at `t` by linear interpolation between the bracketing readings.
    static func value(_ good: [(ms: Int64, value: Double, clock: Bool)], _ b: (before: Int?, after: Int?), at t: Int64) -> Double? {
        guard let i = b.before, let j = b.after else { return nil }
        let (a, c) = (good[i], good[j])
        if c.ms == a.ms { return a.value }
        return a.value + (c.value - a.value) * Double(t - a.ms) / Double(c.ms - a.ms)
    }
}
