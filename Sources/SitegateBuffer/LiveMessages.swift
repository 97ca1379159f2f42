import SitegateCore

/// The messages committed since the publisher last took them, kept in memory so that the publisher gets each
/// cycle's messages without reading back from the database what the buffer thread has just written.
///
/// A cache in front of the database, never the truth: it answers only when it is sure to hold everything the
/// database would return (every unsent message with a seq above `coveredAfter` is here), and the caller reads the
/// database otherwise. It forgets what it has handed out, drops its oldest entries beyond `maxBytes` (an outage:
/// nobody takes them), and starts over when rows are deleted behind its back (drops, a purge, a replaced database).
struct LiveMessages: Sendable {
    /// Every unsent message with a seq above this is in `messages`.
    private(set) var coveredAfter: Int64
    /// In seq order, all above `coveredAfter`.
    private(set) var messages: [StoredMessage] = []
    private(set) var bytes = 0
    let maxBytes: Int
    /// Off while nobody takes messages (the publisher has no broker): commits only move `coveredAfter` on.
    private(set) var following = true

    /// Payload bytes kept at most: a few cycles of a busy site, about 600 SDM630 messages.
    static let defaultMaxBytes = 1 << 20

    /// A cache that covers what is committed after `lastSeq`, the newest seq the database has handed out.
    init(after lastSeq: Int64, maxBytes: Int = Self.defaultMaxBytes) {
        coveredAfter = lastSeq
        self.maxBytes = maxBytes
    }

    /// Messages a transaction committed (in seq order, all newer than what is here).
    mutating func committed(_ new: [StoredMessage]) {
        guard let newest = new.last else { return }
        guard following else {
            // Nothing is kept; what is unsent after `coveredAfter` is still all here (none).
            coveredAfter = newest.seq
            return
        }
        messages.append(contentsOf: new)
        bytes += new.reduce(0) { $0 + $1.payload.count }
        guard bytes > maxBytes else { return }
        var dropped = 0
        while bytes > maxBytes, dropped < messages.count {
            bytes -= messages[dropped].payload.count
            coveredAfter = messages[dropped].seq
            dropped += 1
        }
        messages.removeFirst(dropped)
    }

    /// Whether a reader follows the commits. Off: what is held is let go, and nothing is kept until it is on again
    /// (an outage's messages are read from the database as backlog anyway).
    mutating func follow(_ on: Bool) {
        following = on
        guard !on, let newest = messages.last else { return }
        coveredAfter = newest.seq
        messages.removeAll()
        bytes = 0
    }

    /// Rows were deleted behind the cache's back: it covers only what is committed after `lastSeq` from now on.
    mutating func reset(after lastSeq: Int64) {
        let following = self.following
        self = LiveMessages(after: lastSeq, maxBytes: maxBytes)
        self.following = following
    }

    /// Up to `limit` messages with a seq above `seq`, oldest first, as the database would return them; nil when the
    /// cache cannot be sure (`seq` is below what it covers). Hands them out: what it returns, and everything at or
    /// below `seq`, is forgotten.
    mutating func take(after seq: Int64, limit: Int) -> [StoredMessage]? {
        guard seq >= coveredAfter else { return nil }
        var first = 0
        while first < messages.count && messages[first].seq <= seq { first += 1 }
        let end = min(messages.count, first + max(0, limit))
        let taken = Array(messages[first..<end])
        for message in messages[..<end] { bytes -= message.payload.count }
        coveredAfter = end > 0 ? max(seq, messages[end - 1].seq) : seq
        messages.removeFirst(end)
        return taken
    }
}
