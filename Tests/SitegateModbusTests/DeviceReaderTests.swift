import SitegateCore
import SitegateModbus
import SitegateTestSupport
import Testing

/// DeviceReader against an in-memory device: the planned reads, the split of a refused merged read and what it
/// learns, and how failures are reported. No bus, no thread, no clock of the machine's: each runs in microseconds.
@Suite struct DeviceReaderTests {
    // Registers 0..<15 read as one merged request (the gap 6..<10 is read through: maxHole 16).
    static let points = [
        PointDefinition(id: "voltage", address: 0, function: .holding, type: .f32, unit: "V", kind: .gauge),
        PointDefinition(id: "current", address: 2, function: .holding, type: .f32, unit: "A", kind: .gauge),
        PointDefinition(id: "power", address: 4, function: .holding, type: .f32, unit: "W", kind: .gauge),
        PointDefinition(id: "frequency", address: 10, function: .holding, type: .f32, unit: "Hz", kind: .gauge),
        PointDefinition(id: "energy", address: 12, function: .holding, type: .u32, scale: 0.1, unit: "kWh", kind: .counter),
        PointDefinition(id: "status", address: 14, function: .holding, type: .u16, unit: nil, kind: .state),
    ]
    static let values: [String: Double] = [
        "voltage": 230.5, "current": 4.25, "power": 980, "frequency": 50, "energy": 12345.6, "status": 3,
    ]
    static let map = DeviceMap(
        id: "test-meter", manufacturer: "Test", models: ["T1"], medium: .electricity, version: 1, sources: [],
        defaults: ProtocolDefaults(function: .holding, maxRegisters: 125, evenPairs: false, minDelay: .milliseconds(30)),
        points: points)

    static func plan(unit: Int = 1, holes: [RegisterFunction: [Range<Int>]] = [:], minDelay: Duration? = nil)
        -> DevicePlan
    {
        let ids = points.map(\.id)
        let device = DeviceConfig(
            id: "meter", busID: "memory", unit: unit, model: map.id,
            groups: [PollGroup(name: "all", interval: .seconds(10), pointIDs: ids)], minDelay: minDelay)
        return DevicePlan(device: device, map: map, pointIDs: ids, planner: RequestPlanner(defaults: map.defaults, holes: holes))
    }

    /// A device holding every point's value; the gap registers 6..<10 only when `servesGap`.
    static func device(servesGap: Bool, bus: BusConfig? = nil) -> InMemoryModbusDevice {
        let device = bus.map { InMemoryModbusDevice(unit: 1, bus: $0) } ?? InMemoryModbusDevice(unit: 1)
        for point in points { device.serve(values[point.id]!, as: point) }
        if servesGap { device.store([0, 0, 0, 0], function: .holding, at: 6) }
        return device
    }

    /// The device and plan above plus a second read: an input register (temperature 21) after the holding ones.
    static func twoReads() -> (InMemoryModbusDevice, DevicePlan) {
        let device = device(servesGap: true)
        let input = PointDefinition(id: "temperature", address: 100, function: .input, type: .i16, unit: "Cel", kind: .gauge)
        device.serve(21, as: input)
        var plan = plan()
        plan.points.append(input)
        plan.requests.append(ReadRequest(function: .input, address: 100, count: 1, points: [input]))
        return (device, plan)
    }

    static func numbers(_ outcome: ReadOutcome) -> [String: Double] {
        var result: [String: Double] = [:]
        for reading in outcome.poll?.readings ?? [] {
            if case .number(let v) = reading.value { result[reading.pointID] = v }
        }
        return result
    }

    static func expectValues(_ outcome: ReadOutcome, of ids: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let got = numbers(outcome)
        #expect(Set(got.keys) == Set(ids), sourceLocation: sourceLocation)
        for id in ids {
            #expect(abs((got[id] ?? .nan) - values[id]!) < 0.01, "\(id)", sourceLocation: sourceLocation)
        }
    }

    @Test func oneMergedReadDeliversEveryPoint() {
        let device = Self.device(servesGap: true)
        let plan = Self.plan()
        #expect(plan.requests.count == 1)
        let outcome = DeviceReader.read(plan, on: device)
        #expect(outcome.errors.isEmpty)
        #expect(outcome.transactions == 1)
        #expect(device.requests.map(\.addresses) == [0..<15])
        #expect(outcome.learnedHoles.isEmpty && outcome.unsupportedPoints.isEmpty)
        Self.expectValues(outcome, of: Self.points.map(\.id))
        #expect(outcome.poll?.takenAt == UnixTime(seconds: 1_800_000_000))
        #expect(outcome.poll?.deviceID == "meter")
    }

