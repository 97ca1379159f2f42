import CModbus
import Logging
import SitegateCore
import SitegateThreads

#if canImport(Glibc)
import Glibc
#endif

/// A Modbus server on libmodbus that serves device maps under one or more unit ids: over TCP like an RTU-to-TCP
/// gateway with meters behind it (unknown unit ids get exception 0x0B), or over a serial line or pty like an
/// RS-485 bus (unknown unit ids stay silent). Faults can be injected (see `SimulatorFaults`).
public final class ModbusSimulator: Sendable {
    public struct Device: Sendable {
        public var unit: Int
        public var map: DeviceMap
        public init(unit: Int, map: DeviceMap) {
            self.unit = unit
            self.map = map
        }
    }

    public enum Endpoint: Sendable {
        case tcp(host: String, port: Int)
        case rtu(device: String, baud: Int, parity: Parity, dataBits: Int, stopBits: Int)
    }

    /// The TCP port it listens on (0 for RTU).
    public let port: Int
    private let thread: DedicatedThread
    private let running = LockedValue(true)
    private let served = LockedValue(0)
    private let accepted = LockedValue(0)

    public convenience init(
        host: String = "127.0.0.1", port: Int = 0, devices: [Device], frozen: Bool = false, logger: Logger
    ) throws {
        try self.init(endpoint: .tcp(host: host, port: port), devices: devices, frozen: frozen, logger: logger)
    }

    /// Opens the endpoint (TCP port 0 picks a free one: read it back from `port`) and serves on its own thread.
    /// - Parameter frozen: values do not change over time (for tests that compare exact values).
    public init(
        endpoint: Endpoint, devices: [Device], faults: SimulatorFaults = SimulatorFaults(), frozen: Bool = false,
        logger: Logger
    ) throws {
        let handler = RequestHandler(devices: devices, faults: faults, frozen: frozen, served: served)
        thread = DedicatedThread(name: "simulator")
        switch endpoint {
        case .tcp(let host, let port):
            let server = try TCPServer(host: host, port: port, handler: handler, running: running, accepted: accepted)
            self.port = server.port
            thread.submit { server.serve() }
        case .rtu(let device, let baud, let parity, let dataBits, let stopBits):
            let server = try RTUServer(
                device: device, baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits, handler: handler,
                running: running)
            self.port = 0
            thread.submit { server.serve() }
        }
        _ = logger
    }

    /// Requests answered so far.
    public var requestsServed: Int { served.withLock { $0 } }

    /// TCP connections accepted so far: a client that reconnects shows here.
    public var connectionsAccepted: Int { accepted.withLock { $0 } }

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

/// The TCP select loop; after init it lives entirely on the simulator's thread.
private final class TCPServer: @unchecked Sendable {
    // @unchecked: created on the caller's thread, then used only by the simulator thread's single job.
    let context: OpaquePointer
    let listener: Int32
    let port: Int
    let handler: RequestHandler
    let running: LockedValue<Bool>
    let accepted: LockedValue<Int>

    init(host: String, port: Int, handler: RequestHandler, running: LockedValue<Bool>, accepted: LockedValue<Int>) throws {
        guard let context = modbus_new_tcp(host, Int32(port)) else {
            throw SimulatorError("cannot create a Modbus TCP context for \(host):\(port)")
        }
        let listener = modbus_tcp_listen(context, 64)
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
        self.context = context
        self.listener = listener
        self.handler = handler
        self.running = running
        self.accepted = accepted
    }

