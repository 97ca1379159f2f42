/// Minimal JSON text building for payloads: escaping and number formatting, no Foundation.
public enum JSONText {
    public static func quoted(_ s: String) -> String {
        // Ids, units and times need no escaping: skip the per-character walk.
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) { return "\"" + s + "\"" }
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + Hex.padded(scalar.value, digits: 4, uppercase: false)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Shortest round-tripping form; integral values without a trailing ".0". Non-finite values have no JSON form.
    /// A value that is exactly a Float (a float32 register) is written in the Float's shortest form: the meter's
    /// 230.2 stays 230.2, not 230.1999969482422.
    public static func number(_ v: Double) -> String {
        precondition(v.isFinite, "JSON has no non-finite numbers")
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        let f = Float(v)
        if f.isFinite, Double(f) == v { return f.description }
        return v.description
    }

    /// Unix seconds with millisecond resolution, as SenML times are written here.
    public static func seconds(milliseconds ms: Int64) -> String {
        let whole = ms.floorDiv(1000)
        let fraction = ms - whole * 1000
        if fraction == 0 { return String(whole) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}
