#if canImport(Glibc)
import Glibc
#endif

/// A file of zeros kept beside the database and deleted when the disk is full, so that SQLite has room to delete
/// the oldest polls and checkpoint its log. It is made again once the file system has room to spare.
final class DiskReserve {
    let path: String
    let size: Int

    init(path: String, size: Int = 256 << 10) {
        self.path = path
        self.size = size
    }

    var exists: Bool { access(path, F_OK) == 0 }

    func release() {
        unlink(path)
    }

    /// Bytes available to this process on the file system that holds the reserve; Int64.max when unknown.
    func fileSystemFree() -> Int64 {
        var fs = statvfs()
        guard statvfs(directory, &fs) == 0 else { return .max }
        return Int64(fs.f_bavail) * Int64(fs.f_frsize)
    }

    /// Creates the reserve when it is missing and the file system has at least twice its size free.
    func restoreIfRoom() {
        guard !exists else { return }
        guard fileSystemFree() >= 2 * Int64(size) else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        // Real blocks, not a sparse file: posix_fallocate reserves them.
        if posix_fallocate(fd, 0, off_t(size)) != 0 {
            unlink(path)
        }
    }

    private var directory: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }
}
