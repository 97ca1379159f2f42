/// Whether a device answers: unknown until its first poll.
public enum DeviceState: String, Sendable, Hashable { case unknown, ok, failing }

/// One device's read counters and state, as the health message and the status reply both carry them
/// (`health.devices.*` in docs/gateway-messages.schema.json).
public struct DeviceHealthFigures: Sendable, Hashable {
    public enum Key: String, JSONKey {
        case state, readsOK = "reads_ok", errors, missedTicks = "missed_ticks", backoff
        case backoffSkips = "backoff_skips", lastGoodRead = "last_good_read", lastError = "last_error"
    }

    public var state: DeviceState
    public var readsOK: Int
    public var errors: [String: Int]
    public var missedTicks: Int
    public var backoff: Bool
    public var backoffSkips: Int
    /// As written: `2026-11-29T04:52:34.557Z`; nil before the first good read.
    public var lastGoodRead: String?
    /// Written only when there is one.
    public var lastError: String?

    public init(
        state: DeviceState = .unknown, readsOK: Int = 0, errors: [String: Int] = [:], missedTicks: Int = 0,
        backoff: Bool = false, backoffSkips: Int = 0, lastGoodRead: String? = nil, lastError: String? = nil
    ) {
        self.state = state
        self.readsOK = readsOK
        self.errors = errors
        self.missedTicks = missedTicks
        self.backoff = backoff
        self.backoffSkips = backoffSkips
        self.lastGoodRead = lastGoodRead
        self.lastError = lastError
    }

    /// Adds the fields to an object being written (the status reply puts them next to the device's own).
    public func write(into w: inout JSONObjectWriter) {
        w.add(
            Key.self,
            [
                .state: .string(state.rawValue), .readsOK: .int(readsOK), .errors: .counts(errors),
                .missedTicks: .int(missedTicks), .backoff: .bool(backoff), .backoffSkips: .int(backoffSkips),
                .lastGoodRead: .string(orNull: lastGoodRead), .lastError: lastError.map(JSONField.string),
            ])
    }

    public init(fields r: JSONObjectReader) {
        self.init(
            state: r.string(Key.state).flatMap(DeviceState.init(rawValue:)) ?? .unknown, readsOK: r.int(Key.readsOK) ?? 0,
            errors: r.counts(Key.errors), missedTicks: r.int(Key.missedTicks) ?? 0, backoff: r.bool(Key.backoff) ?? false,
            backoffSkips: r.int(Key.backoffSkips) ?? 0, lastGoodRead: r.string(Key.lastGoodRead),
            lastError: r.string(Key.lastError))
    }
}

/// The buffer's figures in the health message and the status reply (`health.buffer` in the schema). Without an
/// answer from the outbox only `not_committed` and `paused` are known.
public struct BufferFigures: Sendable, Hashable {
    public enum Key: String, JSONKey {
        case notCommitted = "not_committed", paused, depth, oldest, usedBytes = "used_bytes", maxBytes = "max_bytes"
        case drops, dropsFrom = "drops_from", dropsTo = "drops_to", lastSeq = "last_seq"
    }

    /// When the dropped polls were taken; either end is null when unknown.
    public struct DropRange: Sendable, Hashable {
        public var from: String?
        public var to: String?

        public init(from: String?, to: String?) {
            self.from = from
            self.to = to
        }
    }

    public struct Outbox: Sendable, Hashable {
        public var depth: Int
        /// When the oldest unsent poll was taken, as written.
        public var oldest: String?
        public var usedBytes: Int64
        public var maxBytes: Int64
        public var drops: Int
        /// The health message names the drops' time range (either end may be null); the status reply does not.
        public var dropRange: DropRange?
        /// The status reply carries the last sequence number; the health message does not.
        public var lastSeq: Int64?

        public init(
            depth: Int, oldest: String?, usedBytes: Int64, maxBytes: Int64, drops: Int,
            dropRange: DropRange? = nil, lastSeq: Int64? = nil
        ) {
            self.depth = depth
            self.oldest = oldest
            self.usedBytes = usedBytes
            self.maxBytes = maxBytes
            self.drops = drops
            self.dropRange = dropRange
            self.lastSeq = lastSeq
        }
    }

    public var notCommitted: Int
    public var paused: Bool
    public var outbox: Outbox?

    public init(notCommitted: Int, paused: Bool, outbox: Outbox?) {
        self.notCommitted = notCommitted
        self.paused = paused
        self.outbox = outbox
    }

    public var json: String {
        var w = JSONObjectWriter()
        w.add(Key.self, [.notCommitted: .int(notCommitted), .paused: .bool(paused)])
        if let b = outbox {
            w.add(
                Key.self,
                [
                    .depth: .int(b.depth), .oldest: .string(orNull: b.oldest), .usedBytes: .int(b.usedBytes),
                    .maxBytes: .int(b.maxBytes), .drops: .int(b.drops),
                    .dropsFrom: b.dropRange.map { .string(orNull: $0.from) },
                    .dropsTo: b.dropRange.map { .string(orNull: $0.to) }, .lastSeq: b.lastSeq.map(JSONField.integer),
                ])
        }
        return w.text
    }

    public init(fields r: JSONObjectReader) {
        var outbox: Outbox? = nil
        if let depth = r.int(Key.depth) {
            let range = r.has(Key.dropsFrom) || r.has(Key.dropsTo)
            outbox = Outbox(
                depth: depth, oldest: r.string(Key.oldest), usedBytes: r.int64(Key.usedBytes) ?? 0,
                maxBytes: r.int64(Key.maxBytes) ?? 0, drops: r.int(Key.drops) ?? 0,
                dropRange: range ? DropRange(from: r.string(Key.dropsFrom), to: r.string(Key.dropsTo)) : nil, lastSeq: r.int64(Key.lastSeq))
        }
        self.init(notCommitted: r.int(Key.notCommitted) ?? 0, paused: r.bool(Key.paused) ?? false, outbox: outbox)
    }
}
