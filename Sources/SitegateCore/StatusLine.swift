/// The one-line STATUS= text for systemd ("2/2 devices answering, backlog 0, broker connected to mqtt://b:1883"),
/// and what makes a new one worth sending.
public struct StatusLine: Sendable, Hashable {
    /// What the line shows, with the backlog as its band: the exact depth changes with every poll and is only
    /// refreshed with the watchdog ping; a band crossing (or anything else here changing) is news at once.
    public struct Key: Sendable, Hashable {
        public var devicesOK: Int
        public var devicesTotal: Int
        public var backlogBand: Int
        public var broker: String
        public var drops: Int
        public var stalled: [String]
    }

    public var key: Key
    public var backlog: Int64

    /// `broker` as the line shows it: "connected to mqtt://b:1883", "disconnected (...)".
    public init(devicesOK: Int, devicesTotal: Int, backlog: Int64, broker: String, drops: Int, stalled: [String]) {
        self.backlog = backlog
        key = Key(
            devicesOK: devicesOK, devicesTotal: devicesTotal, backlogBand: Self.band(backlog),
            broker: broker, drops: drops, stalled: stalled)
    }

    public var text: String {
        var text = "\(key.devicesOK)/\(key.devicesTotal) devices answering, backlog \(backlog), broker \(key.broker)"
        if key.drops > 0 { text += ", \(key.drops) dropped" }
        if !key.stalled.isEmpty { text += "; STALLED: \(key.stalled.joined(separator: ", "))" }
        return text
    }

    /// 0 for an empty backlog, 1 below 100, then one band per decade (100-999, 1000-9999, ...).
    public static func band(_ depth: Int64) -> Int {
        guard depth > 0 else { return 0 }
        var band = 1
        var bound: Int64 = 100
        while depth >= bound && bound < Int64.max / 10 {
            band += 1
            bound *= 10
        }
        return band
    }
}
