/// A `checkpoint` evidence message read back (docs/evidence.md, "Checkpoints"). Lenient: a count that is absent
/// is 0, so a checkpoint of an older or newer agent still reads.
public struct CheckpointRecord: Sendable, Hashable {
    public enum Key: String, JSONKey { case slot, devices }
    public enum SlotKey: String, JSONKey { case start, end }
    public enum DeviceKey: String, JSONKey {
        case due, full, partial, failed, missed, firstSeq = "first_seq", lastSeq = "last_seq"
    }

    public struct Device: Sendable, Hashable {
        public var due = 0
        public var full = 0
        public var partial = 0
        public var failed = 0
        /// Missed ticks by reason: `overrun`, `clock-step`, `not-running`.
        public var missed: [String: Int] = [:]
        public var firstSeq: Int64?
        public var lastSeq: Int64?

        public init() {}

        /// Data messages committed for the slot.
        public var committed: Int { full + partial + failed }
    }

    public var seq: Int64
    /// The slot, Unix seconds.
    public var start: Int64
    public var end: Int64
    public var devices: [String: Device]

    /// nil when the message has no readable slot.
    public init?(seq: Int64, fields r: JSONObjectReader) {
        guard let slot = r.object(Key.slot), let start = slot.number(SlotKey.start), let end = slot.number(SlotKey.end),
            end > start
        else { return nil }
        self.seq = seq
        self.start = Int64(start)
        self.end = Int64(end)
        var devices: [String: Device] = [:]
        for (id, value) in r.object(Key.devices)?.fields ?? [:] {
            guard let d = JSONObjectReader(value) else { continue }
            var device = Device()
            device.due = d.int(DeviceKey.due) ?? 0
            device.full = d.int(DeviceKey.full) ?? 0
            device.partial = d.int(DeviceKey.partial) ?? 0
            device.failed = d.int(DeviceKey.failed) ?? 0
            device.missed = d.counts(DeviceKey.missed)
            device.firstSeq = d.int64(DeviceKey.firstSeq)
            device.lastSeq = d.int64(DeviceKey.lastSeq)
            devices[id] = device
        }
        self.devices = devices
    }
}
