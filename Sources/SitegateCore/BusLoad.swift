/// How much of a bus's time its devices' schedules need: the sum over point groups of poll time / interval.
public struct BusLoad: Sendable {
    public struct Entry: Sendable {
        public var deviceID: String
        public var group: String
        public var plan: DevicePlan
        public var interval: Duration
        /// Estimated bus time per poll (the timing model's typical figures).
        public var pollTime: Double
        /// The least bus time per poll on an RTU line (frames and silences); zero over TCP.
        public var wireTime: Double
    }

    /// What `check` and `run` say about a bus's load.
    public struct Finding: Sendable, Hashable {
        public enum Severity: Sendable, Hashable { case error, warning }
        public var severity: Severity
        public var message: String
    }

    public var bus: BusConfig
    public var entries: [Entry]

    /// The share of bus time the schedules need by the estimate (1.0 = the bus is busy all the time).
    public var utilisation: Double {
        entries.reduce(0) { $0 + $1.pollTime / seconds($1.interval) }
    }

    /// The share of an RTU line's time the frames and silences alone need; above 1.0 nothing can serve it.
    public var wireUtilisation: Double {
        entries.reduce(0) { $0 + $1.wireTime / seconds($1.interval) }
    }

    public init(bus: BusConfig, config: SiteConfig, model: BusTimingModel = BusTimingModel()) {
        self.bus = bus
        entries = config.assignments(on: bus).map { a in
            Entry(
                deviceID: a.device.id, group: a.group, plan: a.plan, interval: a.schedule.interval,
                pollTime: model.pollTime(a.plan, bus: bus), wireTime: BusTimingModel.wireTime(a.plan, bus: bus))
        }
    }

    /// An error only for what cannot work on any network: an RTU line whose wire time alone exceeds the schedules.
    /// A schedule that exceeds (or nearly exceeds) the estimate is a warning: the agent measures the real figures
    /// at run time (`sitegate status`, health).
    public var finding: Finding? {
        let percent = Int((utilisation * 100).rounded())
        let busiest = entries.max { $0.pollTime < $1.pollTime }
        let detail = busiest.map {
            "; e.g. device '\($0.deviceID)' needs about \(Int(($0.pollTime * 1000).rounded())) ms per poll every "
                + DurationNotation.format($0.interval)
        } ?? ""
        let wire = wireUtilisation
        if wire > 1 {
            let busiest = entries.max { $0.wireTime < $1.wireTime }
            let detail = busiest.map {
                "; e.g. device '\($0.deviceID)' needs at least \(Int(($0.wireTime * 1000).rounded())) ms of frames per "
                    + "poll every " + DurationNotation.format($0.interval)
            } ?? ""
            return Finding(
                severity: .error,
                message: "bus '\(bus.id)' cannot serve its schedules: its frames alone need \(Int((wire * 100).rounded()))% "
                    + "of the line's time at its baud rate\(detail); lengthen intervals, read fewer points or split the "
                    + "bus (see sitegate plan)")
        }
        guard utilisation > 0.8 else { return nil }
        let assumption: String
        switch bus.transport {
        case .tcp:
            assumption =
                "estimated with \(Int(BusTimingModel().tcpRoundTrip.milliseconds)) ms per TCP transaction"
                + (bus.rtuGateway ? " plus the maps' min_delay" : "")
        case .rtu:
            assumption = "estimated with a \(Int(BusTimingModel().turnaround.milliseconds)) ms device turnaround"
        }
        let verdict =
            utilisation > 1
            ? "may not keep up with its schedules: they need about \(percent)% of its time"
            : "is about \(percent)% busy with its schedules"
        return Finding(
            severity: .warning,
            message: "bus '\(bus.id)' \(verdict) (\(assumption))\(detail); "
                + "`sitegate status` shows the measured utilisation and missed ticks once it runs")
    }

    private func seconds(_ d: Duration) -> Double { Double(d.milliseconds) / 1000 }
}
