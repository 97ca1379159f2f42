/// A message before it is committed: its bytes without the members only the commit can give (`seq`, `prev`,
/// `kid`, `sig`). `MessageSealer` completes it inside the buffer's transaction (docs/evidence.md, "The byte rule").
public struct MessageDraft: Sendable, Hashable {
    /// A SenML pack (data) or a JSON object (evidence).
    public enum Form: Sendable, Hashable {
        case pack, object

        /// What closes the last JSON object (and the pack).
        var closing: StaticString { self == .pack ? "}]" : "}" }
    }

    /// Where the message goes: a device's data topic, or the gateway's evidence topic.
    public enum Destination: Sendable, Hashable {
        case data(device: String)
        case evidence
    }

    /// Up to the chain members: `[{"bn":"…","bt":…` or `{"kind":"gap"`, as bytes (the hot path writes them so).
    public var headBytes: [UInt8]
    /// After the chain members, up to (not including) the closing of the last object.
    public var bodyBytes: [UInt8]
    public var form: Form
    public var destination: Destination
    /// The message's time: `bt` of a poll, `time` of an evidence message.
    public var time: UnixTime
    /// For polls: the tick accounted for, and how it went (kept beside the bytes, for checkpoints).
    public var tick: UnixTime?
    public var outcome: PollOutcome?

    /// `headBytes` as text.
    public var head: String {
        get { String(decoding: headBytes, as: UTF8.self) }
        set { headBytes = Array(newValue.utf8) }
    }

    /// `bodyBytes` as text.
    public var body: String {
        get { String(decoding: bodyBytes, as: UTF8.self) }
        set { bodyBytes = Array(newValue.utf8) }
    }

    public init(
        headBytes: [UInt8], bodyBytes: [UInt8], form: Form, destination: Destination, time: UnixTime,
        tick: UnixTime? = nil, outcome: PollOutcome? = nil
    ) {
        self.headBytes = headBytes
        self.bodyBytes = bodyBytes
        self.form = form
        self.destination = destination
        self.time = time
        self.tick = tick
        self.outcome = outcome
    }

    public init(
        head: String, body: String, form: Form, destination: Destination, time: UnixTime, tick: UnixTime? = nil,
        outcome: PollOutcome? = nil
    ) {
        self.init(
            headBytes: Array(head.utf8), bodyBytes: Array(body.utf8), form: form, destination: destination, time: time,
            tick: tick, outcome: outcome)
    }
}

/// A committed message as the buffer holds it: its sequence number, when it was committed, where it goes and
/// the exact bytes to publish (every redelivery sends these).
public struct StoredMessage: Sendable, Hashable {
    public var seq: Int64
    public var committedAt: UnixTime
    public var destination: MessageDraft.Destination
    public var payload: [UInt8]

    public init(seq: Int64, committedAt: UnixTime, destination: MessageDraft.Destination, payload: [UInt8]) {
        self.seq = seq
        self.committedAt = committedAt
        self.destination = destination
        self.payload = payload
    }

    /// The device of a data message; nil for evidence.
    public var deviceID: String? {
        if case .data(let device) = destination { return device }
        return nil
    }
}
