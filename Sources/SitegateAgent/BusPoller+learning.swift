import Logging
import SitegateCore
import SitegateModbus

// Learning the registers a device refuses, and planning its reads around them.
extension BusPoller {
    /// A device refused registers inside merged reads: remember where, and plan its groups around them.
    func learn(
        from outcome: ReadOutcome, device deviceID: String, tasks: inout [Task],
        knowledge: inout [String: DeviceKnowledge]
    ) {
        var k = knowledge[deviceID, default: DeviceKnowledge()]
        for (function, ranges) in outcome.learnedHoles { k.holes[function, default: []] += ranges }
        k.unsupported.formUnion(outcome.unsupportedPoints)
        knowledge[deviceID] = k
        for i in tasks.indices where tasks[i].plan.deviceID == deviceID {
            let a = tasks[i].assignment
            let planner = RequestPlanner(defaults: a.map.defaults, holes: k.holes)
            tasks[i].plan = DevicePlan(
                device: a.device, map: a.map, pointIDs: a.pointIDs.filter { !k.unsupported.contains($0) },
                planner: planner)
        }
        let holes = outcome.learnedHoles.flatMap { function, ranges in
            ranges.map { "\(function.rawValue) \(Hex.addressRange($0))" }
        }
        logger.warning(
            "device refuses some registers (illegal data address): reads are planned around them from now on",
            metadata: [
                "device.id": "\(deviceID)", "modbus.holes": "\(holes.joined(separator: ", "))",
                "modbus.unsupported_points": "\(outcome.unsupportedPoints.joined(separator: ", "))",
            ])
    }
}
