import SitegateBuffer
import SitegateCore

extension StatusReply {
    /// The running agent's state for `sitegate status`: every configured device, each bus's sums, the broker, the
    /// buffer (`stats` nil when the outbox did not answer).
    init(config: SiteConfig, version: String, board: HealthBoard, stats: BufferStats?, now: UnixTime) {
        let (devices, bufferHealth, broker) = board.snapshot()
        let load = board.busFigures(at: now)
        let figures = config.devices.map { devices[$0.id] ?? DeviceHealth() }
        let buses = config.buses.map { bus -> Bus in
            let members = zip(config.devices, figures).filter { $0.0.busID == bus.id }.map(\.1)
            var errors: [String: Int] = [:]
            for m in members { for (k, n) in m.errorsByKind { errors[k, default: 0] += n } }
            return Bus(
                id: bus.id, transport: Self.transport(bus.transport), devices: members.count,
                ok: members.filter { $0.state == .ok }.count, readsOK: members.reduce(0) { $0 + $1.successes },
                errors: errors, load: load[bus.id].map(BusLoadFigures.init))
        }
        self.init(
            site: config.site.id, gateway: config.site.gateway, version: version, time: "\(now)",
            broker: Broker(
                url: broker.node ?? config.mqtt.url(ofNode: 0), nodes: config.mqtt.nodes.indices.map(config.mqtt.url(ofNode:)),
                connected: broker.connected, state: broker.state, connectedAt: broker.connectedAt.map { "\($0)" },
                lostAt: broker.lostAt.map { "\($0)" }, detail: broker.detail, published: broker.published),
            buses: buses,
            devices: zip(config.devices, figures).map { device, h in
                Device(
                    id: device.id, bus: device.busID, unit: device.unit, model: device.model,
                    lastResponseMS: h.lastResponseTime?.milliseconds, health: h.figures)
            },
            buffer: BufferFigures(bufferHealth, outbox: stats, part: .status))
    }

    /// `tcp HOST:PORT` or `rtu DEVICE BAUD 8N1`.
    static func transport(_ t: BusTransport) -> String {
        switch t {
        case .tcp(let host, let port): "tcp \(host):\(port)"
        case .rtu(let device, let baud, let parity, let dataBits, let stopBits):
            "rtu \(device) \(baud) \(dataBits)\(parity.rawValue.prefix(1).uppercased())\(stopBits)"
        }
    }
}

extension BufferFigures {
    /// Which message the figures go in: health names the drops' time range, status the last sequence number.
    enum Part { case health, status }

    init(_ health: HealthBoard.BufferHealth, outbox stats: BufferStats?, part: Part) {
        self.init(
            notCommitted: health.notCommitted, paused: health.paused,
            outbox: stats.map { b in
                Outbox(
                    depth: b.depth, oldest: b.oldestTakenAt.map { "\($0)" }, usedBytes: b.usedBytes, maxBytes: b.maxBytes,
                    drops: b.drops.count,
                    dropRange: part == .health
                        ? DropRange(from: b.drops.oldest.map { "\($0)" }, to: b.drops.newest.map { "\($0)" }) : nil,
                    lastSeq: part == .status ? b.lastSeq : nil)
            })
    }
}
