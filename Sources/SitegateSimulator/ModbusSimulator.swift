import CModbus
import Logging
import SitegateCore
import SitegateThreads

#if canImport(Glibc)
import Glibc
#endif

/// A Modbus TCP server on libmodbus that serves device maps under one or more unit ids, like an RTU-to-TCP gateway
/// with meters behind it. Unknown unit ids get exception 0x0B (gateway target failed to respond).
public final class ModbusSimulator: Sendable {
    public struct Device: Sendable {
        public var unit: Int
        public var map: DeviceMap
        public init(unit: Int, map: DeviceMap) {
            self.unit = unit
            self.map = map
        }
    }

    public let port: Int
    private let thread: DedicatedThread
    private let running = LockedValue(true)
    private let served = LockedValue(0)

    /// Binds `host:port` (port 0 picks a free one; read it back from `port`) and starts serving on its own thread.
    /// - Parameter frozen: values do not change over time (for tests that compare exact values).
    public init(host: String = "127.0.0.1", port: Int = 0, devices: [Device], frozen: Bool = false, logger: Logger)
        throws
    {
        guard let context = modbus_new_tcp(host, Int32(port)) else {
            throw SimulatorError("cannot create a Modbus TCP context for \(host):\(port)")
        }
        let listener = modbus_tcp_listen(context, 32)
        if listener < 0 {
            let reason = String(cString: modbus_strerror(errno))
            modbus_free(context)
            throw SimulatorError("cannot listen on \(host):\(port): \(reason)")
        }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        thread = DedicatedThread(name: "simulator")
        let server = Server(
            context: context, listener: listener, devices: devices, frozen: frozen, running: running, served: served,
            logger: logger)
        thread.submit { server.serve() }
    }

    /// Requests answered so far.
    public var requestsServed: Int { served.withLock { $0 } }

    /// Stops serving and closes every socket.
    public func stop() {
        running.withLock { $0 = false }
        thread.shutdown()
    }
}

public struct SimulatorError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The select loop; lives entirely on the simulator's thread.
private final class Server: @unchecked Sendable {
    // @unchecked: created on the caller's thread, then used only by the simulator thread's single job.
    let context: OpaquePointer
    let listener: Int32
    let tables: [Int: UnitTables]
    let frozen: Bool
    let running: LockedValue<Bool>
    let served: LockedValue<Int>
    let logger: Logger
    let start = SystemWallClock().now()

    init(
        context: OpaquePointer, listener: Int32, devices: [ModbusSimulator.Device], frozen: Bool,
        running: LockedValue<Bool>, served: LockedValue<Int>, logger: Logger
    ) {
        self.context = context
        self.listener = listener
        self.frozen = frozen
        self.running = running
        self.served = served
        self.logger = logger
        var tables: [Int: UnitTables] = [:]
        for device in devices { tables[device.unit] = UnitTables(map: device.map, unit: device.unit) }
        self.tables = tables
    }

    func serve() {
        var clients: Set<Int32> = []
        var query = [UInt8](repeating: 0, count: Int(MODBUS_TCP_MAX_ADU_LENGTH))
        let headerLength = Int(modbus_get_header_length(context))
        defer {
            for fd in clients { close(fd) }
            close(listener)
            modbus_free(context)
        }
        while running.withLock({ $0 }) {
            var readSet = fd_set()
            fdZero(&readSet)
            fdSet(listener, &readSet)
            var highest = listener
            for fd in clients {
                fdSet(fd, &readSet)
                highest = max(highest, fd)
            }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            let ready = select(highest + 1, &readSet, nil, nil, &timeout)
            if ready <= 0 { continue }
            if fdIsSet(listener, &readSet) {
                let fd = accept(listener, nil, nil)
                if fd >= 0 { clients.insert(fd) }
            }
            for fd in clients where fdIsSet(fd, &readSet) {
                modbus_set_socket(context, fd)
                let n = modbus_receive(context, &query)
                if n > 0 {
                    answer(query: &query, length: n, unitIndex: headerLength - 1)
                } else if n < 0 {
                    close(fd)
                    clients.remove(fd)
                }
            }
        }
    }

    private func answer(query: inout [UInt8], length: Int32, unitIndex: Int) {
        let unit = Int(query[unitIndex])
        guard let table = tables[unit] else {
            _ = modbus_reply_exception(context, &query, UInt32(MODBUS_EXCEPTION_GATEWAY_TARGET))
            return
        }
        let elapsed = frozen ? 0 : Double((SystemWallClock().now() - start).milliseconds) / 1000
        table.refresh(elapsed: elapsed)
        _ = modbus_reply(context, &query, length, table.mapping)
        served.withLock { $0 += 1 }
    }
}

/// The register tables libmodbus answers from, for one unit id.
private final class UnitTables {
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

// fd_set helpers: the FD_* macros are not visible from Swift.
private func fdZero(_ set: inout fd_set) {
    set = fd_set()
}

private func fdSet(_ fd: Int32, _ set: inout fd_set) {
    let bits = MemoryLayout.size(ofValue: set.__fds_bits.0) * 8
    withUnsafeMutableBytes(of: &set.__fds_bits) { raw in
        let words = raw.bindMemory(to: Int.self)
        words[Int(fd) / bits] |= 1 << (Int(fd) % bits)
    }
}

private func fdIsSet(_ fd: Int32, _ set: inout fd_set) -> Bool {
    let bits = MemoryLayout.size(ofValue: set.__fds_bits.0) * 8
    return withUnsafeMutableBytes(of: &set.__fds_bits) { raw in
        let words = raw.bindMemory(to: Int.self)
        return words[Int(fd) / bits] & (1 << (Int(fd) % bits)) != 0
    }
}