    @Test func refusedMergedReadIsSplitAndTheHoleLearnt() throws {
        let device = Self.device(servesGap: false)
        let outcome = DeviceReader.read(Self.plan(), on: device)
        // The merged read is refused; its halves (0..<6 and 10..<15) are answered.
        #expect(device.requests.map(\.addresses) == [0..<15, 0..<6, 10..<15])
        #expect(outcome.transactions == device.requests.count)
        #expect(outcome.errors.isEmpty, "a hole between points is no error: \(outcome.errors)")
        #expect(outcome.unsupportedPoints.isEmpty)
        #expect(outcome.learnedHoles == [.holding: [6..<10]])
        Self.expectValues(outcome, of: Self.points.map(\.id))
        // Each reading's offset is its request's send time after the first answered one.
        let offsets = Dictionary(uniqueKeysWithValues: try #require(outcome.poll).readings.map { ($0.pointID, $0.offset) })
        #expect(offsets["voltage"] == .zero && offsets["frequency"] == .milliseconds(20))

        // The next plan reads around the hole: nothing refused, two reads.
        let replanned = Self.plan(holes: outcome.learnedHoles)
        let before = device.requests.count
        let again = DeviceReader.read(replanned, on: device)
        #expect(device.requests.dropFirst(before).map(\.addresses) == [0..<6, 10..<15])
        #expect(again.errors.isEmpty && again.learnedHoles.isEmpty)
        Self.expectValues(again, of: Self.points.map(\.id))
    }

    @Test func pointRefusedAloneIsUnsupportedAndTheOthersArrive() {
        let device = Self.device(servesGap: true)
        device.registers[.holding]![14] = nil  // the status register does not exist on this device
        let outcome = DeviceReader.read(Self.plan(), on: device)
        #expect(outcome.unsupportedPoints == ["status"])
        #expect(outcome.errors == [.exception(.illegalDataAddress)])
        #expect(outcome.learnedHoles[.holding]?.contains(14..<15) == true)
        #expect(outcome.transactions == device.requests.count)
        #expect(device.requests.last?.addresses == 14..<15, "bisected down to the one register")
        Self.expectValues(outcome, of: ["voltage", "current", "power", "frequency", "energy"])
    }

    @Test func timeoutOnTheFirstReadGivesUpOnTheDeviceForThisPoll() {
        let (device, plan) = Self.twoReads()
        device.fail(request: 1, with: .timeout)
        let outcome = DeviceReader.read(plan, on: device)
        #expect(outcome.errors == [.timeout])
        #expect(outcome.transactions == 1, "a silent device costs one timeout per poll, not one per request")
        #expect(outcome.poll == nil)
    }

    @Test func silentUnitTimesOut() {
        let device = Self.device(servesGap: true)
        let outcome = DeviceReader.read(Self.plan(unit: 2), on: device)
        #expect(outcome.errors == [.timeout])
        #expect(outcome.poll == nil)
        #expect(outcome.learnedHoles.isEmpty, "a timeout teaches nothing about the register map")
    }

    @Test(arguments: [ModbusError.exception(.serverDeviceBusy), .exception(.illegalDataValue)])
    func otherExceptionsCostTheirRequestOnly(_ error: ModbusError) {
        let (device, plan) = Self.twoReads()
        device.fail(request: 1, with: error)
        let outcome = DeviceReader.read(plan, on: device)
        #expect(outcome.errors == [error])
        #expect(outcome.transactions == 2, "the device answers, so the next request is still sent")
        #expect(Self.numbers(outcome) == ["temperature": 21])
        #expect(outcome.learnedHoles.isEmpty, "only illegal data address means a hole")
    }

    @Test(arguments: [ModbusError.timeout, .badCRC, .badResponse("short answer")])
    func failureInsideASplitCostsOnlyItsHalf(_ error: ModbusError) {
        let device = Self.device(servesGap: false)
        device.fail(request: 3, with: error)  // the second half of the split: frequency, energy, status
        let outcome = DeviceReader.read(Self.plan(), on: device)
        #expect(outcome.errors == [error])
        #expect(outcome.transactions == 3)
        Self.expectValues(outcome, of: ["voltage", "current", "power"])
        #expect(outcome.unsupportedPoints.isEmpty, "a point that failed otherwise is not taken for unsupported")
    }

    /// A transient failure during a split says nothing about which registers exist: only the refused gap is learnt,
    /// and the points of the failed half (frequency, energy, status) stay in merged reads.
    @Test(arguments: [ModbusError.timeout, .badCRC])
    func failureInsideASplitIsNotLearntAsAHole(_ error: ModbusError) {
        let device = Self.device(servesGap: false)
        device.fail(request: 3, with: error)
        let outcome = DeviceReader.read(Self.plan(), on: device)
        #expect(outcome.learnedHoles == [.holding: [6..<10]])
        #expect(outcome.errors.contains { $0.kind == error.kind })
    }

    @Test func nanRegistersAreAnInvalidReadingNotADroppedOne() throws {
        let device = Self.device(servesGap: true)
        device.store([0x7FC0, 0x0000], function: .holding, at: 4)  // power: a float NaN
        let outcome = DeviceReader.read(Self.plan(), on: device, keepRaw: true)
        let power = try #require(outcome.poll?.readings.first { $0.pointID == "power" })
        #expect(power.value == .invalid(raw: "7fc00000"))
        #expect(outcome.raw["power"] == [0x7FC0, 0x0000])
        #expect(outcome.raw.count == Self.points.count)
    }

    @Test func mapMinDelayAppliesOnSerialTimingOnly() {
        let tcp = Self.device(servesGap: true)
        _ = DeviceReader.read(Self.plan(), on: tcp)
        #expect(tcp.requests.map(\.minDelay) == [.zero], "a native TCP meter answers at network speed")

        let rtu = Self.device(
            servesGap: true,
            bus: BusConfig(id: "line", transport: .rtu(device: "/dev/null", baud: 9600, parity: .even, dataBits: 8, stopBits: 1)))
        _ = DeviceReader.read(Self.plan(), on: rtu)
        #expect(rtu.requests.map(\.minDelay) == [.milliseconds(30)])

        let explicit = Self.device(servesGap: true)
        _ = DeviceReader.read(Self.plan(minDelay: .milliseconds(5)), on: explicit)
        #expect(explicit.requests.map(\.minDelay) == [.milliseconds(5)], "the site config's min_delay applies on any bus")
    }
}

/// SunSpec-style scale factors (`scale_register`): the power of ten is read with the point and applied, whether
/// the scale register is a point of the map's selection or only read for the others.
@Suite struct ScaleFactorReadingTests {
    static let power = PointDefinition(
        id: "power", address: 40, function: .holding, type: .i16, scaleRegister: 41, unit: "W", kind: .gauge)
    static let powerSF = PointDefinition(id: "power_sf", address: 41, function: .holding, type: .i16, unit: nil, kind: .state)

