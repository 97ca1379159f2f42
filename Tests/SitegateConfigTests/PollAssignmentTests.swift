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
}
