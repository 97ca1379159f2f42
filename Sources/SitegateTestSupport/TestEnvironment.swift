#if canImport(Glibc)
import Glibc
#endif

/// Paths and helpers every integration test needs: a scratch directory, the built binary, free ports.
public enum TestEnvironment {
    /// The package root, found from this source file's location.
    public static let packageRoot: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    /// The `sitegate` binary under test: $SITEGATE_BIN, or the debug build.
    public static var sitegateBinary: String {
        if let p = getenv("SITEGATE_BIN") { return String(cString: p) }
        return "\(packageRoot)/.build/debug/sitegate"
    }

    /// The Python that has the test tools (jsonschema, pymodbus): $SITEGATE_PYTHON (make sets it), else the virtual
    /// environment scripts/install-deps.sh makes in .build, else the python3 on PATH.
    public static var python: String {
        if let p = getenv("SITEGATE_PYTHON") { return String(cString: p) }
        let venv = "\(packageRoot)/.build/python/bin/python3"
        return access(venv, X_OK) == 0 ? venv : "python3"
    }

    public static var shippedMaps: String { "\(packageRoot)/devicemaps/models" }

    /// A new empty directory under /tmp.
    public static func makeTemporaryDirectory(_ prefix: String = "sitegate-test") throws -> String {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw TestSupportError("mkdtemp failed") }
        return String(cString: p)
    }

    /// Whether `tool` is on PATH.
    public static func hasTool(_ tool: String) -> Bool {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { access("\($0)/\(tool)", X_OK) == 0 }
    }
}

/// Free TCP ports on 127.0.0.1.
public enum FreePort {
    /// A port the kernel just handed out for 127.0.0.1. Another process could take it before we use it; callers
    /// check that what answers there is theirs.
    public static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
                guard bind(fd, p, length) == 0 else { return -1 }
                return getsockname(fd, p, &length)
            }
        }
        guard bound == 0 else { throw TestSupportError("bind failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func isListening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
