/// `sitegate raw --json`: the registers as read and every 32- and 64-bit decoding of them. Written only (no
/// reader): nothing reads it back, and its 64-bit integers do not survive a trip through a JSON number anyway.
public struct RawRegisterReport: Sendable {
    public enum Key: String, JSONKey { case unit, function, address, explanation, registers, u32, u64 }
    public enum WideKey: String, JSONKey {
        case address, order, hex, unsigned, signed, float, plausible, plausibleInteger = "plausible_integer"
    }

    public var unit: Int
    public var address: RegisterAddress
    public var registers: [UInt16]

    public init(unit: Int, address: RegisterAddress, registers: [UInt16]) {
        self.unit = unit
        self.address = address
        self.registers = registers
    }

    public var json: String {
        func wide(_ d: RawDecodings.Wide) -> String {
            JSONObjectWriter.object(
                WideKey.self,
                [
                    .address: .int(address.wire + d.offset), .order: .string(d.order.rawValue), .hex: .string(d.hex),
                    // Above Int64's range: written from the UInt64 itself.
                    .unsigned: .raw(String(d.unsigned)), .signed: .integer(d.signed),
                    .float: d.float.isFinite ? .number(d.float) : .null, .plausible: .bool(d.plausible),
                    .plausibleInteger: .bool(d.plausibleInteger),
                ])
        }
        return JSONObjectWriter.object(
            Key.self,
            [
                .unit: .int(unit), .function: .int(address.function.functionCode), .address: .int(address.wire),
                .explanation: .string(address.explanation), .registers: .raw(JSONText.array(registers.map(String.init))),
                .u32: .raw(JSONText.array(RawDecodings.thirtyTwo(registers).map(wide))),
                .u64: .raw(JSONText.array(RawDecodings.sixtyFour(registers).map(wide))),
            ])
    }
}
