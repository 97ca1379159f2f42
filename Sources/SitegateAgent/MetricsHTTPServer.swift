import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateCore
import SitegateThreads

#if canImport(Glibc)
import Glibc
#endif

/// `GET /metrics` on a loopback address (`metrics.listen`), for a local Prometheus agent.
///
/// A deliberately small HTTP/1.1 responder: one connection at a time, one request per connection, the answer
/// closes it. That is all a scraper every 15 s or more needs; anything bigger would be a web server to harden.
struct MetricsHTTPServer: Service {
    let listener: MetricsListener
    let agent: Agent
    let outbox: Outbox
    let logger: Logger
    private let thread = DedicatedThread(name: "metrics")

    func run() async throws {
        defer { thread.shutdown() }
        let address = listener
        let opened = await RequestLoop.listen(on: thread, { try TCPListener.listen(address) }) { error in
            logger.warning("no metrics listener: \(error)")
        }
        guard let fd = opened else { return }
        defer { close(fd) }
        logger.info("serving metrics", metadata: ["metrics.listen": "http://\(listener.description)/metrics"])
        await RequestLoop.serve(listener: fd, on: thread, readRequest: { try TCPListener.readRequestHead($0) }) {
            await self.respond(to: $0)
        }
    }

    private func respond(to head: String) async -> String {
        let requestLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            return Self.response(400, "Bad Request", body: "expected an HTTP/1.x request line\n")
        }
        guard parts[0] == "GET" || parts[0] == "HEAD" else {
            return Self.response(405, "Method Not Allowed", body: "only GET\n", extra: "Allow: GET, HEAD\r\n")
        }
        let path = parts[1].split(separator: "?", maxSplits: 1).first ?? ""
        guard path == "/metrics" else {
            return Self.response(404, "Not Found", body: "sitegate serves /metrics only\n")
        }
        let body = await agent.metricsText(outbox: outbox)
        return Self.response(
            200, "OK", body: body, type: "text/plain; version=0.0.4; charset=utf-8", headOnly: parts[0] == "HEAD")
    }

    static func response(
        _ code: Int, _ reason: String, body: String, type: String = "text/plain; charset=utf-8", extra: String = "",
        headOnly: Bool = false
    ) -> String {
        "HTTP/1.1 \(code) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\(extra)\r\n" + (headOnly ? "" : body)
    }
}

/// The blocking socket calls behind the metrics listener.
enum TCPListener {
    static func listen(_ address: MetricsListener) throws(UnixSocket.Failure) -> Int32 {
        func failure(_ what: String) -> UnixSocket.Failure {
            UnixSocket.Failure(description: "cannot listen on \(address.description): \(what): \(String(cString: strerror(errno)))")
        }
        let domain = address.family == .ipv6 ? AF_INET6 : AF_INET
        let fd = socket(domain, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw failure("socket") }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        // sockaddr_in and sockaddr_in6 differ only in field names: fill one, bind it as a sockaddr.
        func bind<Address>(_ address: Address) -> Int32 {
            withUnsafePointer(to: address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
            }
        }
        let port = in_port_t(UInt16(address.port).bigEndian)
        let bound: Int32
        switch address.family {
        case .ipv4:
            var sa = sockaddr_in()
            (sa.sin_family, sa.sin_port) = (sa_family_t(AF_INET), port)
            inet_pton(AF_INET, address.host, &sa.sin_addr)
            bound = bind(sa)
        case .ipv6:
            var sa = sockaddr_in6()
            (sa.sin6_family, sa.sin6_port) = (sa_family_t(AF_INET6), port)
            inet_pton(AF_INET6, address.host, &sa.sin6_addr)
            bound = bind(sa)
        }
        guard bound == 0 else {
            let error = failure("bind")
            close(fd)
            throw error
        }
        guard Glibc.listen(fd, 8) == 0 else {
            let error = failure("listen")
            close(fd)
            throw error
        }
        return fd
    }

    /// The request line and headers, up to the blank line (8 KiB at most; the accept's receive timeout bounds the
    /// wait). Read whole, so that closing after the answer does not reset a client still sending its headers.
    static func readRequestHead(_ fd: Int32) throws(UnixSocket.Failure) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while bytes.count < 8192 {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
            if Array(bytes.suffix(4)) == [13, 10, 13, 10] { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
