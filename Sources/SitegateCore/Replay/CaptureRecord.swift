/// One line of an NDJSON capture (`sitegate record`, `sitegate replay --capture`; docs/evidence.md, "Verifying a
/// capture"): a message exactly as received, with its topic and arrival time.
public struct CaptureRecord: JSONMessage, Hashable {
    public enum Key: String, JSONKey { case arrivedMs = "arrived_ms", topic, retain, payload }

    public var arrivedAt: UnixTime
    public var topic: String
    public var retain: Bool
    public var payload: [UInt8]

    public init(arrivedAt: UnixTime, topic: String, retain: Bool, payload: [UInt8]) {
        self.arrivedAt = arrivedAt
        self.topic = topic
        self.retain = retain
        self.payload = payload
    }

    public var json: String {
        JSONObjectWriter.object(
            Key.self,
            [
                .arrivedMs: .integer(arrivedAt.milliseconds), .topic: .string(topic), .retain: .bool(retain),
                .payload: .string(Base64.standard(payload)),
            ])
    }

    public init?(fields r: JSONObjectReader) {
        guard let ms = r.int64(Key.arrivedMs), let topic = r.string(Key.topic),
            let payload = r.string(Key.payload).flatMap(Base64.decode)
        else { return nil }
        self.init(arrivedAt: UnixTime(milliseconds: ms), topic: topic, retain: r.bool(Key.retain) ?? false, payload: payload)
    }
}
