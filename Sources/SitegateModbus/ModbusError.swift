import CModbus
import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

/// What went wrong in one Modbus transaction, sorted into the kinds the agent counts and reports.
public enum ModbusError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No answer within the response timeout.
    case timeout
    /// The TCP endpoint refused or dropped the connection, or the serial port could not be opened.
    case connectionFailed(String)
    /// The device answered with a Modbus exception.
    case exception(ModbusExceptionCode)
    /// The answer failed its CRC check (RTU).
    case badCRC
    /// A short, garbled or mismatched answer.
    case badResponse(String)
    /// Anything else, with the C library's text.
    case io(String)

    /// A short stable name for counters and logs.
    public var kind: String {
        switch self {
        case .timeout: "timeout"
        case .connectionFailed: "connection"
        case .exception: "exception"
        case .badCRC: "crc"
        case .badResponse: "bad_response"
        case .io: "io"
        }
    }

    public var description: String {
        switch self {
        case .timeout: "no response (timeout)"
        case .connectionFailed(let why): "connection failed: \(why)"
        case .exception(let code): "exception \(code.rawValue) (\(code.name))"
        case .badCRC: "bad CRC in response"
        case .badResponse(let why): "bad response: \(why)"
        case .io(let why): "I/O error: \(why)"
        }
    }

    /// Whether the connection should be closed and opened again before the next transaction.
    var needsReconnect: Bool {
        switch self {
        case .exception: false
        default: true
        }
    }

    /// Classifies libmodbus's `errno` after a failed call.
    static func fromErrno(_ code: Int32) -> ModbusError {
        let base = Int32(MODBUS_ENOBASE)
        if code > base, code <= base + 11, let exception = ModbusExceptionCode(rawValue: UInt8(code - base)) {
            return .exception(exception)
        }
        switch code {
        case base + 12: return .badCRC  // EMBBADCRC
        case base + 13: return .badResponse("invalid data")  // EMBBADDATA
        case base + 14: return .badResponse("invalid exception code")  // EMBBADEXC
        case base + 16: return .badResponse("too many data")  // EMBMDATA
        case base + 17: return .badResponse("response from another unit id")  // EMBBADSLAVE
        case ETIMEDOUT: return .timeout
        case ECONNREFUSED, ECONNRESET, EPIPE, ENOTCONN, EHOSTUNREACH, ENETUNREACH, EBADF:
            return .connectionFailed(String(cString: modbus_strerror(code)))
        default: return .io(String(cString: modbus_strerror(code)))
        }
    }
}

/// The exception codes of the Modbus application protocol (MBAP §7).
public enum ModbusExceptionCode: UInt8, Sendable, Hashable {
    case illegalFunction = 1
    case illegalDataAddress = 2
    case illegalDataValue = 3
    case serverDeviceFailure = 4
    case acknowledge = 5
    case serverDeviceBusy = 6
    case negativeAcknowledge = 7
    case memoryParityError = 8
    case gatewayPathUnavailable = 10
    case gatewayTargetFailedToRespond = 11

    public var name: String {
        switch self {
        case .illegalFunction: "illegal function"
        case .illegalDataAddress: "illegal data address"
        case .illegalDataValue: "illegal data value"
        case .serverDeviceFailure: "server device failure"
        case .acknowledge: "acknowledge"
        case .serverDeviceBusy: "server device busy"
        case .negativeAcknowledge: "negative acknowledge"
        case .memoryParityError: "memory parity error"
        case .gatewayPathUnavailable: "gateway path unavailable"
        case .gatewayTargetFailedToRespond: "gateway target device failed to respond"
        }
    }
}
