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
        var entries: [Entry] = []
        for device in config.devices where device.busID == bus.id {
            guard let map = config.maps[device.model] else { continue }
            for group in device.groups {
                let numeric = group.pointIDs.filter { map.point($0)?.type.isNumeric ?? false }
                guard !numeric.isEmpty else { continue }
                let plan = DevicePlan(device: device, map: map, pointIDs: numeric)
                entries.append(
                    Entry(
                        deviceID: device.id, group: group.name, plan: plan, interval: group.interval,
                        pollTime: model.pollTime(plan, bus: bus)))
            }
        }
        self.entries = entries
    }
}
