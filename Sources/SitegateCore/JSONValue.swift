/// A small JSON reader for the CLI (the control socket's answers), without Foundation.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var number: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var int: Int? { number.map { Int($0) } }

    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var object: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Parses a JSON document; nil when it is not valid JSON. Depth is limited to 64 levels. A member name that
    /// appears twice in one object makes the document invalid: RFC 8259 leaves it to the parser, and a reader that
    /// kept the first or the last could be shown other values than the verifier checked (docs/evidence.md).
    public static func parse(_ text: String) -> JSONValue? {
        try? parseOrExplain(text).get()
    }

    /// Why a document is not valid JSON, for messages that say so.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses a JSON document, or says why not (a repeated member name, or not JSON at all).
    public static func parseOrExplain(_ text: String) -> Result<JSONValue, ParseError> {
        var parser = Parser(bytes: Array(text.utf8))
        let value = parser.value(depth: 0)
        if let name = parser.duplicate { return .failure(ParseError(description: "duplicate member '\(name)'")) }
        guard let value else { return .failure(ParseError(description: "not valid JSON")) }
        parser.skipSpace()
        return parser.index == parser.bytes.count ? .success(value) : .failure(ParseError(description: "not valid JSON"))
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        /// The first member name found twice in one object.
        var duplicate: String?

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func value(depth: Int) -> JSONValue? {
            guard depth < 64 else { return nil }
            skipSpace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var object: [String: JSONValue] = [:]
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(object)
                }
                while true {
                    skipSpace()
                    guard case .string(let key)? = string(), expect(":"), let v = value(depth: depth + 1) else { return nil }
                    guard object.updateValue(v, forKey: key) == nil else {
                        duplicate = key
                        return nil
                    }
                    skipSpace()
                    if expect(",") { continue }
                    return expect("}") ? .object(object) : nil
                }
            case UInt8(ascii: "["):
                index += 1
                var array: [JSONValue] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(array)
                }
                while true {
                    guard let v = value(depth: depth + 1) else { return nil }
                    array.append(v)
                    skipSpace()
                    if expect(",") { continue }
                    return expect("]") ? .array(array) : nil
                }
            case UInt8(ascii: "\""):
                return string()
            case UInt8(ascii: "t"): return literal("true", .bool(true))
            case UInt8(ascii: "f"): return literal("false", .bool(false))
            case UInt8(ascii: "n"): return literal("null", .null)
            default:
                let start = index
                while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
                return Double(String(decoding: bytes[start..<index], as: UTF8.self)).map(JSONValue.number)
            }
        }

        mutating func expect(_ c: Character) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == c.asciiValue! else { return false }
            index += 1
            return true
        }

        mutating func literal(_ word: String, _ value: JSONValue) -> JSONValue? {
            let w = Array(word.utf8)
            guard index + w.count <= bytes.count, Array(bytes[index..<(index + w.count)]) == w else { return nil }
            index += w.count
            return value
        }

        mutating func string() -> JSONValue? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let b = bytes[index]
                index += 1
                switch b {
                case UInt8(ascii: "\""): return .string(String(decoding: out, as: UTF8.self))
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "n"): out.append(10)
                    case UInt8(ascii: "t"): out.append(9)
                    case UInt8(ascii: "r"): out.append(13)
                    case UInt8(ascii: "b"): out.append(8)
                    case UInt8(ascii: "f"): out.append(12)
                    case UInt8(ascii: "u"):
                        guard index + 4 <= bytes.count,
                            let code = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
                        else { return nil }
                        index += 4
                        out += Array(String(Character(Unicode.Scalar(code) ?? "?")).utf8)
                    default: out.append(e)
                    }
                default: out.append(b)
                }
            }
            return nil
        }
    }
}
