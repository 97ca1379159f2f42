import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateCore
import SitegateModbus
import SitegateThreads

#if canImport(Glibc)
import Glibc
#endif

/// The agent's local control socket (a Unix socket under /run/sitegate): `sitegate status`, `watch` and `read`
/// talk to the running agent through it, so that the CLI never fights the agent for a serial port.
///
/// Protocol: the client sends one line, `status`, `metrics` or `read DEVICE`, and reads the answer until EOF: a JSON
/// document, or for `metrics` Prometheus's text format.
/// The socket is created mode 0660 so that members of the service's group can use it.
struct ControlServer: Service {
    let path: String
    let agent: Agent
    let outbox: Outbox
    let supervisor: PollerSupervisor
    let logger: Logger
    private let thread = DedicatedThread(name: "control")

    func run() async throws {
        defer { thread.shutdown() }
        let path = self.path
        let opened = await RequestLoop.listen(on: thread, { try UnixSocket.listen(path: path) }) { error in
            logger.warning("no control socket: \(error); sitegate status and read will not reach this agent")
        }
        guard let listener = opened else { return }
        defer {
            close(listener)
            unlink(path)
        }
        await RequestLoop.serve(listener: listener, on: thread, readRequest: { try UnixSocket.readLine($0) }) {
            await self.respond(to: $0)
        }
    }

    private func respond(to request: String) async -> String {
        let words = request.split(separator: " ", maxSplits: 1).map(String.init)
        switch words.first {
        case "status":
            let stats = try? await outbox.stats()
            return StatusReply(
                config: agent.config, version: agent.version, board: agent.health, stats: stats, now: SystemWallClock().now()
            ).json
        case "metrics":
            return await agent.metricsText(outbox: outbox)
        case "read" where words.count == 2:
            return await read(device: words[1])
        default:
            return ControlErrorReply("unknown request '\(request)'; use status, metrics or read DEVICE").json
        }
    }

    /// One poll of every configured point of a device, on its bus's own thread, between the agent's own polls.
    private func read(device id: String) async -> String {
        guard let device = agent.config.device(id), let map = agent.config.maps[device.model],
            let bus = supervisor.bus(device.busID)
        else {
            return ControlErrorReply("no device '\(id)' in the running config").json
        }
        let ids = device.configuredPoints(in: map)
        let plan = DevicePlan(device: device, map: map, pointIDs: ids)
        do {
            let outcome = try await bus.withConnection { DeviceReader.read(plan, on: $0, keepRaw: true) }
            return ReadReport(device: device, map: map, plan: plan, outcome: outcome).json
        } catch {
            return ControlErrorReply("\(error)").json
        }
    }
}

/// Blocking Unix-socket helpers for the control thread and the CLI.
public enum UnixSocket {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    static func address(_ path: String) throws(Failure) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw Failure(description: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return address
    }

    public static func listen(path: String) throws(Failure) -> Int32 {
        var address = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        unlink(path)  // a stale socket from a killed agent
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 8) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot listen on \(path): \(reason)")
        }
        chmod(path, 0o660)
        return fd
    }

    static func accept(_ listener: Int32) throws(Failure) -> Int32 {
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { throw Failure(description: "accept: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    public static func connect(path: String, timeoutSeconds: Int = 30) throws(Failure) -> Int32 {
        var address = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: reason)
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    public static func readLine(_ fd: Int32) throws(Failure) -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while bytes.count < 4096 {
            let n = read(fd, &byte, 1)
            if n <= 0 || byte == 10 { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func readAll(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @discardableResult
    public static func writeAll(_ fd: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}
