import SitegateBuffer
import SitegateConfig
import SitegateCore

/// The messages besides data: the gateway's retained status (birth and last will), each device's retained meta,
/// and the periodic health report. Their payloads are documented in docs/payload.md.
struct Announcements: Sendable {
    let topics: TopicLayout
    let online: String
    let offline: String
    let metas: [(topic: String, payload: String)]
    let healthInterval: Duration
    let started: UnixTime

    init(
        topics: TopicLayout, online: String, offline: String, metas: [(topic: String, payload: String)],
        healthInterval: Duration, started: UnixTime
    ) {
        self.topics = topics
        self.online = online
        self.offline = offline
        self.metas = metas
        self.healthInterval = healthInterval
        self.started = started
    }

    init(config: SiteConfig, version: String, started: UnixTime) {
        topics = TopicLayout(prefix: config.mqtt.topicPrefix, site: config.site.id, gateway: config.site.gateway)
        self.started = started
        healthInterval = config.mqtt.healthInterval
        let configHash = (try? TextFile.read(config.path)).map(FNV1a.fingerprint) ?? "unknown"
        let common =
            "\"site\":\(JSONText.quoted(config.site.id)),\"gateway\":\(JSONText.quoted(config.site.gateway)),"
            + "\"version\":\(JSONText.quoted(version)),\"started\":\(JSONText.quoted("\(started)")),"
            + "\"config_hash\":\(JSONText.quoted(configHash))"
        online = "{\"state\":\"online\",\(common)}"
        offline = "{\"state\":\"offline\",\(common)}"
        let encoder = SenMLEncoder(siteID: config.site.id, gatewayID: config.site.gateway)
        metas = config.devices.compactMap { device in
            guard let map = config.maps[device.model] else { return nil }
            return (
                TopicLayout(prefix: config.mqtt.topicPrefix, site: config.site.id, gateway: config.site.gateway)
                    .meta(device: device.id),
                Self.meta(device: device, map: map, bn: encoder.baseName(device: device.id))
            )
        }
    }

    static func meta(device: DeviceConfig, map: DeviceMap, bn: String) -> String {
        let mapHash = (try? TextFile.read(map.path)).map(FNV1a.fingerprint) ?? "unknown"
        var intervals: [String: Duration] = [:]
        for group in device.groups {
            for id in group.pointIDs { intervals[id] = min(intervals[id] ?? group.interval, group.interval) }
        }
        let points = map.points.filter { intervals[$0.id] != nil && $0.type.isNumeric }.map { p in
            var fields = ["\"n\":\(JSONText.quoted(p.id))"]
            if let unit = p.unit { fields.append("\"u\":\(JSONText.quoted(unit))") }
            fields.append("\"kind\":\(JSONText.quoted(p.kind.rawValue))")
            if let obis = p.obis { fields.append("\"obis\":\(JSONText.quoted(obis))") }
            fields.append("\"interval_s\":\(JSONText.number(Double(intervals[p.id]!.milliseconds) / 1000))")
            fields.append("\"description\":\(JSONText.quoted(p.description))")
            if !p.verified { fields.append("\"verified\":false") }
            return "{" + fields.joined(separator: ",") + "}"
        }
        var fields = [
            "\"device\":\(JSONText.quoted(device.id))", "\"bn\":\(JSONText.quoted(bn))",
            "\"manufacturer\":\(JSONText.quoted(map.manufacturer))",
            "\"models\":[" + map.models.map(JSONText.quoted).joined(separator: ",") + "]",
            "\"medium\":\(JSONText.quoted(map.medium.rawValue))",
        ]
        if let serial = device.serialNumber { fields.append("\"serial\":\(JSONText.quoted(serial))") }
        fields.append(
            "\"map\":{\"id\":\(JSONText.quoted(map.id)),\"version\":\(map.version),\"hash\":\(JSONText.quoted(mapHash))}")
        fields.append("\"bus\":\(JSONText.quoted(device.busID)),\"unit\":\(device.unit)")
        fields.append("\"points\":[" + points.joined(separator: ",") + "]")
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// The health report: per device read counters and state, the buffer, the broker connection.
    func health(_ board: HealthBoard, buffer: BufferStats?, now: UnixTime) -> String {
        let (devices, bufferHealth, broker) = board.snapshot()
        let deviceFields = devices.keys.sorted().map { id in
            "\(JSONText.quoted(id)):{\(devices[id]!.jsonFields().joined(separator: ","))}"
        }
        var bufferFields = [
            "\"not_committed\":\(bufferHealth.notCommitted)", "\"paused\":\(bufferHealth.paused)",
        ]
        if let b = buffer {
            bufferFields += [
                "\"depth\":\(b.depth)",
                "\"oldest\":" + (b.oldestTakenAt.map { JSONText.quoted("\($0)") } ?? "null"),
                "\"used_bytes\":\(b.usedBytes)", "\"max_bytes\":\(b.maxBytes)", "\"drops\":\(b.drops.count)",
                "\"drops_from\":" + (b.drops.oldest.map { JSONText.quoted("\($0)") } ?? "null"),
                "\"drops_to\":" + (b.drops.newest.map { JSONText.quoted("\($0)") } ?? "null"),
            ]
        }
        return "{\"time\":\(JSONText.quoted("\(now)")),\"started\":\(JSONText.quoted("\(started)")),"
            + "\"devices\":{\(deviceFields.joined(separator: ","))},\"buffer\":{\(bufferFields.joined(separator: ","))},"
            + "\"broker\":{\"published\":\(broker.published),\"node\":" + (broker.node.map(JSONText.quoted) ?? "null") + "}}"
    }
}
