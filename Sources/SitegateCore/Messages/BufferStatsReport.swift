/// `sitegate buffer stats --json`: the outbox file's figures, read offline from the database.
public struct BufferStatsReport: JSONMessage, Hashable {
    public enum Key: String, JSONKey {
        case path, depth, oldestSeq = "oldest_seq", oldestTakenAt = "oldest_taken_at", lastSeq = "last_seq"
        case usedBytes = "used_bytes", fileBytes = "file_bytes", maxBytes = "max_bytes", drops
        case dropsFrom = "drops_from", dropsTo = "drops_to"
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

    public init(
        path: String, depth: Int, oldestSeq: Int64?, oldestTakenAt: String?, lastSeq: Int64, usedBytes: Int64,
        fileBytes: Int64, maxBytes: Int64, drops: Int, dropsFrom: String?, dropsTo: String?
    ) {
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
            ])
    }

    public init?(fields r: JSONObjectReader) {
        guard let path = r.string(Key.path), let depth = r.int(Key.depth) else { return nil }
        self.init(
            path: path, depth: depth, oldestSeq: r.int64(Key.oldestSeq), oldestTakenAt: r.string(Key.oldestTakenAt),
            lastSeq: r.int64(Key.lastSeq) ?? 0, usedBytes: r.int64(Key.usedBytes) ?? 0,
            fileBytes: r.int64(Key.fileBytes) ?? 0, maxBytes: r.int64(Key.maxBytes) ?? 0, drops: r.int(Key.drops) ?? 0,
            dropsFrom: r.string(Key.dropsFrom), dropsTo: r.string(Key.dropsTo))
    }
}
