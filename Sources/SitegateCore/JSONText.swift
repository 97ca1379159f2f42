/// Minimal JSON text building for payloads: escaping and number formatting, no Foundation. The same text as the
/// byte writers in `JSONBytes.swift`, which it is built on.
public enum JSONText {
    public static func quoted(_ s: String) -> String {
        text { $0.appendJSONString(s) }
    }

    /// Shortest round-tripping form; integral values without a trailing ".0". Non-finite values have no JSON form.
    /// A value that is exactly a Float (a float32 register) is written in the Float's shortest form: the meter's
    /// 230.2 stays 230.2, not 230.1999969482422.
    public static func number(_ v: Double) -> String {
        text { $0.appendJSONNumber(v) }
    }

    /// Unix seconds with millisecond resolution, as SenML times are written here.
    public static func seconds(milliseconds ms: Int64) -> String {
        text { $0.appendSeconds(milliseconds: ms) }
    }

    private static func text(_ write: (inout [UInt8]) -> Void) -> String {
        var bytes: [UInt8] = []
        write(&bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
