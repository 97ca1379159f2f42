#if canImport(Glibc)
import Glibc
#endif

/// The one socket call behind `SystemdNotifier`: a datagram to the notify socket.
enum NotifyDatagram {
    static func send(_ message: String, to address: NotifySocketAddress) throws(SystemdNotifyError) {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemdNotifyError("create a notify socket", errno: errno) }
        defer { close(fd) }

        // Blocking like libsystemd's sd_notify, but bounded: if PID 1 stops reading, a caller on the cooperative
        // pool waits at most a second, and a lost ping is retried on the next tick.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        let path = address.sunPath
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: path.prefix(raw.count))
        }
        // sun_path starts right after the family field; the length covers only the bytes of the name.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { buffer in
                    sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        if sent < 0 { throw SystemdNotifyError("send to \(address)", errno: errno) }
        if sent != bytes.count {
            throw SystemdNotifyError("send to \(address)", reason: "only \(sent) of \(bytes.count) bytes went out")
        }
    }
}
