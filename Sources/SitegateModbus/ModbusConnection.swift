import CModbus
import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

/// One libmodbus context: a TCP connection or a serial line. Not thread safe; a `ModbusBus` owns it and touches it
/// only from its own thread.
public final class ModbusConnection {
    private let context: OpaquePointer
    public let transport: BusTransport
    private let rs485: Bool
    private var connected = false

    public init(transport: BusTransport, responseTimeout: Duration, byteTimeout: Duration, rs485: Bool = false)
        throws(ModbusError)
    {
        self.rs485 = rs485
        self.transport = transport
        let created: OpaquePointer?
        switch transport {
        case .tcp(let host, let port):
            created = modbus_new_tcp_pi(host, String(port))
        case .rtu(let device, let baud, let parity, let dataBits, let stopBits):
            let p: CChar = switch parity {
            case .none: CChar(UInt8(ascii: "N"))
            case .even: CChar(UInt8(ascii: "E"))
            case .odd: CChar(UInt8(ascii: "O"))
            }
            created = modbus_new_rtu(device, Int32(baud), p, Int32(dataBits), Int32(stopBits))
        }
        guard let created else {
            throw .io("cannot create a Modbus context: \(String(cString: modbus_strerror(errno)))")
        }
        context = created
        Self.setTimeout(responseTimeout) { modbus_set_response_timeout(created, $0, $1) }
        Self.setTimeout(byteTimeout) { modbus_set_byte_timeout(created, $0, $1) }
    }

    deinit {
        if connected { modbus_close(context) }
        modbus_free(context)
    }

    private static func setTimeout(_ d: Duration, _ apply: (UInt32, UInt32) -> Int32) {
        let ms = max(1, d.milliseconds)
        _ = apply(UInt32(ms / 1000), UInt32((ms % 1000) * 1000))
    }

    public var isConnected: Bool { connected }

    public func connect() throws(ModbusError) {
        guard !connected else { return }
        if modbus_connect(context) != 0 {
            let code = errno
            let target: String = switch transport {
            case .tcp(let host, let port): "\(host):\(port)"
            case .rtu(let device, _, _, _, _): device
            }
            throw .connectionFailed("\(target): \(String(cString: modbus_strerror(code)))")
        }
        connected = true
        if rs485, case .rtu = transport, modbus_rtu_set_serial_mode(context, Int32(MODBUS_RTU_RS485)) != 0 {
            let code = errno
            close()
            throw .connectionFailed("cannot switch the port to RS-485 mode: \(String(cString: modbus_strerror(code)))")
        }
    }

    public func close() {
        guard connected else { return }
        modbus_close(context)
        connected = false
    }

    /// Reads `count` registers (FC03/FC04) or bits (FC01/FC02, one per element, 0 or 1) from `unit`.
    /// On a transport error the connection is closed, so the next call reconnects.
    public func read(unit: Int, function: RegisterFunction, address: Int, count: Int) throws(ModbusError) -> [UInt16] {
        try connect()
        modbus_set_slave(context, Int32(unit))
        // A late answer to an earlier, timed-out request must not be taken for this one.
        if case .rtu = transport { _ = modbus_flush(context) }
        let result: [UInt16]
        var failure: Int32 = 0
        let (start, n) = (Int32(address), Int32(count))
        switch function {
        case .holding: result = Self.filled(count, failure: &failure) { modbus_read_registers(context, start, n, $0) }
        case .input: result = Self.filled(count, failure: &failure) { modbus_read_input_registers(context, start, n, $0) }
        case .coil, .discrete:
            let bits: [UInt8] = Self.filled(count, failure: &failure) {
                function == .coil ? modbus_read_bits(context, start, n, $0) : modbus_read_input_bits(context, start, n, $0)
            }
            result = bits.map(UInt16.init)
        }
        if result.count != count {
            let error = failure != 0 ? ModbusError.fromErrno(failure) : .badResponse("short answer")
            if error.needsReconnect { recover(after: error) }
            throw error
        }
        return result
    }

    /// The `count` elements one libmodbus read call fills in, or none when it read fewer; `failure` gets its `errno`.
    private static func filled<Element>(
        _ count: Int, failure: inout Int32, _ call: (UnsafeMutablePointer<Element>?) -> Int32
    ) -> [Element] {
        [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            let n = call(buffer.baseAddress)
            if n < 0 { failure = errno }
            initialized = n == Int32(count) ? count : 0
        }
    }

    /// After a failure the stream may hold a late answer: RTU discards pending input, TCP starts a new connection.
    private func recover(after error: ModbusError) {
        switch transport {
        case .rtu: _ = modbus_flush(context)
        case .tcp: close()
        }
    }
}
