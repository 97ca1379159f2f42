import Foundation
import SitegateTestSupport
import Testing

/// `sitegate metrics` and the loopback HTTP listener against a running agent, checked by Prometheus's own promtool.
@Suite(.serialized, .timeLimit(.minutes(2))) struct MetricsTests {
    @Test func liveMetricsPassPromtoolAndCountWhatHappened() async throws {
        try await Harness.with("metrics") { h in
            try await h.startSimulator(units: [1, 9], frozen: true, extra: ["--silent-units", "9"])
            let port = try FreePort.find()
            // Unit 9 is a dead meter: its polls fail with timeouts.
            let path = try h.writeConfig(devices: [("main-incomer", 1), ("ghost", 9)], interval: "1s")
            try writeFile(path, try readFile(path) + "metrics:\n  listen: 127.0.0.1:\(port)\n")
            try h.startRecorder()
            try h.startAgent(config: path)
            try await h.waitForMessages(timeout: .seconds(30)) { $0.filter { $0.device == "main-incomer" }.count >= 3 }

            let cli = try await h.sitegate(["metrics", "--config", path])
            #expect(cli.status == 0, "\(cli.err)")
            let text = cli.out
            try await expectPromtoolAccepts(text, in: h)
            let full = try #require(value(in: text, #"sitegate_polls_total{device="main-incomer",bus="sim-lan",outcome="full"}"#))
            #expect(full >= 3)
            #expect(value(in: text, #"sitegate_readings_total{device="main-incomer",bus="sim-lan"}"#) == full * 15)
            #expect(try #require(value(in: text, #"sitegate_polls_total{device="ghost",bus="sim-lan",outcome="failed"}"#)) >= 1)
            #expect(try #require(value(in: text, #"sitegate_device_errors_total{device="ghost",bus="sim-lan",kind="timeout"}"#)) >= 1)
            #expect(value(in: text, #"sitegate_device_up{device="main-incomer",bus="sim-lan"}"#) == 1)
            #expect(value(in: text, #"sitegate_device_up{device="ghost",bus="sim-lan"}"#) == 0)
            #expect(try #require(value(in: text, #"sitegate_bus_timeouts_total{bus="sim-lan"}"#)) >= 1)
            #expect(try #require(value(in: text, #"sitegate_bus_transactions_total{bus="sim-lan"}"#)) >= 2 * full)
            #expect(try #require(value(in: text, #"sitegate_bus_busy_seconds_total{bus="sim-lan"}"#)) > 0)
            #expect(value(in: text, "sitegate_mqtt_connected") == 1)
            #expect(value(in: text, "sitegate_mqtt_node{url=\"\(h.broker.url)\"}") == 1)
            #expect(value(in: text, "sitegate_mqtt_connects_total") == 1)
            #expect(try #require(value(in: text, "sitegate_publish_latency_seconds_count")) >= 3)
            #expect(value(in: text, #"sitegate_publish_latency_seconds_bucket{le="+Inf"}"#) == value(in: text, "sitegate_publish_latency_seconds_count"))

            // The same over HTTP, and nothing but GET /metrics.
            let http = try httpRequest(port: port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(http.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(http.prefix(200))")
            #expect(http.contains("Content-Type: text/plain; version=0.0.4"))
            let body = String(http[http.range(of: "\r\n\r\n")!.upperBound...])
            try await expectPromtoolAccepts(body, in: h)
            #expect(try httpRequest(port: port, "GET / HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404 "))
            #expect(try httpRequest(port: port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").hasPrefix("HTTP/1.1 405 "))
            #expect(try httpRequest(port: port, "garbage\r\n\r\n").hasPrefix("HTTP/1.1 400 "))

            // node_exporter's textfile collector: written whole, by rename.
            let prom = "\(h.directory)/textfile/sitegate.prom"
            try FileManager.default.createDirectory(atPath: "\(h.directory)/textfile", withIntermediateDirectories: true)
            let written = try await h.sitegate(["metrics", "--config", path, "--output", prom])
            #expect(written.status == 0 && written.out.isEmpty, "\(written.err)")
            try await expectPromtoolAccepts(try readFile(prom), in: h)
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(h.directory)/textfile") == ["sitegate.prom"])

            // The broker goes away: the gauge and the loss counter say so.
            await h.broker.stop()
            try await Task.sleep(for: .seconds(2))
            let after = try await h.sitegate(["metrics", "--config", path]).out
            #expect(value(in: after, "sitegate_mqtt_connected") == 0)
            #expect(value(in: after, "sitegate_mqtt_connection_losses_total") == 1)
            #expect(try #require(value(in: after, "sitegate_buffer_polls")) >= 0)
        }
    }

    @Test func noAgentExitsThree() async throws {
        try await Harness.with("metrics-none") { h in
            let r = try await h.sitegate(["metrics", "--socket", "\(h.directory)/nothing.sock"])
            #expect(r.status == 3)
            #expect(r.err.contains("no running agent answers"))
        }
    }

    /// The value of the sample line starting with `series` (exactly that name and label set).
    func value(in text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    func expectPromtoolAccepts(_ text: String, in h: Harness) async throws {
        let file = "\(h.directory)/metrics-\(UUID().uuidString).prom"
        try writeFile(file, text)
        let p = try ChildProcess(["sh", "-c", "promtool check metrics < '\(file)'"], directory: h.directory, name: "promtool")
        let status = await p.wait(timeout: .seconds(30))
        #expect(status == 0, "promtool check metrics:\n\(p.standardOutput)\(p.standardError)")
        // promtool also prints lint findings (naming, units) with status 0 in some versions: none wanted.
        #expect(p.standardOutput.isEmpty && p.standardError.isEmpty, "promtool findings:\n\(p.standardOutput)\(p.standardError)")
    }
}

/// Sends `request` to 127.0.0.1:`port` and reads until the server closes.
func httpRequest(port: Int, _ request: String) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw TestSupportError("cannot connect to 127.0.0.1:\(port)") }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    _ = request.withCString { send(fd, $0, strlen($0), 0) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = recv(fd, &chunk, chunk.count, 0)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
