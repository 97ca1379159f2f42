import Foundation
import SitegateTestSupport
import Testing

/// A listener that closes the connection without a CONNACK: logged once with the likely causes, `status` tells
/// "never connected since start" from "connection lost at T", and `mqtt-test` fails at once with the cause.
@Suite(.serialized, .timeLimit(.minutes(2))) struct BrokerNoAnswerTests {
    static let bus = "  - { id: lan, tcp: { host: 127.0.0.1, port: 1502 }, response_timeout: 200ms }"
    static let device = "  - { id: m1, bus: lan, unit: 1, model: eastron-sdm630, interval: 10s }"

    /// How often `text` occurs in `log`.
    static func count(_ text: String, in log: String) -> Int { log.components(separatedBy: text).count - 1 }

    @Test func listenerThatClosesAtOnce() async throws {
        try await Harness.with("noanswer") { h in
            let listener = try ClosingListener()
            let serving = Task { await listener.serve() }
            defer {
                listener.stop()
                serving.cancel()
            }
            let config = try h.writeConfig(buses: Self.bus, devices: Self.device)
                .replacingMQTT(with: "  url: mqtt://127.0.0.1:\(listener.port)\n  reconnect_max: 1s")

            // mqtt-test: the cause at once, long before its 60 s timeout (the harness gives up after 30 s).
            let test = try await h.sitegate(["mqtt-test", "--timeout", "60s", "--config", config], timeout: .seconds(30))
            #expect(test.status == 1, "\(test.out)\(test.err)")
            #expect(test.out.contains("closed the connection without answering (no CONNACK)"), "\(test.out)")
            #expect(test.out.contains("the port expects TLS (use mqtts://)") && test.out.contains("not an MQTT listener"))

            try h.startAgent(config: config)
            let agent = h.agent!
            _ = try await agent.waitForOutput(
                containing: "closed the connection without answering", inStandardError: true, timeout: .seconds(20))
            // Several more attempts (reconnect_max 1 s): still one line.
            let deadline = ContinuousClock.now + .seconds(20)
            while listener.accepted < 5 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(listener.accepted >= 5, "the agent keeps trying")
            let log = agent.standardError
            #expect(Self.count("closed the connection without answering", in: log) == 1, "\(log.suffix(3000))")
            #expect(log.contains("retrying in 1 s") || log.contains("retrying in 0 s") || log.contains("ms; readings"), "\(log)")
            #expect(!log.contains("seconds;"), "durations are rounded")
            #expect(!log.contains("The connection was lost"), "never connected: not 'lost'")

            let status = try await h.sitegate(["status", "--config", config])
            #expect(status.out.contains("NOT CONNECTED, never connected since start: closed without answering"), "\(status.out)")
            let json = try await h.sitegate(["status", "--json", "--config", config])
            #expect(json.out.contains("\"state\":\"never connected since start\""), "\(json.out)")
            #expect(json.out.contains("\"lost_at\":null"))
        }
    }

    /// A TLS-only listener spoken to in plain text closes the connection without an MQTT answer.
    @Test func tlsListenerSpokenToInPlainText() async throws {
        let certs = try await MQTTSecurityTests.makeCertificates(in: try Harness.prepare("certs-plain"))
        try await Harness.with("plain-to-tls", tls: certs.tls) { h in
            let config = try h.writeConfig(buses: Self.bus, devices: Self.device)
                .replacingMQTT(with: "  url: mqtt://127.0.0.1:\(h.broker.tlsPort!)\n  reconnect_max: 1s")
            let test = try await h.sitegate(["mqtt-test", "--timeout", "60s", "--config", config], timeout: .seconds(30))
            #expect(test.status == 1 && test.out.contains("without answering (no CONNACK)"), "\(test.out)\(test.err)")
            #expect(test.out.contains("the port expects TLS (use mqtts://)"))
            try h.startAgent(config: config)
            _ = try await h.agent!.waitForOutput(
                containing: "likely the port expects TLS (use mqtts://)", inStandardError: true, timeout: .seconds(20))
        }
    }

    /// After a session: "connection lost at T", and the node named.
    @Test func lostAfterASession() async throws {
        try await Harness.with("lost-at") { h in
            let config = try h.writeConfig(buses: Self.bus, devices: Self.device)
            try h.startAgent(config: config)
            _ = try await h.agent!.waitForOutput(containing: "connected to the broker", inStandardError: true, timeout: .seconds(20))
            let up = try await h.sitegate(["status", "--json", "--config", config])
            #expect(up.out.contains("\"url\":\"\(h.broker.url)\"") && up.out.contains("\"state\":\"connected\""), "\(up.out)")
            await h.broker.stop()
            _ = try await h.agent!.waitForOutput(containing: "lost the broker connection", inStandardError: true, timeout: .seconds(20))
            let status = try await h.sitegate(["status", "--config", config])
            #expect(status.out.contains("NOT CONNECTED, connection lost at 20"), "\(status.out)")
        }
    }
}
