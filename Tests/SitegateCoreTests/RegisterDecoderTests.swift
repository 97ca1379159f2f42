import SitegateCore
import Testing

@Suite struct RegisterDecoderTests {
    func point(_ type: ValueType, _ order: WordOrder = .abcd, scale: Double = 1, invalid: [InvalidSentinel] = [])
        -> PointDefinition
    {
        PointDefinition(
            id: "p", address: 0, function: .input, type: type, wordOrder: order, scale: scale, unit: "V", kind: .gauge,
            invalid: invalid)
    }

    func number(_ value: DecodedValue) -> Double {
        if case .number(let v) = value { return v }
        return .nan
    }

    /// Eastron SDM120 Modbus protocol V2.4 §2.1: an FC04 answer with bytes 43 66 33 34 is 230.2 V. (0x43663334 is
    /// one float32 step above the nearest float to 230.2, 0x43663333: it prints as 230.20001.)
    @Test func eastronVendorVector() {
        #expect(abs(number(RegisterDecoder.decode([0x4366, 0x3334], as: point(.f32))) - 230.2) < 1e-4)
        #expect(RegisterDecoder.decode([0x4366, 0x3333], as: point(.f32)) == .number(Double(Float(230.2))))
        // The payload writes a float32 value in its shortest form.
        #expect(JSONText.number(number(RegisterDecoder.decode([0x4366, 0x3333], as: point(.f32)))) == "230.2")
        #expect(JSONText.number(number(RegisterDecoder.decode([0x4366, 0x3334], as: point(.f32)))) == "230.20001")
    }

    /// The same float in all four byte orders, as Telegraf and libmodbus name them.
    @Test(arguments: [
        (WordOrder.abcd, [UInt16(0x4366), 0x3334]),
        (.cdab, [0x3334, 0x4366]),
        (.badc, [0x6643, 0x3433]),
        (.dcba, [0x3433, 0x6643]),
    ])
    func floatWordOrders(order: WordOrder, words: [UInt16]) {
        #expect(abs(number(RegisterDecoder.decode(words, as: point(.f32, order))) - 230.2) < 1e-4)
    }

    /// Carlo Gavazzi EM300 protocol §2.1: INT32 with the least significant word first, "V×10".
    @Test func carloGavazziScaledInt32() {
        // 230.4 V -> 2304 = 0x00000900, LSW first.
        #expect(RegisterDecoder.decode([0x0900, 0x0000], as: point(.i32, .cdab, scale: 0.1)) == .number(230.4))
        // -1520.4 W ×10 = -15204 = 0xFFFFC49C.
        #expect(RegisterDecoder.decode([0xC49C, 0xFFFF], as: point(.i32, .cdab, scale: 0.1)) == .number(-1520.4))
    }

    @Test(arguments: [
        (ValueType.u16, [UInt16(0xFFFE)], 65534.0),
        (.i16, [0xFFFE], -2.0),
        (.u32, [0x0001, 0x0000], 65536.0),
        (.i32, [0xFFFF, 0xFFFF], -1.0),
        (.u64, [0x0000, 0x0000, 0x0001, 0x0000], 65536.0),
        (.i64, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE], -2.0),
        // 12345.678 as IEEE 754 binary64: 0x40C81CD6C8B43958.
        (.f64, [0x40C8, 0x1CD6, 0xC8B4, 0x3958], 12345.678),
    ])
    func integerAndDoubleTypes(type: ValueType, words: [UInt16], expected: Double) {
        #expect(RegisterDecoder.decode(words, as: point(type)) == .number(expected))
    }

    @Test func sentinelsAndNaNAreInvalid() {
        #expect(RegisterDecoder.decode([0x7FFF, 0xFFFF], as: point(.i32, invalid: [.raw(0x7FFF_FFFF)])) == .invalid)
        #expect(RegisterDecoder.decode([0x7FC0, 0x0000], as: point(.f32)) == .invalid)  // NaN
        #expect(RegisterDecoder.decode([0x7F80, 0x0000], as: point(.f32)) == .invalid)  // +inf
        #expect(RegisterDecoder.decode([0x0000, 0x0001], as: point(.i32, invalid: [.raw(0x7FFF_FFFF)])) == .number(1))
    }

    @Test func stringsStopAtNul() {
        let p = PointDefinition(id: "s", address: 0, function: .holding, type: .string, length: 3, unit: nil, kind: .state)
        #expect(RegisterDecoder.decode([0x4142, 0x4300, 0x4444], as: p) == .text("ABC"))
    }

    @Test func scaleFactorRegister() {
        #expect(RegisterDecoder.decode([0x0929], as: point(.u16), scaleFactor: -1) == .number(234.5))
    }

    @Test(arguments: WordOrder.allCases)
    func encoderRoundTrips(order: WordOrder) {
        for type in [ValueType.u16, .i16, .u32, .i32, .u64, .i64, .f32, .f64] {
            let p = point(type, order, scale: 0.1)
            let words = RegisterEncoder.encode(123.4, as: p)
            guard case .number(let v) = RegisterDecoder.decode(words, as: p) else {
                Issue.record("\(type) did not decode to a number")
                continue
            }
            #expect(abs(v - 123.4) < 1e-4, "\(type) \(order)")
        }
    }
}