    func serve() {
        var clients: Set<Int32> = []
        var query = [UInt8](repeating: 0, count: Int(MODBUS_TCP_MAX_ADU_LENGTH))
        let unitIndex = Int(modbus_get_header_length(context)) - 1
        defer {
            for fd in clients { close(fd) }
            close(listener)
            modbus_free(context)
        }
        while running.withLock({ $0 }) {
            var readSet = fd_set()
            fdSet(listener, &readSet)
            var highest = listener
            for fd in clients {
                fdSet(fd, &readSet)
                highest = max(highest, fd)
            }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            if select(highest + 1, &readSet, nil, nil, &timeout) <= 0 { continue }
            if fdIsSet(listener, &readSet) {
                let fd = accept(listener, nil, nil)
                if fd >= 0 {
                    clients.insert(fd)
                    accepted.withLock { $0 += 1 }
                }
            }
            for fd in clients where fdIsSet(fd, &readSet) {
                modbus_set_socket(context, fd)
                let n = modbus_receive(context, &query)
                if n > 0 {
                    handler.handle(
                        context: context, request: &query, length: n, unitIndex: unitIndex,
                        unknownUnit: .exception(UInt8(MODBUS_EXCEPTION_GATEWAY_TARGET)))
                } else if n < 0 {
                    close(fd)
                    clients.remove(fd)
                }
            }
        }
    }
}

/// The RTU loop: frames requests itself (libmodbus's RTU server answers one unit id only), checks their CRC and
/// lets libmodbus build and send the reply.
private final class RTUServer: @unchecked Sendable {
    // @unchecked: created on the caller's thread, then used only by the simulator thread's single job.
    let context: OpaquePointer
    let handler: RequestHandler
    let running: LockedValue<Bool>

    init(
        device: String, baud: Int, parity: Parity, dataBits: Int, stopBits: Int, handler: RequestHandler,
        running: LockedValue<Bool>
    ) throws {
        let p: CChar = switch parity {
        case .none: CChar(UInt8(ascii: "N"))
        case .even: CChar(UInt8(ascii: "E"))
        case .odd: CChar(UInt8(ascii: "O"))
        }
        guard let context = modbus_new_rtu(device, Int32(baud), p, Int32(dataBits), Int32(stopBits)) else {
            throw SimulatorError("cannot create a Modbus RTU context for \(device)")
        }
        if modbus_connect(context) != 0 {
            let reason = String(cString: modbus_strerror(errno))
            modbus_free(context)
            throw SimulatorError("cannot open \(device): \(reason)")
        }
        self.context = context
        self.handler = handler
        self.running = running
    }

    func serve() {
        defer {
            modbus_close(context)
            modbus_free(context)
        }
        let fd = modbus_get_socket(context)
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while running.withLock({ $0 }) {
            var readSet = fd_set()
            fdSet(fd, &readSet)
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            let ready = select(fd + 1, &readSet, nil, nil, &timeout)
            if ready == 0 {
                pending.removeAll()  // a silent interval ends any partial frame
                continue
            }
            if ready < 0 { continue }
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { continue }
            pending += chunk[0..<n]
            while let length = RTUFraming.frameLength(pending) {
                if pending.count < length { break }
                var frame = Array(pending[0..<length])
                if RTUFraming.crcIsValid(frame) {
                    pending.removeFirst(length)
                    handler.handle(
                        context: context, request: &frame, length: Int32(length), unitIndex: 0, unknownUnit: .silence)
                } else {
                    pending.removeFirst()  // resynchronise on the next byte
                }
            }
        }
    }
}

/// Modbus RTU request framing (MBSL V1.02 §2.5.1) and CRC-16.
enum RTUFraming {
    /// The length of the request starting at `bytes[0]`, or nil when more bytes are needed to tell.
    static func frameLength(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        switch bytes[1] {
        case 1...6: return 8
        case 15, 16:
            guard bytes.count >= 7 else { return nil }
            return 9 + Int(bytes[6])
        default: return 4  // unknown function: a minimal frame, which fails its CRC and is skipped
        }
    }

    static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
        }
        return crc
    }

    static func crcIsValid(_ frame: [UInt8]) -> Bool {
        guard frame.count >= 4 else { return false }
        let crc = crc16(frame[0..<(frame.count - 2)])
        return frame[frame.count - 2] == UInt8(crc & 0xFF) && frame[frame.count - 1] == UInt8(crc >> 8)
    }
}

// fd_set helpers: the FD_* macros are not visible from Swift.
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
