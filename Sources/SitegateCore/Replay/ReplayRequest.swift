/// A request for archived messages, on `{prefix}/{site}/{gateway}/replay/request` (docs/evidence.md, "Replay"):
/// `{"id":"r-17","ranges":[[from,to],...],"devices":["m1"],"from":1764547200,"to":1764550800}`.
public struct ReplayRequest: Sendable, Hashable {
    public enum Key: String, JSONKey { case id, ranges, devices, from, to }

    public var id: String
    public var ranges: SeqRanges
    /// Only these devices' data messages (evidence messages always); nil for all.
    public var devices: Set<String>?
    /// Only messages whose time (`bt`, or an evidence message's `time`) lies in this range, in milliseconds.
    public var timeRange: ClosedRange<Int64>?

    public init(id: String, ranges: SeqRanges, devices: Set<String>? = nil, timeRange: ClosedRange<Int64>? = nil) {
        self.id = id
        self.ranges = ranges
        self.devices = devices
        self.timeRange = timeRange
    }

    /// The request as a backend (or `sitegate replay`) sends it.
    public var json: String {
        var w = JSONObjectWriter()
        w.add(Key.self, [.id: .string(id), .ranges: .raw(ranges.json)])
        if let devices { w.add(Key.self, [.devices: .strings(devices.sorted())]) }
        if let timeRange {
            w.add(
                Key.self,
                [
                    .from: .raw(JSONText.seconds(milliseconds: timeRange.lowerBound)),
                    .to: .raw(JSONText.seconds(milliseconds: timeRange.upperBound)),
                ])
        }
        return w.text
    }

    /// Why a request is refused: the text of the error answer.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        public var id: String?
        public var description: String

        public init(id: String?, description: String) {
            self.id = id
            self.description = description
        }
    }

    /// Parses and checks a request against `limits` and the configured devices.
    public static func parse(_ payload: [UInt8], limits: ReplayLimits, knownDevices: Set<String>) -> Result<ReplayRequest, Refusal> {
        guard payload.count <= limits.maxRequestBytes else {
            return .failure(Refusal(id: nil, description: "request of \(payload.count) bytes; at most \(limits.maxRequestBytes)"))
        }
        guard let fields = JSONObjectReader(JSONValue.parse(String(decoding: payload, as: UTF8.self))) else {
            return .failure(Refusal(id: nil, description: "not a JSON object"))
        }
        guard let id = fields.string(Key.id), Self.isValidID(id) else {
            return .failure(Refusal(id: nil, description: "'id' must be 1 to 64 characters of A-Z a-z 0-9 . _ - (not 'request')"))
        }
        func refuse(_ text: String) -> Result<ReplayRequest, Refusal> { .failure(Refusal(id: id, description: text)) }
        guard let raw = SeqRanges.parse(fields.value(Key.ranges)), !raw.isEmpty else {
            return refuse("'ranges' must be a non-empty array of [from, to] pairs of sequence numbers")
        }
        guard raw.count <= limits.maxRanges else { return refuse("\(raw.count) ranges; at most \(limits.maxRanges)") }
        if let bad = raw.first(where: { $0.lowerBound < 1 }) {
            return refuse("sequence numbers start at 1, found \(bad.lowerBound)")
        }
        if let big = raw.first(where: { $0.upperBound - $0.lowerBound + 1 > limits.maxRangeLength }) {
            return refuse("range [\(big.lowerBound), \(big.upperBound)] spans more than \(limits.maxRangeLength) numbers")
        }
        let ranges = SeqRanges(raw)
        guard ranges.count <= limits.maxTotal else { return refuse("\(ranges.count) numbers in all; at most \(limits.maxTotal)") }
        var devices: Set<String>?
        if fields.has(Key.devices) {
            guard let list = fields.value(Key.devices)?.array, list.allSatisfy({ $0.string != nil }) else {
                return refuse("'devices' must be an array of device ids")
            }
            let names = Set(list.compactMap(\.string))
            if let unknown = names.subtracting(knownDevices).sorted().first { return refuse("unknown device '\(unknown)'") }
            devices = names
        }
        var timeRange: ClosedRange<Int64>?
        if fields.has(Key.from) || fields.has(Key.to) {
            let from = fields.value(Key.from).map { $0.number }
            let to = fields.value(Key.to).map { $0.number }
            guard let f = from ?? 0, let t = to ?? Double(Int64.max / 1000), f.isFinite, t.isFinite, f >= 0, f <= t else {
                return refuse("'from' and 'to' must be Unix times in seconds, from <= to")
            }
            timeRange = Int64(f * 1000)...Int64(min(t * 1000, Double(Int64.max / 2)))
        }
        return .success(ReplayRequest(id: id, ranges: ranges, devices: devices, timeRange: timeRange))
    }

    /// Ids are part of the answer's topic: no wildcards or levels, and not the request topic's own name.
    public static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id != "request"
            && id.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F
                    || c == 0x2D
            }
    }
}

/// What the gateway allows a replay request (docs/evidence.md, "Replay"): bounded work, so that requests cannot
/// crowd out live data.
public struct ReplayLimits: Sendable, Hashable {
    public var maxRequestBytes = 16 * 1024
    public var maxRanges = 256
    /// The largest single range, in sequence numbers.
    public var maxRangeLength: Int64 = 200_000
    /// All ranges of one request together.
    public var maxTotal: Int64 = 500_000
    /// Requests being served or waiting.
    public var maxPending = 4
    /// Requests accepted per minute (refused ones count too: a flood is answered cheaply, then not at all).
    public var maxPerMinute = 30
    /// Replayed messages awaiting their PUBACK at a time: their own share, outside the live window.
    public var inflight = 10
    /// Replayed messages per second at most.
    public var perSecond = 500

    public init() {}
}
