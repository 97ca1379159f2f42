/// The inverse of `RegisterDecoder`, used by the simulator to serve values from a map.
public enum RegisterEncoder {
    /// Registers in wire order for `value` (already in the point's unit), undoing scale and offset.
    public static func encode(_ value: Double, as point: PointDefinition) -> [UInt16] {
        let raw = (value - point.offset) / point.scale
        let bits: UInt64
        switch point.type {
        case .u16, .bits: bits = UInt64(UInt16(clamping: Int64(raw.rounded())))
        case .i16: bits = UInt64(UInt16(bitPattern: Int16(clamping: Int64(raw.rounded()))))
        case .u32: bits = UInt64(UInt32(clamping: Int64(raw.rounded())))
        case .i32: bits = UInt64(UInt32(bitPattern: Int32(clamping: Int64(raw.rounded()))))
        case .u64: bits = raw <= 0 ? 0 : UInt64(raw.rounded())
        case .i64: bits = UInt64(bitPattern: Int64(raw.rounded()))
        case .f32: bits = UInt64(Float(raw).bitPattern)
        case .f64: bits = raw.bitPattern
        case .string: return encodeString("", length: point.length)
        }
        return split(bits, words: point.length, order: point.wordOrder)
    }

    /// Splits a big-endian integer of `words` × 16 bits into registers in wire order for `order`.
    public static func split(_ bits: UInt64, words: Int, order: WordOrder) -> [UInt16] {
        var bigEndian: [UInt16] = []
        for i in stride(from: words - 1, through: 0, by: -1) {
            bigEndian.append(UInt16(truncatingIfNeeded: bits >> (16 * UInt64(i))))
        }
        switch order {
        case .abcd: return bigEndian
        case .cdab: return bigEndian.reversed()
        case .badc: return bigEndian.map(\.byteSwapped)
        case .dcba: return bigEndian.reversed().map(\.byteSwapped)
        }
    }

    public static func encodeString(_ text: String, length: Int) -> [UInt16] {
        var bytes = Array(text.utf8.prefix(length * 2))
        bytes += Array(repeating: 0, count: length * 2 - bytes.count)
        return (0..<length).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
    }
}
