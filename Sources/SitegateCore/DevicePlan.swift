/// Everything needed to poll one point group of one device: the resolved points and their transactions.
public struct DevicePlan: Sendable, Hashable {
    public var deviceID: String
    public var unit: Int
    /// The idle time the device needs between requests: the site config's `min_delay`, else the map's.
    public var minDelay: Duration
    /// Whether `minDelay` was set on the device in the site config (it then applies on any bus).
    public var minDelayIsExplicit: Bool
    /// Points to publish, with per-device overrides applied.
    public var points: [PointDefinition]
    public var requests: [ReadRequest]

    /// Prefix of the hidden points that carry SunSpec scale factors; they are read but not published.
    public static let scaleFactorPrefix = "_sf_"

    public init(device: DeviceConfig, map: DeviceMap, pointIDs: [String], planner: RequestPlanner? = nil) {
        deviceID = device.id
        unit = device.unit
        minDelay = device.minDelay ?? map.defaults.minDelay
        minDelayIsExplicit = device.minDelay != nil
        var selected: [PointDefinition] = pointIDs.compactMap(map.point)
        if let order = device.wordOrder {
            for i in selected.indices where selected[i].length > 1 && selected[i].type != .string {
                selected[i].wordOrder = order
            }
        }
        points = selected
        var toRead = selected
        for sf in Set(selected.compactMap { p in p.scaleRegister.map { ($0, p.function) } }.map { "\($0.0)/\($0.1.rawValue)" }) {
            let parts = sf.split(separator: "/")
            let address = Int(parts[0])!
            let function = RegisterFunction(rawValue: String(parts[1]))!
            if !toRead.contains(where: { $0.address == address && $0.function == function && $0.length == 1 }) {
                toRead.append(
                    PointDefinition(
                        id: "\(Self.scaleFactorPrefix)\(address)", address: address, function: function, type: .i16,
                        unit: nil, kind: .state))
            }
        }
        requests = (planner ?? RequestPlanner(defaults: map.defaults)).plan(toRead)
    }

    /// This plan for another device of the same model, point selection and word order: the points and requests
    /// (the bulk of a plan) are shared, not copied, until one of the two changes them.
    public func reassigned(to device: DeviceConfig, map: DeviceMap) -> DevicePlan {
        var plan = self
        plan.deviceID = device.id
        plan.unit = device.unit
        plan.minDelay = device.minDelay ?? map.defaults.minDelay
        plan.minDelayIsExplicit = device.minDelay != nil
        return plan
    }

    /// The idle gap this device asks for on `bus`. A map's `min_delay` describes RS-485 timing, so it applies on
    /// RTU lines and behind TCP-to-RTU gateways, not to a native TCP meter; a device's own `min_delay` always does.
    public func minDelay(on bus: BusConfig) -> Duration {
        minDelayIsExplicit || bus.hasSerialTiming ? minDelay : .zero
    }
}
