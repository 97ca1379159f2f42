import SitegateTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket of the test's own, standing in for systemd's notify socket: bound to a path or to a name in
/// the abstract namespace, built here independently of the code under test.
final class NotifyReceiver {
    let descriptor: Int32
    /// What NOTIFY_SOCKET must hold for datagrams to arrive here.
    let notifySocket: String
    private let pathToRemove: String?

    /// Bound to `path` in the file system.
    init(path: String) throws {
        descriptor = try Self.makeSocket()
        notifySocket = path
        pathToRemove = path
        try bind(Array(path.utf8) + [0])
    }

    /// Bound to `name` in the abstract namespace: a leading NUL, then the name, no terminator.
    init(abstractName name: String) throws {
        descriptor = try Self.makeSocket()
        notifySocket = "@" + name
        pathToRemove = nil
        try bind([0] + Array(name.utf8))
    }

    deinit {
        close(descriptor)
        if let pathToRemove { unlink(pathToRemove) }
    }

    /// The next datagram's text, or nil if none arrives within `timeout`.
    func receive(timeout: Duration = .seconds(5)) -> String? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(
            timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(descriptor, &buffer, buffer.count, 0)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[..<n], as: UTF8.self)
    }

    /// Every datagram that arrives within `timeout` after the last one.
    func receiveAll(quietFor timeout: Duration = .milliseconds(200)) -> [String] {
        var out: [String] = []
        while let message = receive(timeout: timeout) { out.append(message) }
        return out
    }

    private static func makeSocket() throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket: \(String(cString: strerror(errno)))") }
        return fd
    }

    private func bind(_ sunPath: [UInt8]) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: sunPath) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + sunPath.count)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, length) }
        }
        guard rc == 0 else { throw TestSupportError("bind \(notifySocket): \(String(cString: strerror(errno)))") }
    }
}
