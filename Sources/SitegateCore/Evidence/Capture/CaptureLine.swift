/// One message as `sitegate record` received it: a line of an NDJSON capture (docs/evidence.md, "Verifying a
/// capture"). The payload is kept as the exact bytes the broker delivered.
public struct CaptureLine: Sendable, Hashable {
    public enum Key: String, JSONKey {
        case arrivedMs = "arrived_ms", topic, retain, payload
    }

    /// When the recorder received it, Unix milliseconds (the recorder's clock, not evidence).
    public var arrivedMs: Int64
    public var topic: String
    public var retain: Bool
    public var payload: [UInt8]

    public init(arrivedMs: Int64, topic: String, retain: Bool, payload: [UInt8]) {
        self.arrivedMs = arrivedMs
        self.topic = topic
        self.retain = retain
        self.payload = payload
    }

    /// The line, without its newline; the payload in standard base64 with padding.
    public var json: String {
        JSONObjectWriter.object(
            Key.self,
            [
                .arrivedMs: .integer(arrivedMs), .topic: .string(topic), .retain: .bool(retain),
                .payload: .string(Base64.standard(payload)),
            ])
    }

    /// Why a line of a capture is not a capture line.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Parses one line (without its newline).
    public init(line: String) throws(ParseError) {
        guard let r = JSONObjectReader(JSONValue.parse(line)) else { throw ParseError(reason: "not a JSON object") }
        guard let arrived = r.number(Key.arrivedMs), arrived == arrived.rounded(), abs(arrived) < 9e15 else {
            throw ParseError(reason: "arrived_ms must be an integer (Unix milliseconds)")
        }
        guard let topic = r.string(Key.topic), !topic.isEmpty else { throw ParseError(reason: "topic must be a non-empty string") }
        guard let encoded = r.string(Key.payload), let payload = Base64.decode(encoded) else {
            throw ParseError(reason: "payload must be base64 text")
        }
        self.init(arrivedMs: Int64(arrived), topic: topic, retain: r.bool(Key.retain) ?? false, payload: payload)
    }
}
