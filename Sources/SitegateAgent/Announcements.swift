import SitegateBuffer
import SitegateConfig
import SitegateCore

/// The messages besides data: the gateway's retained status (birth and last will), each device's retained meta,
/// and the periodic health report. Their payloads are documented in docs/payload.md.
struct Announcements: Sendable {
    let topics: TopicLayout
    let online: String
    let offline: String
    /// Each device's retained meta, written when it is published: at park scale the payloads (about 3 KiB each,
    /// 6 MiB for 2,000 meters) would otherwise stay in memory between reconnects.
    let metas: [Meta]
    let healthInterval: Duration
    let started: UnixTime
    /// The devices a replay request may name; none when the archive is off (replay requests are refused).
    let deviceIDs: Set<String>
    let replays: Bool

    init(
        topics: TopicLayout, online: String, offline: String, metas: [(topic: String, payload: String)],
        healthInterval: Duration, started: UnixTime, deviceIDs: Set<String> = [], replays: Bool = false
    ) {
        self.deviceIDs = deviceIDs
        self.replays = replays
        self.topics = topics
        self.online = online
        self.offline = offline
        self.metas = metas.map { meta in Meta(topic: meta.topic) { meta.payload } }
        self.healthInterval = healthInterval
        self.started = started
    }

    init(config: SiteConfig, version: String, started: UnixTime) {
        topics = TopicLayout(prefix: config.mqtt.topicPrefix, site: config.site.id, gateway: config.site.gateway)
        self.started = started
        healthInterval = config.mqtt.healthInterval
        deviceIDs = Set(config.devices.map(\.id))
        replays = config.buffer.archives
        let configHash = (try? TextFile.read(config.path)).map(FNV1a.fingerprint) ?? "unknown"
        let status = GatewayStatusMessage(
            state: .online, site: config.site.id, gateway: config.site.gateway, version: version,
            started: "\(started)", configHash: configHash)
        online = status.json
        offline = GatewayStatusMessage(
            state: .offline, site: status.site, gateway: status.gateway, version: version, started: status.started,
            configHash: configHash
        ).json
        let encoder = SenMLEncoder(siteID: config.site.id, gatewayID: config.site.gateway)
        // One read of each map file, not one per device.
        let mapHashes = config.maps.mapValues { map in (try? TextFile.read(map.path)).map(FNV1a.fingerprint) ?? "unknown" }
        let topics = topics
        metas = config.devices.compactMap { device in
            guard let map = config.maps[device.model], let mapHash = mapHashes[device.model] else { return nil }
            let bn = encoder.baseName(device: device.id)
            return Meta(topic: topics.meta(device: device.id)) {
                Self.meta(device: device, map: map, bn: bn, mapHash: mapHash)
            }
        }
    }

    /// A device's meta topic, and its payload on demand.
    struct Meta: Sendable {
        let topic: String
        let payload: @Sendable () -> String
    }

    static func meta(device: DeviceConfig, map: DeviceMap, bn: String, mapHash: String) -> String {
        var intervals: [String: Duration] = [:]
        for group in device.groups {
            for id in group.pointIDs { intervals[id] = min(intervals[id] ?? group.interval, group.interval) }
        }
        let points = map.points.filter { intervals[$0.id] != nil && $0.type.isNumeric }.map { p in
            DeviceMetaMessage.Point(
                n: p.id, u: p.unit, kind: p.kind.rawValue, obis: p.obis,
                intervalSeconds: Double(intervals[p.id]!.milliseconds) / 1000, description: p.description,
                verified: p.verified)
        }
        return DeviceMetaMessage(
            device: device.id, bn: bn, manufacturer: map.manufacturer, models: map.models, medium: map.medium.rawValue,
            serial: device.serialNumber, map: .init(id: map.id, version: map.version, hash: mapHash), bus: device.busID,
            unit: device.unit, points: points
        ).json
    }

    /// The health report: per device read counters and state, per bus measured load, the buffer, the broker.
    func health(_ board: HealthBoard, buffer: BufferStats?, now: UnixTime) -> String {
        let (devices, bufferHealth, broker) = board.snapshot()
        return HealthMessage(
            time: "\(now)", started: "\(started)", devices: devices.mapValues(\.figures),
            buses: board.busFigures(at: now).mapValues(BusLoadFigures.init),
            buffer: BufferFigures(bufferHealth, outbox: buffer, part: .health),
            broker: .init(published: broker.published, node: broker.node)
        ).json
    }
}
