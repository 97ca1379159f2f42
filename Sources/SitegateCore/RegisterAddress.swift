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
        if !isHex && !forceWire, let (base, table) = modiconBase(value, digits: text.count) {
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
                    explanation: "register \(text) = \(table.rawValue) register at wire address \(wire) (\(hex(wire)))"))
        }
        guard value <= 65535 else { return .failure(AddressError("wire addresses go up to 65535 (0xFFFF)")) }
        let f = function ?? .holding
        return .success(
            RegisterAddress(
                wire: value, function: f,
                explanation: "wire address \(value) (\(hex(value))) = \(f.rawValue) register \(modiconNumber(value, f))"))
    }

    /// The Modicon base and table for 5-digit (30001...) and 6-digit (300001...) register numbers.
    static func modiconBase(_ value: Int, digits: Int) -> (Int, RegisterFunction)? {
        let tables: [(Int, RegisterFunction)] = [(1, .coil), (10001, .discrete), (30001, .input), (40001, .holding)]
        if digits == 5 {
            for (base, table) in tables where base > 1 && (base...(base + 9998)).contains(value) { return (base, table) }
        }
        if digits == 6 {
            let sixDigit: [(Int, RegisterFunction)] = [(100001, .discrete), (300001, .input), (400001, .holding)]
            for (base, table) in sixDigit where (base...(base + 65535)).contains(value) { return (base, table) }
        }
        return nil
    }

    /// The Modicon number of a wire address: 5 digits while they suffice, else 6 (Carlo Gavazzi style).
    public static func modiconNumber(_ wire: Int, _ f: RegisterFunction) -> String {
        let base5 = f == .input ? 30001 : f == .holding ? 40001 : f == .discrete ? 10001 : 1
        if wire <= 9998 { return String(base5 + wire) }
        let base6 = f == .input ? 300001 : f == .holding ? 400001 : f == .discrete ? 100001 : 1
        return String(base6 + wire)
    }

    static func hex(_ n: Int) -> String {
        let d = String(n, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 4 - d.count)) + d
    }
}

public struct AddressError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
