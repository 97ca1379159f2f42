/// Reads a message's fields back from a parsed JSON object, by the same keys its writer used. Lenient like the
/// CLI has to be with an older or newer agent: a missing or mistyped field is nil, and the message type decides
/// which fields it needs.
public struct JSONObjectReader: Sendable {
    public let fields: [String: JSONValue]

    /// nil when `value` is not an object.
    public init?(_ value: JSONValue?) {
        guard let object = value?.object else { return nil }
        fields = object
    }

    public func has(_ key: some JSONKey) -> Bool { fields[key.rawValue] != nil }
    public func value(_ key: some JSONKey) -> JSONValue? { fields[key.rawValue] }
    public func string(_ key: some JSONKey) -> String? { fields[key.rawValue]?.string }
    public func int(_ key: some JSONKey) -> Int? { fields[key.rawValue]?.int }
    public func int64(_ key: some JSONKey) -> Int64? { fields[key.rawValue]?.number.map { Int64($0) } }
    public func number(_ key: some JSONKey) -> Double? { fields[key.rawValue]?.number }
    public func bool(_ key: some JSONKey) -> Bool? { fields[key.rawValue]?.bool }
    public func array(_ key: some JSONKey) -> [JSONValue] { fields[key.rawValue]?.array ?? [] }
    public func strings(_ key: some JSONKey) -> [String] { array(key).compactMap(\.string) }
    public func object(_ key: some JSONKey) -> JSONObjectReader? { JSONObjectReader(fields[key.rawValue]) }

    /// Counts by name; entries that are not numbers are left out.
    public func counts(_ key: some JSONKey) -> [String: Int] {
        (fields[key.rawValue]?.object ?? [:]).compactMapValues(\.int)
    }
}

/// A message that writes itself as one JSON object and reads itself back from a parsed one.
public protocol JSONMessage: Sendable {
    /// The JSON text, as sent on the wire.
    var json: String { get }
    /// nil when `fields` lacks what the message cannot do without.
    init?(fields: JSONObjectReader)
}

extension JSONMessage {
    /// Parses `text`; nil when it is not JSON or not this message.
    public init?(json text: String) {
        guard let fields = JSONObjectReader(JSONValue.parse(text)) else { return nil }
        self.init(fields: fields)
    }
}
