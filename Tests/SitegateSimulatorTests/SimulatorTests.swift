import Logging
import SitegateCore
import SitegateModbus
import SitegateSimulator
import SitegateTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The simulator as a client sees it through SitegateModbus's libmodbus connection: the registers of its maps as
/// RegisterEncoder writes them, and each fault option as `SimulatorFaults` documents it. Reads a few registers
/// each; the timeouts are short, so the suite runs in a second or two.
@Suite(.timeLimit(.minutes(1))) struct SimulatorTests {
    static let map = DeviceMap(
        id: "sim-test", manufacturer: "Test", models: ["S1"], medium: .electricity, version: 1, sources: [],
        defaults: ProtocolDefaults(),
        points: [
            PointDefinition(id: "voltage_l1", address: 0x00, function: .input, type: .f32, unit: "V", kind: .gauge),
            PointDefinition(id: "power", address: 0x34, function: .input, type: .f32, unit: "W", kind: .gauge),
            PointDefinition(id: "energy_import", address: 0x48, function: .input, type: .u32, scale: 0.01, unit: "kWh", kind: .counter),
            PointDefinition(id: "energy_total", address: 0x10, function: .holding, type: .f64, unit: "Wh", kind: .counter),
            PointDefinition(id: "serial", address: 0x20, function: .holding, type: .string, length: 4, unit: nil, kind: .state),
        ])

    /// A frozen simulator of `units` on a free port and a bus to it; both stopped after `body`.
    static func with<T>(
        units: [Int] = [1], faults: SimulatorFaults = SimulatorFaults(), responseTimeout: Duration = .milliseconds(300),
        _ body: (ModbusSimulator, ModbusBus) async throws -> T
    ) async throws -> T {
        let simulator = try ModbusSimulator(
            endpoint: .tcp(host: "127.0.0.1", port: 0), devices: units.map { .init(unit: $0, map: map) }, faults: faults,
            frozen: true, logger: Logger(label: "simulator-test"))
        defer { simulator.stop() }
        let bus = ModbusBus(
            config: BusConfig(
                id: "sim", transport: .tcp(host: "127.0.0.1", port: simulator.port), responseTimeout: responseTimeout,
                byteTimeout: responseTimeout))
        defer { bus.shutdown() }
        return try await body(simulator, bus)
    }

    /// One read's registers, or its error.
    static func read(_ bus: ModbusBus, unit: Int, _ function: RegisterFunction, _ address: Int, _ count: Int) async throws
        -> Result<[UInt16], ModbusError>
    {
        try await bus.withConnection { t in
            Result { () throws(ModbusError) in
                try t.read(unit: unit, function: function, address: address, count: count).registers
            }
        }
    }

    @Test func servesEachPointAsRegisterEncoderEncodesIt() async throws {
        try await Self.with(units: [1, 7]) { simulator, bus in
            for unit in [1, 7] {
                for point in Self.map.points {
                    let expected =
                        point.type == .string
                        ? RegisterEncoder.encodeString("SIM\(unit)-\(point.id)", length: point.length)
                        : RegisterEncoder.encode(SimulatedValues.value(for: point, unit: unit, elapsed: 0), as: point)
                    let got = try await Self.read(bus, unit: unit, point.function, point.address, point.length)
                    #expect(got == .success(expected), "unit \(unit) \(point.id)")
                }
            }
            #expect(simulator.requestsServed == 2 * Self.map.points.count)
        }
    }

    @Test func frozenValuesDoNotChange() async throws {
        try await Self.with { _, bus in
            let first = try await Self.read(bus, unit: 1, .input, 0x48, 2)
            try await Task.sleep(for: .milliseconds(50))
            let second = try await Self.read(bus, unit: 1, .input, 0x48, 2)
            #expect(first == second)
            #expect((try? first.get()) != nil)
        }
    }

    @Test func unknownUnitBehindTCPGetsTheGatewayException() async throws {
        try await Self.with { _, bus in
            let answer1 = try await Self.read(bus, unit: 9, .input, 0, 2)
            #expect(answer1 == .failure(.exception(.gatewayTargetFailedToRespond)))
        }
    }

    @Test func registersOutsideTheMapAreRefused() async throws {
        try await Self.with { _, bus in
            let answer2 = try await Self.read(bus, unit: 1, .input, 0x1000, 2)
            #expect(answer2 == .failure(.exception(.illegalDataAddress)))
        }
    }

    @Test func silentUnitTimesOutAndTheOthersAnswer() async throws {
        var faults = SimulatorFaults()
        faults.silentUnits = [2]
        try await Self.with(units: [1, 2], faults: faults) { simulator, bus in
            let answer3 = try await Self.read(bus, unit: 2, .input, 0, 2)
            #expect(answer3 == .failure(.timeout))
            let answer = try await Self.read(bus, unit: 1, .input, 0, 2)
            #expect((try? answer.get())?.count == 2, "\(answer)")
            #expect(simulator.requestsServed == 1, "silence is not counted as served")
        }
    }

    @Test func exceptionRuleRefusesReadsThatTouchItsRange() async throws {
        var faults = SimulatorFaults()
        faults.exceptions = [SimulatorFaults.ExceptionRule(addresses: 0x40...0x41, code: 2)]
        try await Self.with(faults: faults) { _, bus in
            // A merged read through the range, one ending on it, and reads beside it.
            let answer4 = try await Self.read(bus, unit: 1, .input, 0x34, 0x16)
            #expect(answer4 == .failure(.exception(.illegalDataAddress)))
            let answer5 = try await Self.read(bus, unit: 1, .input, 0x3F, 2)
            #expect(answer5 == .failure(.exception(.illegalDataAddress)))
            let answer6 = try await Self.read(bus, unit: 1, .input, 0x34, 2)
            #expect((try? answer6.get()) != nil, "\(answer6)")
            let answer7 = try await Self.read(bus, unit: 1, .input, 0x42, 2)
            #expect((try? answer7.get()) != nil, "\(answer7)")
        }
    }

    @Test func everyNthRequestIsDropped() async throws {
        var faults = SimulatorFaults()
        faults.dropEvery = 3
        try await Self.with(faults: faults) { _, bus in
            var timedOut: [Int] = []
            for n in 1...6 {
                if try await Self.read(bus, unit: 1, .input, 0, 2) == .failure(.timeout) { timedOut.append(n) }
            }
            #expect(timedOut == [3, 6])
        }
    }

    @Test func everyNthRequestGetsGarbage() async throws {
        var faults = SimulatorFaults()
        faults.garbageEvery = 2
        try await Self.with(faults: faults) { _, bus in
            var failed: [Int: String] = [:]
            for n in 1...4 {
                if case .failure(let error) = try await Self.read(bus, unit: 1, .input, 0, 2) { failed[n] = error.kind }
            }
            // Five random bytes: too short for an MBAP header (a timeout) or a header that does not match.
            #expect(Set(failed.keys) == [2, 4], "\(failed)")
            #expect(failed.values.allSatisfy { $0 != "exception" }, "\(failed)")
        }
    }

    @Test func responseDelayLongerThanTheTimeoutIsATimeout() async throws {
        var faults = SimulatorFaults()
        faults.responseDelay = .milliseconds(400)
        try await Self.with(faults: faults, responseTimeout: .milliseconds(100)) { _, bus in
            let answer8 = try await Self.read(bus, unit: 1, .input, 0, 2)
            #expect(answer8 == .failure(.timeout))
        }
    }

    /// Over a serial line (a socat pty pair): the simulator answers its own unit ids and, as a meter on RS-485
    /// does, stays silent for the others, and the line still works after the silence.
    @Test func rtuAnswersItsUnitsAndIgnoresOthers() async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory("simulator-rtu")
        let (a, b) = ("\(directory)/ttyA", "\(directory)/ttyB")
        let socat = try ChildProcess(
            ["socat", "pty,raw,echo=0,link=\(a)", "pty,raw,echo=0,link=\(b)"], directory: directory, name: "socat")
        do {
            let deadline = ContinuousClock.now + .seconds(10)
            while access(a, F_OK) != 0 || access(b, F_OK) != 0 {
                guard ContinuousClock.now < deadline else { throw TestSupportError("socat made no ptys: \(socat.standardError)") }
                try await Task.sleep(for: .milliseconds(20))
            }
            let simulator = try ModbusSimulator(
                endpoint: .rtu(device: a, baud: 38400, parity: .even, dataBits: 8, stopBits: 1),
                devices: [.init(unit: 3, map: Self.map)], frozen: true, logger: Logger(label: "simulator-test"))
            defer { simulator.stop() }
            let bus = ModbusBus(
                config: BusConfig(
                    id: "line", transport: .rtu(device: b, baud: 38400, parity: .even, dataBits: 8, stopBits: 1),
                    responseTimeout: .milliseconds(300), byteTimeout: .milliseconds(100)))
            defer { bus.shutdown() }
            let point = try #require(Self.map.point("energy_import"))
            let expected = RegisterEncoder.encode(SimulatedValues.value(for: point, unit: 3, elapsed: 0), as: point)
            let first = try await Self.read(bus, unit: 3, .input, point.address, 2)
            #expect(first == .success(expected))
            let other = try await Self.read(bus, unit: 4, .input, point.address, 2)
            #expect(other == .failure(.timeout))
            let again = try await Self.read(bus, unit: 3, .input, point.address, 2)
            #expect(again == .success(expected))
            #expect(simulator.requestsServed == 2)
        } catch {
            await socat.terminate()
            throw error
        }
        await socat.terminate()
    }

    struct RuleCase: Sendable, CustomTestStringConvertible {
        var text: String
        var expected: SimulatorFaults.ExceptionRule?
        var testDescription: String { text }
    }

    @Test(arguments: [
        RuleCase(text: "0x0040-0x0045:2", expected: .init(addresses: 0x40...0x45, code: 2)),
        RuleCase(text: "100:2", expected: .init(addresses: 100...100, code: 2)),
        RuleCase(text: "100-100:11", expected: .init(addresses: 100...100, code: 11)),
        RuleCase(text: "100", expected: nil),
        RuleCase(text: "100:12", expected: nil),
        RuleCase(text: "100:0", expected: nil),
        RuleCase(text: "0x10-0x05:2", expected: nil),
        RuleCase(text: "70000:2", expected: nil),
        RuleCase(text: "a:2", expected: nil),
    ])
    func exceptionRuleParsing(_ c: RuleCase) {
        #expect(SimulatorFaults.ExceptionRule(c.text) == c.expected)
    }

    @Test func faultPrecedence() {
        var faults = SimulatorFaults()
        faults.silentUnits = [3]
        faults.dropEvery = 2
        faults.garbageEvery = 3
        faults.exceptions = [.init(addresses: 10...11, code: 4)]
        #expect(faults.action(count: 1, unit: 3, addresses: 0..<2) == .silence)
        #expect(faults.action(count: 6, unit: 1, addresses: 10..<12) == .silence, "a drop wins over garbage and rules")
        #expect(faults.action(count: 3, unit: 1, addresses: 10..<12) == .garbage)
        #expect(faults.action(count: 1, unit: 1, addresses: 11..<13) == .exception(4))
        #expect(faults.action(count: 1, unit: 1, addresses: 12..<14) == .answer)
        #expect(faults.action(count: 1, unit: 1, addresses: nil) == .answer)
    }
}
