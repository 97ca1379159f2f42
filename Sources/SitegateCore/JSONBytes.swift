/// JSON text written straight into a byte buffer: what the payload encoders use on the hot path (one SenML pack per
/// poll), without intermediate Strings, interpolation or joins. `JSONText` is the same text as Strings, built on
/// these, so both spell every value the same way (the byte rule of docs/evidence.md depends on it).
extension Array where Element == UInt8 {
    /// Appends a literal's bytes (ASCII in practice).
    @inlinable
    public mutating func appendLiteral(_ literal: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Appends a string's UTF-8 as it is: for text that needs no escaping (enum raw values, numbers, base64).
    @inlinable
    public mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }

    /// Appends `text` as a JSON string, quotes included.
    public mutating func appendJSONString(_ text: String) {
        append(UInt8(ascii: "\""))
        appendJSONStringContent(text)
        append(UInt8(ascii: "\""))
    }

    /// Appends `text` escaped for the inside of a JSON string: `"`, `\` and control characters; everything else
    /// (non-ASCII included) as its UTF-8 bytes.
    public mutating func appendJSONStringContent(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            // Ids, units and times need no escaping: copy them whole.
            guard utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else {
                append(contentsOf: utf8)
                return
            }
            for byte in utf8 {
                switch byte {
                case 0x22: appendLiteral("\\\"")
                case 0x5C: appendLiteral("\\\\")
                case 0x0A: appendLiteral("\\n")
                case 0x0D: appendLiteral("\\r")
                case 0x09: appendLiteral("\\t")
                case ..<0x20:
                    appendLiteral("\\u00")
                    append(lowerHexDigits[Int(byte >> 4)])
                    append(lowerHexDigits[Int(byte & 0x0F)])
                default: append(byte)
                }
            }
        }
    }

    /// Appends an integer in decimal.
    public mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // 20 digits hold UInt64.max; written backwards, then copied in order.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    /// Appends a finite number in its shortest round-tripping form: integral values without a trailing ".0"; a
    /// value that is exactly a Float (a float32 register) in the Float's shortest form (the meter's 230.2 stays
    /// 230.2, not 230.1999969482422). Non-finite values have no JSON form.
    public mutating func appendJSONNumber(_ value: Double) {
        precondition(value.isFinite, "JSON has no non-finite numbers")
        if value == value.rounded(), abs(value) < 1e15 {
            appendDecimal(Int64(value))
            return
        }
        let float = Float(value)
        if float.isFinite, Double(float) == value {
            appendUTF8(float.description)
        } else {
            appendUTF8(value.description)
        }
    }

    /// Appends Unix seconds with millisecond resolution, as SenML times are written here: `1767226500`,
    /// `1767226500.4`, `0.12`.
    public mutating func appendSeconds(milliseconds ms: Int64) {
        let whole = ms.floorDiv(1000)
        let fraction = ms - whole * 1000
        appendDecimal(whole)
        guard fraction != 0 else { return }
        append(UInt8(ascii: "."))
        // Three digits, zero-padded, without trailing zeros: 400 is "4", 120 "12", 5 "005".
        var digits = fraction
        var count = 3
        while digits % 10 == 0 {
            digits /= 10
            count -= 1
        }
        var scale: Int64 = count == 3 ? 100 : count == 2 ? 10 : 1
        while scale > 0 {
            append(UInt8(ascii: "0") + UInt8(digits / scale % 10))
            scale /= 10
        }
    }
}

private let lowerHexDigits: [UInt8] = Array("0123456789abcdef".utf8)
