import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

/// Signing key files: PKCS#8 PEM, mode 0600, owned by the user the agent runs as (docs/operations.md, Signing keys).
public enum SigningKeyFile {
    /// The user the agent runs as (systemd/sitegate.sysusers): a new key file is handed to it when made by root.
    public static let agentUser = "sitegate"

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case missing(path: String)
        case permissionDenied(path: String)
        case unreadable(path: String, reason: String)
        /// Not a PEM private key, or not Ed25519.
        case invalid(path: String, reason: String)
        case exists(path: String)
        case unwritable(path: String, reason: String)

        public var description: String {
            switch self {
            case .missing(let path):
                "\(path): no such key file (make one with `sitegate keys generate --output \(path)`)"
            case .permissionDenied(let path): "\(path): permission denied"
            case .unreadable(let path, let reason): "\(path): cannot read: \(reason)"
            case .invalid(let path, let reason): "\(path): \(reason)"
            case .exists(let path): "\(path) exists: refusing to replace a signing key (--force replaces it)"
            case .unwritable(let path, let reason): "\(path): cannot write: \(reason)"
            }
        }
    }

    /// The Ed25519 key in the PEM file at `path`.
    public static func read(_ path: String) throws(Failure) -> Ed25519Key {
        let text = try readText(path)
        do { return try Ed25519Key.fromPEM(text) } catch { throw .invalid(path: path, reason: error.description) }
    }

    /// Whether group or others may read the file (a private key should be 0600 or 0400); nil when it cannot be
    /// examined.
    public static func isReadableByOthers(_ path: String) -> Bool? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & (S_IRGRP | S_IROTH) != 0
    }

    /// When the file was last written (by `generate`, as a rule): from then on the key may have signed messages,
    /// so it is the `from=` of the key's registration. Nil when it cannot be examined.
    public static func modificationTime(_ path: String) -> UnixTime? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return UnixTime(nanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }

    /// A key file as `generate` made it.
    public struct Generated: Sendable {
        public var key: Ed25519Key
        public var path: String
        /// The file's owner: `sitegate` when made by root and that user exists, else the caller's user.
        public var owner: String
    }

    /// Makes a new key and writes it to `path` as PKCS#8 PEM, mode 0600, created with O_EXCL so that no other
    /// process can have opened it before. Root hands the file to `owner` when that user exists. Without `force`,
    /// an existing file is never replaced; with it, the new file is renamed over the old one.
    public static func generate(at path: String, force: Bool, owner: String = agentUser) throws(Failure) -> Generated {
        let key: Ed25519Key
        let pem: String
        do {
            key = try Ed25519Key.generate()
            pem = try key.pkcs8PEM()
        } catch { throw .unwritable(path: path, reason: error.description) }
        if !force && access(path, F_OK) == 0 { throw .exists(path: path) }
        // With force, write beside the old file and rename: a reader sees the old key or the new one.
        let target = force ? path + ".new-\(getpid())" : path
        let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            let code = errno
            throw code == EEXIST && !force
                ? .exists(path: path) : .unwritable(path: target, reason: String(cString: strerror(code)))
        }
        var ownerName = userName(of: geteuid())
        do throws(Failure) {
            defer { close(fd) }
            // open's mode is filtered by the umask: 0600 only ever loses bits, never gains them; fchmod makes it exact.
            guard fchmod(fd, 0o600) == 0 else { throw Failure.unwritable(path: target, reason: Self.lastError()) }
            if geteuid() == 0, let account = getpwnam(owner) {
                guard fchown(fd, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
                    throw Failure.unwritable(path: target, reason: "chown \(owner): \(Self.lastError())")
                }
                ownerName = owner
            }
            try writeAll(fd, Array(pem.utf8), path: target)
            guard fsync(fd) == 0 else { throw Failure.unwritable(path: target, reason: Self.lastError()) }
        } catch {
            unlink(target)
            throw error
        }
        if force {
            guard rename(target, path) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(target)
                throw .unwritable(path: path, reason: reason)
            }
        }
        return Generated(key: key, path: path, owner: ownerName)
    }

    private static func readText(_ path: String) throws(Failure) -> String {
        // O_NONBLOCK: a FIFO named as the key must not hang `check` or the start; it is refused below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            switch code {
            case ENOENT: throw .missing(path: path)
            case EACCES, EPERM: throw .permissionDenied(path: path)
            default: throw .unreadable(path: path, reason: String(cString: strerror(code)))
            }
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw .invalid(path: path, reason: "not a regular file") }
        // A PEM Ed25519 key is 119 bytes; anything past 64 KiB is not one.
        var bytes = [UInt8](repeating: 0, count: 65536)
        var count = 0
        while count < bytes.count {
            let n = bytes[count...].withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            count += n
        }
        guard count < bytes.count else { throw .invalid(path: path, reason: "larger than 64 KiB: not a key file") }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .unwritable(path: path, reason: String(cString: strerror(errno))) }
            offset += n
        }
    }

    /// errno's text; call it on the line after the failing call.
    private static func lastError() -> String { String(cString: strerror(errno)) }

    private static func userName(of uid: uid_t) -> String {
        guard let account = getpwuid(uid), let name = account.pointee.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }
}
