/// A message's keys: one `String` enum per message type, so that each key is spelled once and the writer and the
/// reader cannot disagree. `CaseIterable` lets the tests compare the keys with the schemas in docs/.
public protocol JSONKey: RawRepresentable, CaseIterable, Sendable where RawValue == String {}

/// Writes one JSON object, fields in the order they are added (the order docs/payload.md shows). Built on
/// `JSONText`: no Foundation, and the same bytes the hand-written payloads had.
public struct JSONObjectWriter: Sendable {
    private var fields: [String] = []

    public init() {}

    /// The object's text, `{...}`.
    public var text: String { "{" + fields.joined(separator: ",") + "}" }

    /// A value that is already JSON text (a nested object or array).
    public mutating func raw(_ key: some JSONKey, _ json: String) {
        fields.append(JSONText.quoted(key.rawValue) + ":" + json)
    }

    public mutating func string(_ key: some JSONKey, _ value: String) { raw(key, JSONText.quoted(value)) }

    /// `null` when absent: the key is always there.
    public mutating func string(_ key: some JSONKey, orNull value: String?) {
        raw(key, value.map(JSONText.quoted) ?? "null")
    }

    public mutating func int(_ key: some JSONKey, _ value: some BinaryInteger) { raw(key, "\(value)") }

    public mutating func int(_ key: some JSONKey, orNull value: Int64?) { raw(key, value.map { "\($0)" } ?? "null") }

    public mutating func number(_ key: some JSONKey, _ value: Double) { raw(key, JSONText.number(value)) }

    public mutating func bool(_ key: some JSONKey, _ value: Bool) { raw(key, value ? "true" : "false") }

    public mutating func strings(_ key: some JSONKey, _ values: [String]) {
        raw(key, JSONText.array(values.map(JSONText.quoted)))
    }

    /// Counts by name, names sorted (error counts by kind).
    public mutating func counts(_ key: some JSONKey, _ counts: [String: Int]) {
        raw(key, "{" + counts.keys.sorted().map { JSONText.quoted($0) + ":\(counts[$0]!)" }.joined(separator: ",") + "}")
    }
}

extension JSONText {
    /// `[a,b,...]` from elements that are already JSON text.
    public static func array(_ elements: [String]) -> String { "[" + elements.joined(separator: ",") + "]" }
}
