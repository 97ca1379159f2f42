/// `sitegate buffer stats --json`: the outbox file's figures, read offline from the database.
public struct BufferStatsReport: JSONMessage, Hashable {
    public enum Key: String, JSONKey {
        case path, depth, oldestSeq = "oldest_seq", oldestTakenAt = "oldest_taken_at", lastSeq = "last_seq"
        case usedBytes = "used_bytes", fileBytes = "file_bytes", maxBytes = "max_bytes", drops
        case dropsFrom = "drops_from", dropsTo = "drops_to"
        case archiveMessages = "archive_messages", archiveBytes = "archive_bytes", archiveMaxBytes = "archive_max_bytes"
        case archiveOldestSeq = "archive_oldest_seq", archiveOldest = "archive_oldest", archiveEvicted = "archive_evicted"
    }

    /// The archive of acknowledged messages kept for replays (docs/evidence.md).
    public struct Archive: Sendable, Hashable {
        public var messages: Int
        public var bytes: Int64
        public var maxBytes: Int64
        public var oldestSeq: Int64?
        /// When the oldest archived message was committed, as written; nil when empty.
        public var oldest: String?
        public var evicted: Int

        public init(messages: Int, bytes: Int64, maxBytes: Int64, oldestSeq: Int64?, oldest: String?, evicted: Int) {
            self.messages = messages
            self.bytes = bytes
            self.maxBytes = maxBytes
            self.oldestSeq = oldestSeq
            self.oldest = oldest
            self.evicted = evicted
        }
    }

    public var path: String
    public var depth: Int
    public var oldestSeq: Int64?
    /// As written; nil when the buffer is empty.
    public var oldestTakenAt: String?
    public var lastSeq: Int64
    public var usedBytes: Int64
    public var fileBytes: Int64
    public var maxBytes: Int64
    public var drops: Int
    public var dropsFrom: String?
    public var dropsTo: String?
    public var archive: Archive

    public init(
        path: String, depth: Int, oldestSeq: Int64?, oldestTakenAt: String?, lastSeq: Int64, usedBytes: Int64,
        fileBytes: Int64, maxBytes: Int64, drops: Int, dropsFrom: String?, dropsTo: String?,
        archive: Archive = Archive(messages: 0, bytes: 0, maxBytes: 0, oldestSeq: nil, oldest: nil, evicted: 0)
    ) {
        self.archive = archive
        self.path = path
        self.depth = depth
        self.oldestSeq = oldestSeq
        self.oldestTakenAt = oldestTakenAt
        self.lastSeq = lastSeq
        self.usedBytes = usedBytes
        self.fileBytes = fileBytes
        self.maxBytes = maxBytes
        self.drops = drops
        self.dropsFrom = dropsFrom
        self.dropsTo = dropsTo
    }

    public var json: String {
        JSONObjectWriter.object(
            Key.self,
            [
                .path: .string(path), .depth: .int(depth), .oldestSeq: .int(orNull: oldestSeq),
                .oldestTakenAt: .string(orNull: oldestTakenAt), .lastSeq: .int(lastSeq), .usedBytes: .int(usedBytes),
                .fileBytes: .int(fileBytes), .maxBytes: .int(maxBytes), .drops: .int(drops),
                .dropsFrom: .string(orNull: dropsFrom), .dropsTo: .string(orNull: dropsTo),
                .archiveMessages: .int(archive.messages), .archiveBytes: .int(archive.bytes),
                .archiveMaxBytes: .int(archive.maxBytes), .archiveOldestSeq: .int(orNull: archive.oldestSeq),
                .archiveOldest: .string(orNull: archive.oldest), .archiveEvicted: .int(archive.evicted),
            ])
    }

    public init?(fields r: JSONObjectReader) {
        guard let path = r.string(Key.path), let depth = r.int(Key.depth) else { return nil }
        self.init(
            path: path, depth: depth, oldestSeq: r.int64(Key.oldestSeq), oldestTakenAt: r.string(Key.oldestTakenAt),
            lastSeq: r.int64(Key.lastSeq) ?? 0, usedBytes: r.int64(Key.usedBytes) ?? 0,
            fileBytes: r.int64(Key.fileBytes) ?? 0, maxBytes: r.int64(Key.maxBytes) ?? 0, drops: r.int(Key.drops) ?? 0,
            dropsFrom: r.string(Key.dropsFrom), dropsTo: r.string(Key.dropsTo),
            archive: Archive(
                messages: r.int(Key.archiveMessages) ?? 0, bytes: r.int64(Key.archiveBytes) ?? 0,
                maxBytes: r.int64(Key.archiveMaxBytes) ?? 0, oldestSeq: r.int64(Key.archiveOldestSeq),
                oldest: r.string(Key.archiveOldest), evicted: r.int(Key.archiveEvicted) ?? 0))
    }
}
