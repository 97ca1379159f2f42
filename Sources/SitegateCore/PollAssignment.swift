/// One point group of one device on its bus: what to read, on which schedule, and its request plan, computed once
/// per config (the poller plans again only when a device refuses registers).
public struct PollAssignment: Sendable, Hashable {
    public var device: DeviceConfig
    public var map: DeviceMap
    /// The group's numeric points (text and bit-field points describe the meter; data messages carry numbers only).
    public var pointIDs: [String]
    public var group: String
    public var schedule: WallClockSchedule
    public var plan: DevicePlan

    public init(device: DeviceConfig, map: DeviceMap, pointIDs: [String], schedule: WallClockSchedule, group: String = "") {
        self.device = device
        self.map = map
        self.pointIDs = pointIDs
        self.group = group
        self.schedule = schedule
        self.plan = DevicePlan(device: device, map: map, pointIDs: pointIDs)
    }
}

extension SiteConfig {
    /// Each device's point groups on `bus` that have numeric points, in config order, with their plans.
    public func assignments(on bus: BusConfig) -> [PollAssignment] {
        var out: [PollAssignment] = []
        for device in devices where device.busID == bus.id {
            guard let map = maps[device.model] else { continue }
            for group in device.groups {
                let numeric = group.pointIDs.filter { map.point($0)?.type.isNumeric ?? false }
                guard !numeric.isEmpty else { continue }
                out.append(
                    PollAssignment(
                        device: device, map: map, pointIDs: numeric,
                        schedule: WallClockSchedule(interval: group.interval, offset: group.offset), group: group.name))
            }
        }
        return out
    }
}
