import CSQLite

/// The SQLite in use (`sitegate support-bundle` records it).
public enum SQLiteLibrary {
    public static var version: String { String(cString: sqlite3_libversion()) }
}
