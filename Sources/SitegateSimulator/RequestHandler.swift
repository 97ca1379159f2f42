import CModbus
import SitegateCore
import SitegateThreads

#if canImport(Glibc)
import Glibc
#endif

/// Answers one request from the register tables of its unit id, applying the configured faults. Shared by the TCP
/// and RTU servers; lives on the simulator thread.
final class RequestHandler {
    let tables: [Int: UnitTables]
    let faults: SimulatorFaults
    let frozen: Bool
    let served: LockedValue<Int>
    let start = SystemWallClock().now()
    private var count = 0
    /// Seeded: a garbled answer is the same bytes in every run, so a test that trips on one can be replayed.
    private var random = SplitMix64(seed: 0x5173_6761_7465)

    init(devices: [ModbusSimulator.Device], faults: SimulatorFaults, frozen: Bool, served: LockedValue<Int>) {
        var tables: [Int: UnitTables] = [:]
        for device in devices { tables[device.unit] = UnitTables(map: device.map, unit: device.unit) }
        self.tables = tables
        self.faults = faults
        self.frozen = frozen
        self.served = served
    }

    /// Handles `request` (`length` bytes, the unit id at `unitIndex`, the function code after it) on `context`,
    /// whose socket or serial port is the one the request came from. `unknownUnit` says what a unit id with no
    /// tables gets: a TCP gateway answers exception 0x0B, an RS-485 line stays silent.
    func handle(
        context: OpaquePointer, request: inout [UInt8], length: Int32, unitIndex: Int, unknownUnit: SimulatorFaults.Action
    ) {
        count += 1
        let unit = Int(request[unitIndex])
        let function = request[unitIndex + 1]
        var addresses: Range<Int>? = nil
        if (1...4).contains(function), Int(length) >= unitIndex + 6 {
            let start = Int(request[unitIndex + 2]) << 8 | Int(request[unitIndex + 3])
            let quantity = Int(request[unitIndex + 4]) << 8 | Int(request[unitIndex + 5])
            addresses = start..<(start + max(1, quantity))
        }
        var action = faults.action(count: count, unit: unit, addresses: addresses)
        if action == .answer && tables[unit] == nil { action = unknownUnit }
        if faults.responseDelay > .zero, action != .silence {
            var ts = timespec(
                tv_sec: Int(faults.responseDelay.components.seconds),
                tv_nsec: Int(faults.responseDelay.components.attoseconds / 1_000_000_000))
            nanosleep(&ts, nil)
        }
        modbus_set_slave(context, Int32(unit))
        // Counted before the answer goes out, so that a client holding its answer sees it counted (silence is none).
        if action != .silence { served.withLock { $0 += 1 } }
        switch action {
        case .silence:
            return
        case .garbage:
            let bytes = (0..<5).map { _ in UInt8.random(in: 0...255, using: &random) }
            _ = bytes.withUnsafeBytes { write(modbus_get_socket(context), $0.baseAddress, $0.count) }
        case .exception(let code):
            _ = modbus_reply_exception(context, &request, UInt32(code))
        case .answer:
            let table = tables[unit]!
            table.refresh(elapsed: frozen ? 0 : Double((SystemWallClock().now() - start).milliseconds) / 1000)
            _ = modbus_reply(context, &request, length, table.mapping)
        }
    }
}

/// The register tables libmodbus answers from, for one unit id.
final class UnitTables {
    let map: DeviceMap
    let unit: Int
    let mapping: UnsafeMutablePointer<modbus_mapping_t>
    let holdingStart: Int
    let inputStart: Int

    init(map: DeviceMap, unit: Int) {
        self.map = map
        self.unit = unit
        func span(_ f: RegisterFunction) -> (start: Int, count: Int) {
            let points = map.points.filter { $0.function == f }
            guard let low = points.map(\.address).min(), let high = points.map(\.endAddress).max() else { return (0, 0) }
            // Serve a little beyond the points so that merged and even-aligned reads succeed.
            let start = max(0, (low & ~1) - 2)
            return (start, min(65536, high + 4) - start)
        }
        let holding = span(.holding)
        let input = span(.input)
        holdingStart = holding.start
        inputStart = input.start
        mapping = modbus_mapping_new_start_address(
            0, 0, 0, 0, UInt32(holding.start), UInt32(holding.count), UInt32(input.start), UInt32(input.count))!
    }

    deinit {
        modbus_mapping_free(mapping)
    }

    func refresh(elapsed: Double) {
        for point in map.points {
            let words: [UInt16]
            if point.type == .string {
                words = RegisterEncoder.encodeString("SIM\(unit)-\(point.id)", length: point.length)
            } else {
                words = RegisterEncoder.encode(SimulatedValues.value(for: point, unit: unit, elapsed: elapsed), as: point)
            }
            let base: UnsafeMutablePointer<UInt16>
            let start: Int
            switch point.function {
            case .holding: (base, start) = (mapping.pointee.tab_registers, holdingStart)
            case .input: (base, start) = (mapping.pointee.tab_input_registers, inputStart)
            case .coil, .discrete: continue
            }
            for (i, word) in words.enumerated() { base[point.address - start + i] = word }
        }
    }
}
