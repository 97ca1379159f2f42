/// Every way a run of registers can be read, for `sitegate raw`: the technician compares them with the meter's
/// display to find the type and word order.
public enum RawDecodings {
    public struct Wide: Sendable {
        public var offset: Int
        public var order: WordOrder
        public var hex: String
        public var unsigned: UInt64
        public var signed: Int64
        public var float: Double
        /// The float decoding looks like a meter value (`isPlausibleMeterFloat`).
        public var plausible: Bool
        /// The integer decoding looks like a whole-number meter's value (`markPlausibleIntegers`).
        public var plausibleInteger: Bool = false
    }

    /// 32-bit decodings at every even offset, in the four orders.
    public static func thirtyTwo(_ registers: [UInt16]) -> [Wide] {
        decodings(registers, words: 2)
    }

    /// 64-bit decodings at every offset divisible by four, in the four orders.
    public static func sixtyFour(_ registers: [UInt16]) -> [Wide] {
        decodings(registers, words: 4)
    }

    static func decodings(_ registers: [UInt16], words: Int) -> [Wide] {
        var out: [Wide] = []
        var offset = 0
        while offset + words <= registers.count {
            let slice = Array(registers[offset..<(offset + words)])
            var rows: [Wide] = []
            for order in WordOrder.allCases {
                let bits = RegisterDecoder.assemble(slice, order: order)
                let float = words == 2 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits))) : Double(bitPattern: bits)
                rows.append(
                    Wide(
                        offset: offset, order: order,
                        hex: Hex.padded(bits, digits: words * 4),
                        unsigned: words == 2 ? UInt64(UInt32(truncatingIfNeeded: bits)) : bits,
                        signed: words == 2 ? Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: bits))) : Int64(bitPattern: bits),
                        float: float, plausible: isPlausibleMeterFloat(float)))
            }
            markPlausibleIntegers(&rows, words: words)
            out += rows
            offset += words
        }
        return out
    }

    /// Meter quantities are zero or between a thousandth and a billion; wrong word orders give tiny or huge numbers.
    public static func isPlausibleMeterFloat(_ v: Double) -> Bool {
        v.isFinite && (v == 0 || (1e-3...1e9).contains(abs(v)))
    }

    /// The largest whole number a meter plausibly sends: 32-bit below 10^8 (10 GWh as kWh×10), 64-bit below 10^12
    /// (1 TWh in Wh).
    public static func integerBound(words: Int) -> UInt64 { words == 2 ? 100_000_000 : 1_000_000_000_000 }

    /// Whole-number meters send small integers. Read in the wrong word order the low register becomes the high
    /// one and the number jumps by a factor of 65536 or more, so of ABCD and CDAB the smaller magnitude (signed, so
    /// that -5 is small) is the plausible one, if it is not zero and below `integerBound`. Modbus sends each
    /// register high byte first; the byte-swapped orders (BADC, DCBA) make small numbers out of large ones by
    /// accident, so they are not marked for integers.
    static func markPlausibleIntegers(_ rows: inout [Wide], words: Int) {
        let candidates = rows.indices.filter { rows[$0].order == .abcd || rows[$0].order == .cdab }
        guard let smallest = candidates.map({ rows[$0].signed.magnitude }).min(),
            smallest != 0, smallest < integerBound(words: words)
        else { return }
        for i in candidates where rows[i].signed.magnitude == smallest { rows[i].plausibleInteger = true }
    }
}
