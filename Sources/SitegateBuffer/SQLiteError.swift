import CSQLite

/// A failed SQLite call: the operation, SQLite's result code and its message.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public var resultCode: Int32
    public var message: String
    public var operation: String

    public var description: String { "\(operation): \(message) (SQLite code \(resultCode))" }

    /// The database file is damaged (SQLITE_CORRUPT or SQLITE_NOTADB).
    public var isCorruption: Bool {
        let primary = resultCode & 0xFF
        return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB
    }

    /// The disk is full (SQLITE_FULL).
    public var isDiskFull: Bool { resultCode & 0xFF == SQLITE_FULL }
}
