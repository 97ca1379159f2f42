#if canImport(Glibc)
import Glibc
#endif

/// Whether standard error goes to the journal.
///
/// systemd sets `JOURNAL_STREAM` to `DEVICE:INODE` of the stream it connects to the journal (systemd.exec(5)). The
/// variable alone is not enough: a child started from a service inherits it while its own standard error may go
/// elsewhere, so the numbers are compared with the descriptor's own.
public enum JournalStream {
    /// Whether `descriptor` is the stream named by `journalStream` (the `JOURNAL_STREAM` value).
    public static func isConnected(descriptor: Int32, journalStream: String?) -> Bool {
        guard let journalStream else { return false }
        let parts = journalStream.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    /// Whether this process's standard error goes to the journal.
    public static var standardErrorIsJournal: Bool {
        isConnected(descriptor: 2, journalStream: getenv("JOURNAL_STREAM").map { String(cString: $0) })
    }
}
