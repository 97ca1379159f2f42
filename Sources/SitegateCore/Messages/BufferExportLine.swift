/// One line of `sitegate buffer export --format ndjson`: an unsent message, where it goes, and its payload as the
/// publisher sends it (the stored bytes: JSON, so embedded as is).
public struct BufferExportLine: Sendable {
    public enum Key: String, JSONKey { case seq, topic, device, committedAt = "committed_at", payload }

    public var seq: Int64
    public var topic: String
    /// nil for a message on the gateway's evidence topic.
    public var device: String?
    /// As written: `2026-11-29T04:52:34.557Z`.
    public var committedAt: String
    /// The payload's JSON text.
    public var payload: String

    public init(seq: Int64, topic: String, device: String?, committedAt: String, payload: String) {
        self.seq = seq
        self.topic = topic
        self.device = device
        self.committedAt = committedAt
        self.payload = payload
    }

    public var json: String {
        JSONObjectWriter.object(
            Key.self,
            [
                .seq: .integer(seq), .topic: .string(topic), .device: .string(orNull: device),
                .committedAt: .string(committedAt), .payload: .raw(payload),
            ])
    }
}
