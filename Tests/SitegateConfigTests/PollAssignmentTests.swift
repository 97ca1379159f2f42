import SitegateConfig
import SitegateCore
import Testing

/// Each bus's point groups and their request plans, computed once from the config for the poller, the watchdog's
/// allowance and `sitegate plan`.
@Suite struct PollAssignmentTests {
    @Test func eachBusGetsItsOwnDevicesWithTheirPlans() throws {
        let config = try SiteConfigValidationTests.loadText(SiteConfigValidationTests.valid).get().config
        let lan = try #require(config.buses.first { $0.id == "plant-lan" })
        let serial = try #require(config.buses.first { $0.id == "rs485-a" })
        #expect(config.assignments(on: serial).isEmpty, "no device on that bus")
        let assignments = config.assignments(on: lan)
        #expect(assignments.map(\.device.id) == ["main-incomer"])
        let a = try #require(assignments.first)
        #expect(a.schedule == WallClockSchedule(interval: .seconds(10)))
        #expect(a.pointIDs.count == 15)
        #expect(a.plan == DevicePlan(device: a.device, map: a.map, pointIDs: a.pointIDs))
        #expect(!a.plan.requests.isEmpty)
        // `sitegate plan` sees the same plans the poller runs.
        #expect(BusLoad(bus: lan, config: config).entries.map(\.plan) == [a.plan])
    }

    /// Devices of one model and point selection share one plan's arrays; each still gets its own id, unit and
    /// min_delay, and a different word order or point subset gets a plan of its own: every plan equals the one
    /// made for its device alone.
    @Test func devicesOfOneModelShareTheirPlanAndKeepTheirOwnFigures() throws {
        let devices = """
              - { id: a1, bus: rs485-a, unit: 1, model: eastron-sdm630, interval: 10s }
              - { id: a2, bus: rs485-a, unit: 2, model: eastron-sdm630, interval: 10s, min_delay: 50ms }
              - { id: a3, bus: rs485-a, unit: 3, model: eastron-sdm630, interval: 10s, word_order: CDAB }
              - { id: a4, bus: rs485-a, unit: 4, model: eastron-sdm630, interval: 30s }
              - { id: a5, bus: rs485-a, unit: 5, model: eastron-sdm630, interval: 10s, points: [voltage_l1] }

            """
        let text = SiteConfigValidationTests.valid + devices
        let config = try SiteConfigValidationTests.loadText(text).get().config
        let serial = try #require(config.buses.first { $0.id == "rs485-a" })
        let assignments = config.assignments(on: serial)
        #expect(assignments.map(\.device.id) == ["a1", "a2", "a3", "a4", "a5"])
        for a in assignments {
            #expect(a.plan == DevicePlan(device: a.device, map: a.map, pointIDs: a.pointIDs), "\(a.device.id)")
            #expect(a.plan.deviceID == a.device.id && a.plan.unit == a.device.unit)
        }
        #expect(assignments[1].plan.minDelay == .milliseconds(50) && assignments[1].plan.minDelayIsExplicit)
        #expect(!assignments[0].plan.minDelayIsExplicit)
        #expect(assignments[2].plan.points != assignments[0].plan.points, "CDAB gets its own points")
        #expect(assignments[4].pointIDs == ["voltage_l1"])
        // a1, a2 and a4 read the same points: one copy of them.
        func storage(_ a: PollAssignment) -> UnsafeRawPointer? {
            a.plan.points.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        }
        #expect(storage(assignments[0]) == storage(assignments[1]) && storage(assignments[0]) == storage(assignments[3]))
        #expect(storage(assignments[0]) != storage(assignments[2]))
    }
}
