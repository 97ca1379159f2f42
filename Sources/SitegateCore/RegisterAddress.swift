/// An address as a technician types it: a wire address (`72`, `0x0048`) or a Modicon register number
/// (`30073`, `40001`, `300073`), which also names the table.
public struct RegisterAddress: Sendable, Hashable {
    public var wire: Int
    public var function: RegisterFunction
    /// How the input was read, for the conversion line ("register 30073 = input register at wire address 72").
    public var explanation: String

    /// - Parameter function: the table when given explicitly; a Modicon number must agree with it.
    public static func parse(_ text: String, function: RegisterFunction?, forceWire: Bool = false) -> Result<
        RegisterAddress, AddressError
    > {
        let isHex = text.hasPrefix("0x") || text.hasPrefix("0X")
        guard let value = isHex ? Int(text.dropFirst(2), radix: 16) : Int(text), value >= 0 else {
            return .failure(AddressError("'\(text)' is not an address: give 72, 0x0048 or a register number like 30073"))
        }
        if !isHex && !forceWire, let (base, table) = Modicon.table(of: value, digits: text.count) {
            if let function, function != table {
                return .failure(
                    AddressError(
                        "register \(text) is a \(table.rawValue) register (function \(table.functionCode)), "
                            + "but function \(function.functionCode) was asked for; use --wire to take \(text) as a wire address"))
            }
            let wire = value - base
            return .success(
                RegisterAddress(
                    wire: wire, function: table,
                    explanation: "register \(text) = \(table.rawValue) register at wire address \(wire) (\(Hex.address(wire)))"))
        }
        guard value <= 65535 else { return .failure(AddressError("wire addresses go up to 65535 (0xFFFF)")) }
        let f = function ?? .holding
        return .success(
            RegisterAddress(
                wire: value, function: f,
                explanation: "wire address \(value) (\(Hex.address(value))) = \(f.rawValue) register \(Modicon.number(value, f))"))
    }
}

public struct AddressError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
