/// A compact binary form of a poll's readings, as the buffer stores them (one BLOB per poll).
///
/// Layout, little endian: version byte 1; then per reading: kind u8 (0 number, 1 text, 2 invalid), point id and
/// unit as u8-length-prefixed UTF-8 (unit length 0xFF = none), offset in milliseconds as u32, then the value:
/// a Float64 for numbers, a u16-length-prefixed UTF-8 string otherwise.
public enum ReadingCodec {
    public struct DecodingError: Error, Sendable, CustomStringConvertible {
        public var description: String { "corrupt reading record in buffer" }
    }

    public static func encode(_ readings: [Reading]) -> [UInt8] {
        var out: [UInt8] = [1]
        out.reserveCapacity(readings.count * 24)
        for r in readings {
            switch r.value {
            case .number: out.append(0)
            case .text: out.append(1)
            case .invalid: out.append(2)
            }
            appendShort(r.pointID, to: &out)
            if let unit = r.unit { appendShort(unit, to: &out) } else { out.append(0xFF) }
            appendLE(UInt64(UInt32(clamping: max(0, r.offset.milliseconds))), bytes: 4, to: &out)
            switch r.value {
            case .number(let v): appendLE(v.bitPattern, bytes: 8, to: &out)
            case .text(let s), .invalid(raw: let s):
                let utf8 = Array(s.utf8.prefix(0xFFFF))
                appendLE(UInt64(utf8.count), bytes: 2, to: &out)
                out += utf8
            }
        }
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> [Reading] {
        var i = 0
        func take(_ n: Int) throws(DecodingError) -> ArraySlice<UInt8> {
            guard n >= 0, i + n <= bytes.count else { throw DecodingError() }
            defer { i += n }
            return bytes[i..<(i + n)]
        }
        func readLE(_ n: Int) throws(DecodingError) -> UInt64 {
            try take(n).reversed().reduce(0) { ($0 << 8) | UInt64($1) }
        }
        func readShort() throws(DecodingError) -> String? {
            let length = Int(try take(1).first!)
            if length == 0xFF { return nil }
            return String(decoding: try take(length), as: UTF8.self)
        }
        guard try take(1).first == 1 else { throw DecodingError() }
        var readings: [Reading] = []
        while i < bytes.count {
            let kind = try take(1).first!
            guard let id = try readShort() else { throw DecodingError() }
            let unit = try readShort()
            let offset = Duration.milliseconds(Int64(try readLE(4)))
            let value: Reading.Value
            switch kind {
            case 0: value = .number(Double(bitPattern: try readLE(8)))
            case 1, 2:
                let text = String(decoding: try take(Int(try readLE(2))), as: UTF8.self)
                value = kind == 1 ? .text(text) : .invalid(raw: text)
            default: throw DecodingError()
            }
            readings.append(Reading(pointID: id, unit: unit, value: value, offset: offset))
        }
        return readings
    }

    private static func appendShort(_ s: String, to out: inout [UInt8]) {
        let utf8 = Array(s.utf8.prefix(0xFE))
        out.append(UInt8(utf8.count))
        out += utf8
    }

    private static func appendLE(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        for k in 0..<bytes { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))) }
    }
}
