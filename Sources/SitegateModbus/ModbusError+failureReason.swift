import SitegateCore

extension ModbusError {
    /// The reason a failed record carries in the payload (docs/evidence.md, "Accounting for every tick").
    public var failureReason: FailureReason {
        switch self {
        case .timeout: .timeout
        case .connectionFailed: .connection
        case .exception(let code): .exception(code: code.rawValue)
        case .badCRC: .crc
        case .badResponse: .badResponse
        case .io: .io
        }
    }
}
