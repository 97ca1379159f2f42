/// A device's retained meta, on {prefix}/{site}/{gateway}/{device}/meta: what the meter is and what its points
/// mean. docs/payload.md; `meta` in docs/gateway-messages.schema.json.
public struct DeviceMetaMessage: JSONMessage, Hashable {
    public enum Key: String, JSONKey {
        case device, bn, manufacturer, models, medium, serial, map, bus, unit, points
    }

    /// Which device map describes the meter, and the map file's fingerprint.
    public struct MapRef: Sendable, Hashable {
        public enum Key: String, JSONKey { case id, version, hash }
        public var id: String
        public var version: Int
        public var hash: String

        public init(id: String, version: Int, hash: String) {
            self.id = id
            self.version = version
            self.hash = hash
        }
    }

    public struct Point: Sendable, Hashable {
        public enum Key: String, JSONKey {
            case n, u, kind, obis, intervalSeconds = "interval_s", description, verified
        }
        public var n: String
        public var u: String?
        public var kind: String
        public var obis: String?
        public var intervalSeconds: Double
        public var description: String
        /// Written only when false: an unverified point says so.
        public var verified: Bool

        public init(
            n: String, u: String?, kind: String, obis: String?, intervalSeconds: Double, description: String,
            verified: Bool
        ) {
            self.n = n
            self.u = u
            self.kind = kind
            self.obis = obis
            self.intervalSeconds = intervalSeconds
            self.description = description
            self.verified = verified
        }
    }

    public var device: String
    public var bn: String
    public var manufacturer: String
    public var models: [String]
    public var medium: String
    public var serial: String?
    public var map: MapRef
    public var bus: String
    public var unit: Int
    public var points: [Point]

    public init(
        device: String, bn: String, manufacturer: String, models: [String], medium: String, serial: String?,
        map: MapRef, bus: String, unit: Int, points: [Point]
    ) {
        self.device = device
        self.bn = bn
        self.manufacturer = manufacturer
        self.models = models
        self.medium = medium
        self.serial = serial
        self.map = map
        self.bus = bus
        self.unit = unit
        self.points = points
    }
}

extension DeviceMetaMessage {
    public var json: String {
        let mapRef = JSONObjectWriter.object(
            MapRef.Key.self, [.id: .string(map.id), .version: .int(map.version), .hash: .string(map.hash)])
        return JSONObjectWriter.object(
            Key.self,
            [
                .device: .string(device), .bn: .string(bn), .manufacturer: .string(manufacturer), .models: .strings(models),
                .medium: .string(medium), .serial: serial.map(JSONField.string), .map: .raw(mapRef), .bus: .string(bus),
                .unit: .int(unit), .points: .raw(JSONText.array(points.map(\.json))),
            ])
    }

    public init?(fields r: JSONObjectReader) {
        guard let device = r.string(Key.device), let bn = r.string(Key.bn), let m = r.object(Key.map),
            let mapID = m.string(MapRef.Key.id)
        else { return nil }
        self.init(
            device: device, bn: bn, manufacturer: r.string(Key.manufacturer) ?? "", models: r.strings(Key.models),
            medium: r.string(Key.medium) ?? "other", serial: r.string(Key.serial),
            map: MapRef(id: mapID, version: m.int(MapRef.Key.version) ?? 0, hash: m.string(MapRef.Key.hash) ?? "unknown"),
            bus: r.string(Key.bus) ?? "", unit: r.int(Key.unit) ?? 0,
            points: r.array(Key.points).compactMap { JSONObjectReader($0).flatMap(Point.init(fields:)) })
    }
}

extension DeviceMetaMessage.Point {
    public var json: String {
        JSONObjectWriter.object(
            Key.self,
            [
                .n: .string(n), .u: u.map(JSONField.string), .kind: .string(kind), .obis: obis.map(JSONField.string),
                .intervalSeconds: .number(intervalSeconds), .description: .string(description),
                // Only an unverified point says so.
                .verified: verified ? nil : .bool(false),
            ])
    }

    public init?(fields r: JSONObjectReader) {
        guard let n = r.string(Key.n), let kind = r.string(Key.kind) else { return nil }
        self.init(
            n: n, u: r.string(Key.u), kind: kind, obis: r.string(Key.obis),
            intervalSeconds: r.number(Key.intervalSeconds) ?? 0, description: r.string(Key.description) ?? "",
            verified: r.bool(Key.verified) ?? true)
    }
}
