/// The gateway's own messages in the chain, on the `evidence` topic (docs/evidence.md): a JSON object whose
/// first member is `kind`, then the chain members, then `time` and the kind's own members.
public enum EvidenceKind: String, Sendable, Hashable, CaseIterable {
    case checkpoint
    case gap
    case chainStart = "chain-start"
    case keyHandover = "key-handover"
}

public enum EvidenceKey: String, JSONKey {
    case kind, seq, prev, kid, sig, time
}

extension MessageDraft {
    /// An evidence message: `{"kind":"…"` + chain members + `,"time":…` + `members`.
    public static func evidence(_ kind: EvidenceKind, time: UnixTime, members: JSONObjectWriter) -> MessageDraft {
        var body = ",\"\(EvidenceKey.time.rawValue)\":\(JSONText.seconds(milliseconds: time.milliseconds))"
        let rest = members.members
        if !rest.isEmpty { body += "," + rest }
        return MessageDraft(
            head: "{\"\(EvidenceKey.kind.rawValue)\":\"\(kind.rawValue)\"", body: body, form: .object,
            destination: .evidence, time: time)
    }
}

/// Unsent messages the gateway deleted itself, one run of consecutive `seq`s: bridges the chain over the hole.
public struct GapNotice: Sendable, Hashable {
    public enum Reason: String, Sendable, Hashable {
        /// `buffer.max_size`, `buffer.max_age` or a full disk.
        case bufferBounds = "buffer-bounds"
        /// `sitegate buffer purge`.
        case purge
    }

    public enum Key: String, JSONKey {
        case reason, fromSeq = "from_seq", toSeq = "to_seq", count, fromTime = "from_time", toTime = "to_time"
        case firstPrev = "first_prev", lastHash = "last_hash"
    }

    public var reason: Reason
    public var fromSeq: Int64
    public var toSeq: Int64
    public var fromTime: UnixTime
    public var toTime: UnixTime
    /// The `prev` of the first deleted message (nil if it was a chain start).
    public var firstPrev: [UInt8]?
    /// The hash of the last deleted message.
    public var lastHash: [UInt8]

    public init(
        reason: Reason, fromSeq: Int64, toSeq: Int64, fromTime: UnixTime, toTime: UnixTime, firstPrev: [UInt8]?,
        lastHash: [UInt8]
    ) {
        self.reason = reason
        self.fromSeq = fromSeq
        self.toSeq = toSeq
        self.fromTime = fromTime
        self.toTime = toTime
        self.firstPrev = firstPrev
        self.lastHash = lastHash
    }

    public var count: Int64 { toSeq - fromSeq + 1 }

    public func draft(at time: UnixTime) -> MessageDraft {
        var w = JSONObjectWriter()
        w.add(
            Key.self,
            [
                .reason: .string(reason.rawValue), .fromSeq: .integer(fromSeq), .toSeq: .integer(toSeq),
                .count: .integer(count), .fromTime: .raw(JSONText.seconds(milliseconds: fromTime.milliseconds)),
                .toTime: .raw(JSONText.seconds(milliseconds: toTime.milliseconds)),
                .firstPrev: firstPrev.map { .string(Base64.url($0)) } ?? .null, .lastHash: .string(Base64.url(lastHash)),
            ])
        return .evidence(.gap, time: time, members: w)
    }
}

/// The first message of a chain: of a new buffer database.
public struct ChainStart: Sendable, Hashable {
    public enum Reason: String, Sendable, Hashable {
        /// First start, or a database file that was deleted.
        case newDatabase = "new-database"
        /// The old database was damaged and moved aside.
        case databaseReplaced = "database-replaced"
        /// The buffer was written by a version before contract v2: the polls it held are published in the v1 form
        /// (unsigned, unchained), and the chain begins here.
        case upgrade
    }

    public enum Key: String, JSONKey { case reason, replaced }

    public var reason: Reason
    /// Where the damaged database was moved.
    public var replaced: String?

    public init(reason: Reason, replaced: String? = nil) {
        self.reason = reason
        self.replaced = replaced
    }

    public func draft(at time: UnixTime) -> MessageDraft {
        var w = JSONObjectWriter()
        w.add(Key.self, [.reason: .string(reason.rawValue), .replaced: replaced.map(JSONField.string)])
        return .evidence(.chainStart, time: time, members: w)
    }
}

/// The handover from one signing key to the next: signed with the old key when it is still there (`endorsed`),
/// else with the new key.
public struct KeyHandover: Sendable, Hashable {
    public enum Key: String, JSONKey {
        case previousKid = "previous_kid", nextKid = "next_kid", nextPublicKey = "next_public_key", endorsed
    }

    public var previousKid: String?
    public var nextKid: String
    public var nextPublicKey: [UInt8]
    public var endorsed: Bool

    public init(previousKid: String?, nextKid: String, nextPublicKey: [UInt8], endorsed: Bool) {
        self.previousKid = previousKid
        self.nextKid = nextKid
        self.nextPublicKey = nextPublicKey
        self.endorsed = endorsed
    }

    public func draft(at time: UnixTime) -> MessageDraft {
        var w = JSONObjectWriter()
        w.add(
            Key.self,
            [
                .previousKid: .string(orNull: previousKid), .nextKid: .string(nextKid),
                .nextPublicKey: .string(Base64.url(nextPublicKey)), .endorsed: .bool(endorsed),
            ])
        return .evidence(.keyHandover, time: time, members: w)
    }
}
