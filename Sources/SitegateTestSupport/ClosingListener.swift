import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener on 127.0.0.1 that accepts each connection and closes it at once, answering nothing: what a
/// client sees from a port that is not MQTT (or a broker that drops clients it cannot serve).
public final class ClosingListener: Sendable {
    public let port: Int
    private let descriptor: Int32
    private let acceptedCount = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)

    /// Connections accepted (and closed) so far.
    public var accepted: Int { acceptedCount.load(ordering: .relaxed) }

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0  // the kernel picks; read back below
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
                guard bind(fd, p, length) == 0, listen(fd, 16) == 0 else { return -1 }
                return getsockname(fd, p, &length)
            }
        }
        guard rc == 0 else {
            close(fd)
            throw TestSupportError("bind/listen failed")
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Accepts and closes connections until `stop()`; run it in a task of the test's own.
    public func serve() async {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(descriptor, nil, nil)
            if client >= 0 {
                close(client)
                acceptedCount.add(1, ordering: .relaxed)
                continue
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    public func stop() {
        if !stopped.exchange(true, ordering: .relaxed) { close(descriptor) }
    }
}
