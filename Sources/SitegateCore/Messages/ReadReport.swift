/// The answer to `sitegate read DEVICE` (from the agent's control socket or a direct read): every point with its
/// raw registers, value and status.
public struct ReadReport: JSONMessage, Hashable {
    public enum Key: String, JSONKey {
        case device, model, unit, bus, transactions, takenAt = "taken_at", errors, points
    }

    public struct Point: Sendable, Hashable {
        public enum Key: String, JSONKey {
            case id, address, function, type, unit, range, raw, value, text, status, outOfRange = "out_of_range"
        }
        public var id: String
        public var address: Int
        public var function: String
        public var type: String
        public var unit: String?
        /// The device map's plausible range.
        public var range: ClosedRange<Double>?
        /// The registers as read, `0000 43E6`.
        public var raw: String?
        public var value: Double?
        public var text: String?
        /// `ok`, `invalid`, `refused` or `no answer`.
        public var status: String
        /// The meter answered, but no such meter shows this value: a wrong word order, scale or map.
        public var outOfRange: Bool

        public init(
            id: String, address: Int, function: String, type: String, unit: String? = nil,
            range: ClosedRange<Double>? = nil, raw: String? = nil, value: Double? = nil, text: String? = nil,
            status: String, outOfRange: Bool = false
        ) {
            self.id = id
            self.address = address
            self.function = function
            self.type = type
            self.unit = unit
            self.range = range
            self.raw = raw
            self.value = value
            self.text = text
            self.status = status
            self.outOfRange = outOfRange
        }
    }

    public var device: String
    public var model: String
    public var unit: Int
    public var bus: String
    public var transactions: Int
    /// As written; nil when nothing was read.
    public var takenAt: String?
    public var errors: [String]
    public var points: [Point]

    public init(
        device: String, model: String, unit: Int, bus: String, transactions: Int, takenAt: String?, errors: [String],
        points: [Point]
    ) {
        self.device = device
        self.model = model
        self.unit = unit
        self.bus = bus
        self.transactions = transactions
        self.takenAt = takenAt
        self.errors = errors
        self.points = points
    }

    public var json: String {
        JSONObjectWriter.object(
            Key.self,
            [
                .device: .string(device), .model: .string(model), .unit: .int(unit), .bus: .string(bus),
                .transactions: .int(transactions), .takenAt: .string(orNull: takenAt), .errors: .strings(errors),
                .points: .raw(JSONText.array(points.map(\.json))),
            ])
    }

    public init?(fields r: JSONObjectReader) {
        guard let device = r.string(Key.device) else { return nil }
        self.init(
            device: device, model: r.string(Key.model) ?? "?", unit: r.int(Key.unit) ?? 0, bus: r.string(Key.bus) ?? "?",
            transactions: r.int(Key.transactions) ?? 0, takenAt: r.string(Key.takenAt), errors: r.strings(Key.errors),
            points: r.array(Key.points).compactMap { JSONObjectReader($0).map(Point.init(fields:)) })
    }
}

extension ReadReport.Point {
    public var json: String {
        let bounds = range.map { JSONField.raw(JSONText.array([JSONText.number($0.lowerBound), JSONText.number($0.upperBound)])) }
        // The value or text first, then the status; out_of_range only for a number, and only when true.
        return JSONObjectWriter.object(
            Key.self,
            [
                .id: .string(id), .address: .int(address), .function: .string(function), .type: .string(type),
                .unit: unit.map(JSONField.string), .range: bounds, .raw: raw.map(JSONField.string),
                .value: value.map(JSONField.number), .text: value == nil ? text.map(JSONField.string) : nil,
                .status: .string(status), .outOfRange: value != nil && outOfRange ? .bool(true) : nil,
            ])
    }

    public init(fields r: JSONObjectReader) {
        let bounds = r.array(Key.range).compactMap(\.number)
        self.init(
            id: r.string(Key.id) ?? "?", address: r.int(Key.address) ?? 0, function: r.string(Key.function) ?? "",
            type: r.string(Key.type) ?? "", unit: r.string(Key.unit),
            range: bounds.count == 2 && bounds[0] <= bounds[1] ? bounds[0]...bounds[1] : nil, raw: r.string(Key.raw),
            value: r.number(Key.value), text: r.string(Key.text), status: r.string(Key.status) ?? "",
            outOfRange: r.bool(Key.outOfRange) ?? false)
    }
}
