/// How much of a bus's time its devices' schedules need: the sum over point groups of poll time / interval.
public struct BusLoad: Sendable {
    public struct Entry: Sendable {
        public var deviceID: String
        public var group: String
        public var plan: DevicePlan
        public var interval: Duration
        public var pollTime: Double
    }

    public var bus: BusConfig
    public var entries: [Entry]

    /// The share of bus time the schedules need (1.0 = the bus is busy all the time).
    public var utilisation: Double {
        entries.reduce(0) { $0 + $1.pollTime / (Double($1.interval.milliseconds) / 1000) }
    }

    public init(bus: BusConfig, config: SiteConfig, model: BusTimingModel = BusTimingModel()) {
        self.bus = bus
        entries = config.assignments(on: bus).map { a in
            Entry(
                deviceID: a.device.id, group: a.group, plan: a.plan, interval: a.schedule.interval,
                pollTime: model.pollTime(a.plan, bus: bus))
        }
    }
}
