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
        self.init(
            device: device, map: map, pointIDs: pointIDs, plan: DevicePlan(device: device, map: map, pointIDs: pointIDs),
            schedule: schedule, group: group)
    }

    /// With a plan made for this device already (`DevicePlan.reassigned(to:map:)` of another device's).
    init(
        device: DeviceConfig, map: DeviceMap, pointIDs: [String], plan: DevicePlan, schedule: WallClockSchedule,
        group: String
    ) {
        self.device = device
        self.map = map
        self.pointIDs = pointIDs
        self.group = group
        self.schedule = schedule
        self.plan = plan
    }
}

extension SiteConfig {
    /// Each device's point groups on `bus` that have numeric points, in config order, with their plans.
    ///
    /// Devices of one model reading the same points share one plan's arrays (copy on write): a park of 2,000
    /// meters of a few models holds a few plans, not 2,000 copies of their point definitions (about 12 KiB each
    /// for 30 points; docs/performance.md, "Park scale").
    public func assignments(on bus: BusConfig) -> [PollAssignment] {
        var out: [PollAssignment] = []
        var plans: [SharedPlanKey: (pointIDs: [String], plan: DevicePlan)] = [:]
        for device in devices where device.busID == bus.id {
            guard let map = maps[device.model] else { continue }
            for group in device.groups {
                let key = SharedPlanKey(model: device.model, pointIDs: group.pointIDs, wordOrder: device.wordOrder)
                let numeric: [String]
                let plan: DevicePlan
                if let shared = plans[key] {
                    (numeric, plan) = (shared.pointIDs, shared.plan.reassigned(to: device, map: map))
                } else {
                    numeric = group.pointIDs.filter { map.point($0)?.type.isNumeric ?? false }
                    guard !numeric.isEmpty else { continue }
                    plan = DevicePlan(device: device, map: map, pointIDs: numeric)
                    plans[key] = (numeric, plan)
                }
                out.append(
                    PollAssignment(
                        device: device, map: map, pointIDs: numeric, plan: plan,
                        schedule: WallClockSchedule(interval: group.interval, offset: group.offset), group: group.name))
            }
        }
        return out
    }
}

/// What a device plan's points and requests depend on besides the map (`DevicePlan.init`).
private struct SharedPlanKey: Hashable {
    var model: String
    var pointIDs: [String]
    var wordOrder: WordOrder?
}