@Suite struct RegisterAddressTests {
    @Test(arguments: [
        ("30073", nil as RegisterFunction?, 72, RegisterFunction.input),
        ("40001", nil, 0, .holding),
        ("300053", nil, 52, .input),  // Carlo Gavazzi 6-digit
        ("0x0048", .input, 72, .input),
        ("72", nil, 72, .holding),
    ])
    func parses(text: String, function: RegisterFunction?, wire: Int, table: RegisterFunction) throws {
        let a = try RegisterAddress.parse(text, function: function).get()
        #expect(a.wire == wire && a.function == table)
    }

    @Test func conflictsAndNonsenseAreErrors() {
        #expect(throws: AddressError.self) { try RegisterAddress.parse("30073", function: .holding).get() }
        #expect(throws: AddressError.self) { try RegisterAddress.parse("0xZZ", function: nil).get() }
        #expect(throws: AddressError.self) { try RegisterAddress.parse("70000", function: nil).get() }
        #expect(try! RegisterAddress.parse("30073", function: .holding, forceWire: true).get().wire == 30073)
    }

    @Test func plausibleFloatMarksTheRightWordOrder() {
        let rows = RawDecodings.thirtyTwo([0x4366, 0x3333])
        #expect(rows.filter(\.plausible).map(\.order) == [.abcd])
    }
}

/// `raw`'s * for integers: of ABCD and CDAB the smaller magnitude, when it is not zero and below the bound.
@Suite struct PlausibleIntegerTests {
    static func marked(_ registers: [UInt16]) -> [WordOrder] {
        RawDecodings.thirtyTwo(registers).filter(\.plausibleInteger).map(\.order)
    }

    @Test(arguments: [
        // 230.4 V as V×10 (2304), low register first: the CDAB integer, as a Carlo Gavazzi meter sends it.
        ([UInt16(0x0900), 0x0000], [WordOrder.cdab]),
        // The same value most significant register first.
        ([0x0000, 0x0900], [.abcd]),
        // 123 456.7 kWh as kWh×10 = 1234567 = 0x0012D687, CDAB: above 65535, so both registers carry digits.
        ([0xD687, 0x0012], [.cdab]),
        // -5 (i32) ABCD: the signed magnitude is what counts.
        ([0xFFFF, 0xFFFB], [.abcd]),
        // Zero and a float (230.2 V) mark no integer.
        ([0x0000, 0x0000], []),
        ([0x4366, 0x3334], []),
    ])
    func theRightWordOrderIsMarked(registers: [UInt16], expected: [WordOrder]) {
        #expect(Self.marked(registers) == expected)
    }

    @Test func floatsKeepTheirOwnMark() {
        let rows = RawDecodings.thirtyTwo([0x0900, 0x0000])
        #expect(rows.filter(\.plausible).isEmpty, "a small integer is no plausible float in any order")
        let float = RawDecodings.thirtyTwo([0x3334, 0x4366])
        #expect(float.filter(\.plausible).map(\.order) == [.cdab])
        #expect(float.filter(\.plausibleInteger).isEmpty)
    }

    @Test func sixtyFourBitCountersToo() {
        // ABB B23 import energy, u64 in 0.01 kWh: 12 345 678 = 0x0000_0000_00BC_614E, ABCD.
        let rows = RawDecodings.sixtyFour([0x0000, 0x0000, 0x00BC, 0x614E])
        #expect(rows.filter(\.plausibleInteger).map(\.order) == [.abcd])
        #expect(rows.first { $0.order == .abcd }?.unsigned == 12_345_678)
    }
}
