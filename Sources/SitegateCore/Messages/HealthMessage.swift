/// The periodic health report on {prefix}/{site}/{gateway}/health: per device read counters and state, the
/// buffer, the broker connection. docs/payload.md; `health` in docs/gateway-messages.schema.json.
public struct HealthMessage: JSONMessage, Hashable {
    public enum Key: String, JSONKey { case time, started, devices, buses, buffer, broker }

    public struct Broker: Sendable, Hashable {
        public enum Key: String, JSONKey { case published, node }
        public var published: Int
        /// The node in use (its URL); null before the first attempt.
        public var node: String?

        public init(published: Int, node: String?) {
            self.published = published
            self.node = node
        }
    }

    /// As written: `2026-11-29T04:52:34.557Z`.
    public var time: String
    public var started: String
    /// By device id; written sorted by id.
    public var devices: [String: DeviceHealthFigures]
    /// By bus id; written sorted by id. Empty from agents that do not measure their buses.
    public var buses: [String: BusLoadFigures]
    public var buffer: BufferFigures
    public var broker: Broker

    public init(
        time: String, started: String, devices: [String: DeviceHealthFigures], buses: [String: BusLoadFigures] = [:],
        buffer: BufferFigures, broker: Broker
    ) {
        self.time = time
        self.started = started
        self.devices = devices
        self.buses = buses
        self.buffer = buffer
        self.broker = broker
    }

    public var json: String {
        func byID<T>(_ entries: [String: T], _ write: (T, inout JSONObjectWriter) -> Void) -> JSONField {
            .raw("{" + entries.keys.sorted().map { id in
                var w = JSONObjectWriter()
                write(entries[id]!, &w)
                return JSONText.quoted(id) + ":" + w.text
            }.joined(separator: ",") + "}")
        }
        let brokerFields = JSONObjectWriter.object(
            Broker.Key.self, [.published: .int(broker.published), .node: .string(orNull: broker.node)])
        return JSONObjectWriter.object(
            Key.self,
            [
                .time: .string(time), .started: .string(started), .devices: byID(devices) { $0.write(into: &$1) },
                .buses: byID(buses) { $0.write(into: &$1) },
                .buffer: .raw(buffer.json), .broker: .raw(brokerFields),
            ])
    }

    public init?(fields r: JSONObjectReader) {
        guard let time = r.string(Key.time), let devices = r.object(Key.devices) else { return nil }
        let broker = r.object(Key.broker)
        self.init(
            time: time, started: r.string(Key.started) ?? "",
            devices: devices.fields.compactMapValues { JSONObjectReader($0).map(DeviceHealthFigures.init(fields:)) },
            buses: (r.object(Key.buses)?.fields ?? [:]).compactMapValues { JSONObjectReader($0).flatMap(BusLoadFigures.init(fields:)) },
            buffer: r.object(Key.buffer).map(BufferFigures.init(fields:)) ?? BufferFigures(notCommitted: 0, paused: false, outbox: nil),
            broker: Broker(published: broker?.int(Broker.Key.published) ?? 0, node: broker?.string(Broker.Key.node)))
    }
}
