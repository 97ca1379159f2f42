extension StatusReply {
    public var json: String {
        JSONObjectWriter.object(
            Key.self,
            [
                .site: .string(site), .gateway: .string(gateway), .version: .string(version), .time: .string(time),
                .broker: .raw(broker.json), .buses: .raw(JSONText.array(buses.map(\.json))),
                .devices: .raw(JSONText.array(devices.map(\.json))), .buffer: .raw(buffer.json),
            ])
    }

    public init?(fields r: JSONObjectReader) {
        guard let site = r.string(Key.site), let broker = r.object(Key.broker).map(Broker.init(fields:)) else { return nil }
        self.init(
            site: site, gateway: r.string(Key.gateway) ?? "?", version: r.string(Key.version) ?? "?",
            time: r.string(Key.time) ?? "", broker: broker,
            buses: r.array(Key.buses).compactMap { JSONObjectReader($0).map(Bus.init(fields:)) },
            devices: r.array(Key.devices).compactMap { JSONObjectReader($0).map(Device.init(fields:)) },
            buffer: r.object(Key.buffer).map(BufferFigures.init(fields:)) ?? BufferFigures(notCommitted: 0, paused: false, outbox: nil))
    }
}

extension StatusReply.Broker {
    public var json: String {
        JSONObjectWriter.object(
            Key.self,
            [
                .url: .string(url), .nodes: .strings(nodes), .connected: .bool(connected), .state: state.map(JSONField.string),
                .connectedAt: .string(orNull: connectedAt), .lostAt: .string(orNull: lostAt), .detail: .string(detail),
                .published: .int(published),
            ])
    }

    public init(fields r: JSONObjectReader) {
        self.init(
            url: r.string(Key.url) ?? "?", nodes: r.strings(Key.nodes), connected: r.bool(Key.connected) ?? false,
            state: r.string(Key.state), connectedAt: r.string(Key.connectedAt), lostAt: r.string(Key.lostAt),
            detail: r.string(Key.detail) ?? "", published: r.int(Key.published) ?? 0)
    }
}

extension StatusReply.Bus {
    public var json: String {
        var w = JSONObjectWriter()
        w.add(
            Key.self,
            [
                .id: .string(id), .transport: .string(transport), .devices: .int(devices), .ok: .int(ok),
                .readsOK: .int(readsOK), .errors: .counts(errors),
            ])
        load?.write(into: &w)
        return w.text
    }

    public init(fields r: JSONObjectReader) {
        self.init(
            id: r.string(Key.id) ?? "?", transport: r.string(Key.transport) ?? "", devices: r.int(Key.devices) ?? 0,
            ok: r.int(Key.ok) ?? 0, readsOK: r.int(Key.readsOK) ?? 0, errors: r.counts(Key.errors),
            load: BusLoadFigures(fields: r))
    }
}

extension StatusReply.Device {
    public var json: String {
        var w = JSONObjectWriter()
        w.add(
            Key.self,
            [
                .id: .string(id), .bus: .string(bus), .unit: .int(unit), .model: .string(model),
                .lastResponseMS: .int(orNull: lastResponseMS),
            ])
        health.write(into: &w)
        return w.text
    }

    public init(fields r: JSONObjectReader) {
        self.init(
            id: r.string(Key.id) ?? "?", bus: r.string(Key.bus) ?? "", unit: r.int(Key.unit) ?? 0,
            model: r.string(Key.model) ?? "", lastResponseMS: r.int64(Key.lastResponseMS),
            health: DeviceHealthFigures(fields: r))
    }
}
