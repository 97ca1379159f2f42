import SitegateCore

// Checks of the database file, and closing it.
extension OutboxStore {
    /// `PRAGMA integrity_check` on a database file opened read-only, with no recovery: for `sitegate buffer check`,
    /// which must report damage rather than repair it.
    static func integrityCheck(path: String) throws(SQLiteError) -> String {
        let db = try SQLiteDatabase(path: path, readOnly: true)
        defer { db.close() }
        return try integrityCheck(db)
    }

    func integrityCheck() throws(SQLiteError) -> String {
        try Self.integrityCheck(database)
    }

    private static func integrityCheck(_ db: SQLiteDatabase) throws(SQLiteError) -> String {
        let s = try db.prepare("PRAGMA integrity_check")
        var lines: [String] = []
        while try s.step() { lines.append(s.text(0)) }
        return lines.joined(separator: "\n")
    }

    func close() {
        try? deleteAcknowledged(now: lastNow)
        try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        database.close()
    }
}
