extension StatusReply {
    public var json: String {
        var w = JSONObjectWriter()
        w.string(Key.site, site)
        w.string(Key.gateway, gateway)
        w.string(Key.version, version)
        w.string(Key.time, time)
        w.raw(Key.broker, broker.json)
        w.raw(Key.buses, JSONText.array(buses.map(\.json)))
        w.raw(Key.devices, JSONText.array(devices.map(\.json)))
        w.raw(Key.buffer, buffer.json)
        return w.text
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
        var w = JSONObjectWriter()
        w.string(Key.url, url)
        w.strings(Key.nodes, nodes)
        w.bool(Key.connected, connected)
        if let state { w.string(Key.state, state) }
        w.string(Key.connectedAt, orNull: connectedAt)
        w.string(Key.lostAt, orNull: lostAt)
        w.string(Key.detail, detail)
        w.int(Key.published, published)
        return w.text
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
        w.string(Key.id, id)
        w.string(Key.transport, transport)
        w.int(Key.devices, devices)
        w.int(Key.ok, ok)
        w.int(Key.readsOK, readsOK)
        w.counts(Key.errors, errors)
        return w.text
    }

    public init(fields r: JSONObjectReader) {
        self.init(
            id: r.string(Key.id) ?? "?", transport: r.string(Key.transport) ?? "", devices: r.int(Key.devices) ?? 0,
            ok: r.int(Key.ok) ?? 0, readsOK: r.int(Key.readsOK) ?? 0, errors: r.counts(Key.errors))
    }
}

extension StatusReply.Device {
    public var json: String {
        var w = JSONObjectWriter()
        w.string(Key.id, id)
        w.string(Key.bus, bus)
        w.int(Key.unit, unit)
        w.string(Key.model, model)
        w.int(Key.lastResponseMS, orNull: lastResponseMS)
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
