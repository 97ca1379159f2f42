import Foundation
import SitegateCore
import SitegateTestSupport
import Testing

/// The run-time bus figures against a real simulator: one bus with room to spare, one behind a declared
/// TCP-to-RTU gateway whose maps' 100 ms min_delay makes it need more than its 1 s ticks. `check` warns and does
/// not refuse; the agent measures, counts the missed ticks and says what to do, in status and in health.
@Suite(.serialized, .timeLimit(.minutes(2))) struct BusLoadTests {
    static func json(_ text: String) -> JSONValue? { JSONValue.parse(text.trimmingCharacters(in: .whitespacesAndNewlines)) }

    @Test func statusAndHealthShowMeasuredLoadAndMissedTicks() async throws {
        try await Harness.with("busload") { h in
            let port = try await h.startSimulator(units: Array(1...8), frozen: true)
            // 6 meters x 2 transactions x at least 100 ms: about 1.2 s of bus time every 1 s.
            let slow = (3...8).map { "  - { id: s\($0), bus: slow, unit: \($0), model: eastron-sdm630, interval: 1s }" }
            let config = try h.writeConfig(
                buses: """
                  - { id: fast, tcp: { host: 127.0.0.1, port: \(port) } }
                  - { id: slow, tcp: { host: 127.0.0.1, port: \(port), rtu_gateway: true } }
                """,
                devices: """
                  - { id: f1, bus: fast, unit: 1, model: eastron-sdm630, interval: 1s }
                  - { id: f2, bus: fast, unit: 2, model: eastron-sdm630, interval: 1s }
                \(slow.joined(separator: "\n"))
                """)
            var text = try String(contentsOfFile: config, encoding: .utf8)
            text = text.replacingOccurrences(of: "  reconnect_max: 2s\n", with: "  reconnect_max: 2s\n  health_interval: 5s\n")
            try writeFile(config, text)

            let check = try await h.sitegate(["check", "--config", config])
            #expect(check.status == 0, "an overloaded TCP bus is a warning, not an error: \(check.err)")
            #expect(check.err.contains("bus 'slow' may not keep up"), "\(check.err)")
            #expect(!check.err.contains("bus 'fast'"), "\(check.err)")

            try h.startRecorder()
            try h.startAgent(config: config)
            let root = "gia/v1/test-park/gw01"
            let deadline = ContinuousClock.now + .seconds(40)
            while !(h.recorder!.messages.contains { $0.topic == "\(root)/health" }) {
                guard ContinuousClock.now < deadline else { throw TestSupportError("no health message") }
                try await Task.sleep(for: .milliseconds(200))
            }

            let status = try await h.sitegate(["status", "--config", config, "--json"])
            let s = try #require(Self.json(status.out), "\(status.err)")
            let buses = Dictionary(uniqueKeysWithValues: (s["buses"]?.array ?? []).map { ($0["id"]?.string ?? "?", $0) })
            let fast = try #require(buses["fast"]), slowBus = try #require(buses["slow"])
            #expect((fast["transactions"]?.int ?? 0) >= 4)
            #expect((fast["transaction_ms"]?.number ?? 0) > 0)
            #expect((fast["utilisation"]?.number ?? 1) < 0.5, "two meters take milliseconds of a 1 s tick")
            #expect((slowBus["transaction_ms"]?.number ?? 0) >= 50, "the gateway's min_delay is kept between most requests")
            #expect((slowBus["missed_ticks"]?.int ?? 0) > 0)
            #expect(slowBus["overloaded"]?.bool == true)
            #expect(slowBus["advice"]?.string?.contains("split the bus or lengthen intervals") == true)
            let table = try await h.sitegate(["status", "--config", config])
            #expect(table.out.contains("OVERLOADED: busy"), "\(table.out)")
            #expect(table.out.contains("ms per transaction"))

            await h.stopAll()
            let health = try #require(
                h.recorder!.messages.last { $0.topic == "\(root)/health" }.flatMap { Self.json($0.payload) })
            #expect(health["buses"]?["slow"]?["overloaded"]?.bool == true)
            #expect((health["buses"]?["slow"]?["missed_ticks"]?.int ?? 0) > 0)
            #expect((health["buses"]?["fast"]?["transactions"]?.int ?? 0) > 0)
            try await validateWithSchema(h.recorder!.outputPath)
        }
    }
}
