/// The gateway's answer to a replay request, on `{prefix}/{site}/{gateway}/replay/answer/{id}` (docs/evidence.md):
/// `accepted` (what it will republish, what is still unsent and goes out anyway, what it no longer holds), then
/// `done` when every republished message was acknowledged; or `error`.
public struct ReplayAnswer: JSONMessage, Hashable {
    public enum Key: String, JSONKey { case id, status, error, served, pending, missing, messages }

    public enum Status: String, Sendable, Hashable {
        case accepted, done, error
    }

    public var id: String
    public var status: Status
    public var error: String?
    public var served: SeqRanges
    public var pending: SeqRanges
    public var missing: SeqRanges
    /// Messages republished (done) or to be republished (accepted).
    public var messages: Int64

    public init(
        id: String, status: Status, error: String? = nil, served: SeqRanges = SeqRanges(), pending: SeqRanges = SeqRanges(),
        missing: SeqRanges = SeqRanges(), messages: Int64 = 0
    ) {
        self.id = id
        self.status = status
        self.error = error
        self.served = served
        self.pending = pending
        self.missing = missing
        self.messages = messages
    }

    public static func refused(_ refusal: ReplayRequest.Refusal) -> ReplayAnswer {
        ReplayAnswer(id: refusal.id ?? "invalid", status: .error, error: refusal.description)
    }

    public var json: String {
        var w = JSONObjectWriter()
        w.add(Key.self, [.id: .string(id), .status: .string(status.rawValue)])
        if status == .error {
            w.add(Key.self, [.error: .string(error ?? "")])
        } else {
            w.add(
                Key.self,
                [
                    .served: .raw(served.json), .pending: .raw(pending.json), .missing: .raw(missing.json),
                    .messages: .integer(messages),
                ])
        }
        return w.text
    }

    public init?(fields r: JSONObjectReader) {
        guard let id = r.string(Key.id), let status = r.string(Key.status).flatMap(Status.init(rawValue:)) else { return nil }
        self.init(
            id: id, status: status, error: r.string(Key.error),
            served: SeqRanges(SeqRanges.parse(r.value(Key.served)) ?? []),
            pending: SeqRanges(SeqRanges.parse(r.value(Key.pending)) ?? []),
            missing: SeqRanges(SeqRanges.parse(r.value(Key.missing)) ?? []), messages: r.int64(Key.messages) ?? 0)
    }
}