    static func outcome(selecting points: [PointDefinition]) -> ReadOutcome {
        let map = DeviceMap(
            id: "sunspec-like", manufacturer: "Test", models: ["S1"], medium: .electricity, version: 1, sources: [],
            defaults: ProtocolDefaults(function: .holding, maxRegisters: 125, evenPairs: false, minDelay: .zero),
            points: [power, powerSF])
        let ids = points.map(\.id)
        let device = DeviceConfig(
            id: "inverter", busID: "memory", unit: 1, model: map.id,
            groups: [PollGroup(name: "all", interval: .seconds(10), pointIDs: ids)])
        let memory = InMemoryModbusDevice(unit: 1)
        memory.store([1234, UInt16(bitPattern: -1)], function: .holding, at: 40)  // 1234 x 10^-1
        return DeviceReader.read(DevicePlan(device: device, map: map, pointIDs: ids), on: memory)
    }

    static func published(_ outcome: ReadOutcome) -> [String: Double] {
        var result: [String: Double] = [:]
        for reading in outcome.poll?.readings ?? [] {
            if case .number(let v) = reading.value { result[reading.pointID] = v }
        }
        return result
    }

    @Test func aScaleRegisterReadOnlyForThePointIsAppliedAndNotPublished() {
        #expect(Self.published(Self.outcome(selecting: [Self.power])) == ["power": 123.4])
    }

    @Test func aScaleRegisterThatIsAlsoASelectedPointIsAppliedToo() {
        #expect(Self.published(Self.outcome(selecting: [Self.power, Self.powerSF])) == ["power": 123.4, "power_sf": -1])
    }
}
