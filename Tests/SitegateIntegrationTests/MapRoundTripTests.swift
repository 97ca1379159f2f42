import Logging
import SitegateConfig
import SitegateCore
import SitegateModbus
import SitegateSimulator
import SitegateTestSupport
import Testing

/// Every shipped map, served by the libmodbus simulator and read back through the agent's Modbus path (planner,
/// bus thread, libmodbus client, decoder): what comes back is what was served.
@Suite(.timeLimit(.minutes(2))) struct MapRoundTripTests {
    static let library = MapLibrary(searchPaths: [TestEnvironment.shippedMaps])

    @Test(arguments: library.availableModels())
    func everyPointReadsBackAsServed(model: String) async throws {
        guard case .found(let map, _) = Self.library.load(model) else {
            Issue.record("\(model) does not load")
            return
        }
        let unit = 5
        let simulator = try ModbusSimulator(
            port: 0, devices: [.init(unit: unit, map: map)], frozen: true, logger: Logger(label: "test"))
        defer { simulator.stop() }
        let bus = ModbusBus(
            config: BusConfig(id: "sim", transport: .tcp(host: "127.0.0.1", port: simulator.port), responseTimeout: .seconds(2)))
        defer { bus.shutdown() }
        // All register points, the unverified ones included: the simulator serves them all.
        let ids = map.points.filter { $0.function == .holding || $0.function == .input }.map(\.id)
        let device = DeviceConfig(
            id: "d", busID: "sim", unit: unit, model: map.id,
            groups: [PollGroup(name: "all", interval: .seconds(1), pointIDs: ids)], minDelay: .zero)
        let plan = DevicePlan(device: device, map: map, pointIDs: ids)
        let outcome = try await bus.withConnection { DeviceReader.read(plan, on: $0) }
        #expect(outcome.errors.isEmpty, "\(outcome.errors)")
        let readings = try #require(outcome.poll).readings
        #expect(readings.count == ids.count)
        for reading in readings {
            let point = try #require(map.point(reading.pointID))
            switch reading.value {
            case .number(let v):
                let words = RegisterEncoder.encode(SimulatedValues.value(for: point, unit: unit, elapsed: 0), as: point)
                #expect(RegisterDecoder.decode(words, as: point) == .number(v), "\(model).\(point.id)")
            case .text(let s):
                #expect(s == "SIM\(unit)-\(point.id)".prefix(point.length * 2).description, "\(model).\(point.id)")
            case .invalid(let raw):
                // A served value can only be invalid when it equals a sentinel of the map.
                #expect(!point.invalid.isEmpty, "\(model).\(point.id) read invalid: \(raw)")
            }
        }
        #expect(outcome.transactions == plan.requests.count)
    }
}
