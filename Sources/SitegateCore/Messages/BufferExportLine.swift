/// One line of `sitegate buffer export --format ndjson`: an unsent poll, where it would go, and its SenML pack as
/// the publisher would send it. Written only: the pack inside is SenMLEncoder's, byte for byte.
public struct BufferExportLine: Sendable {
    public enum Key: String, JSONKey { case seq, topic, device, takenAt = "taken_at", senml }

    public var seq: Int64
    public var topic: String
    public var device: String
    /// As written: `2026-11-29T04:52:34.557Z`.
    public var takenAt: String
    /// The SenML pack's JSON text.
    public var senml: String

    public init(seq: Int64, topic: String, device: String, takenAt: String, senml: String) {
        self.seq = seq
        self.topic = topic
        self.device = device
        self.takenAt = takenAt
        self.senml = senml
    }

    public var json: String {
        JSONObjectWriter.object(
            Key.self,
            [
                .seq: .integer(seq), .topic: .string(topic), .device: .string(device), .takenAt: .string(takenAt),
                .senml: .raw(senml),
            ])
    }
}
