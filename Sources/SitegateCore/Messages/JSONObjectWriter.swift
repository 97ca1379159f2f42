/// A message's keys: one `String` enum per message type, so that each key is spelled once and the writer and the
/// reader cannot disagree. `CaseIterable` lets the tests compare the keys with the schemas in docs/.
public protocol JSONKey: RawRepresentable, CaseIterable, Sendable where RawValue == String {}

/// One field's value as a message writes it.
public enum JSONField: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case null
    case strings([String])
    /// Counts by name, written with the names sorted (error counts by kind).
    case counts([String: Int])
    /// Already JSON text: a nested object or array.
    case raw(String)

    public static func int(_ v: some BinaryInteger) -> JSONField { .integer(Int64(v)) }
    /// `null` when absent: the key is always there.
    public static func string(orNull s: String?) -> JSONField { s.map(JSONField.string) ?? .null }
    public static func int(orNull v: Int64?) -> JSONField { v.map(JSONField.integer) ?? .null }

    public var text: String {
        switch self {
        case .string(let s): JSONText.quoted(s)
        case .integer(let n): String(n)
        case .number(let v): JSONText.number(v)
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        case .strings(let a): JSONText.array(a.map(JSONText.quoted))
        case .counts(let c): "{" + c.keys.sorted().map { JSONText.quoted($0) + ":\(c[$0]!)" }.joined(separator: ",") + "}"
        case .raw(let json): json
        }
    }
}

/// Writes one JSON object, fields in the order they are added (the order docs/payload.md shows). Built on
/// `JSONText`: no Foundation, and the same bytes the hand-written payloads had.
public struct JSONObjectWriter: Sendable {
    private var fields: [String] = []

    public init() {}

    /// The object's text, `{...}`.
    public var text: String { "{" + fields.joined(separator: ",") + "}" }

    /// The fields without the braces, for a message whose bytes are completed later (`MessageDraft`).
    public var members: String { fields.joined(separator: ",") }

    /// Adds the fields in order; a nil value leaves its key out.
    public mutating func add<K: JSONKey>(_: K.Type, _ pairs: KeyValuePairs<K, JSONField?>) {
        for (key, value) in pairs {
            if let value { fields.append(JSONText.quoted(key.rawValue) + ":" + value.text) }
        }
    }

    /// One object from its fields in order; a nil value leaves its key out.
    public static func object<K: JSONKey>(_ keys: K.Type, _ pairs: KeyValuePairs<K, JSONField?>) -> String {
        var w = JSONObjectWriter()
        w.add(keys, pairs)
        return w.text
    }
}

extension JSONText {
    /// `[a,b,...]` from elements that are already JSON text.
    public static func array(_ elements: [String]) -> String { "[" + elements.joined(separator: ",") + "]" }
}
