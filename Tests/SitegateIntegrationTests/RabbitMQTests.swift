import Foundation
import SitegateBuffer
import SitegateCore
import SitegateTestSupport
import Testing

/// One RabbitMQ (Debian's rabbitmq-server with its MQTT plugin) for the whole suite: its first start is slow.
struct SharedRabbitMQ: SuiteTrait, TestScoping {
    @TaskLocal static var broker: RabbitMQBroker?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory("rabbitmq")
        let started = ContinuousClock.now
        let broker = try await RabbitMQBroker(directory: directory)
        print("rabbitmq: first start took \((ContinuousClock.now - started).milliseconds) ms")
        do {
            try await Self.$broker.withValue(broker) { try await function() }
        } catch {
            await broker.shutdown()
            throw error
        }
        await broker.shutdown()
    }
}

/// A second broker implementation: values and seq, a broker restart with nothing lost, retained status and meta,
/// the last will, and MQTT 5 (which RabbitMQ 3.10 does not speak) refused clearly.
@Suite(.serialized, .timeLimit(.minutes(3)), SharedRabbitMQ()) struct RabbitMQTests {
    var rabbit: RabbitMQBroker { SharedRabbitMQ.broker! }

    /// The harness's config pointed at RabbitMQ, under a site id of the test's own (the broker is shared).
    func config(_ h: Harness, site: String, devices: [(id: String, unit: Int)], interval: String, extraMQTT: String = "")
        throws -> String
    {
        let path = try h.writeConfig(
            devices: devices, interval: interval, minDelay: "0ms",
            mqtt: "  url: \(rabbit.url)\n  topic_prefix: gia/v1\n  reconnect_max: 2s\(extraMQTT)")
        try writeFile(path, try readFile(path).replacingOccurrences(of: "id: test-park", with: "id: \(site)"))
        return path
    }

    @Test func valuesAndSeqSurviveABrokerRestart() async throws {
        try await Harness.with("rmq-restart") { h in
            try await h.startSimulator(units: [1, 2], frozen: false)
            let config = try config(h, site: "rmq-restart", devices: [("m1", 1), ("m2", 2)], interval: "200ms")
            try h.startRecorder(port: rabbit.port, clientID: "rmq-restart-recorder")
            try h.startAgent(config: config)
            try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 10 }
            let first = try #require(h.dataMessages().first)
            #expect(first.values["voltage_l1"] != nil, "values arrive: \(first.payload)")
            #expect(first.topic == "gia/v1/rmq-restart/gw01/\(first.device)/data")

            let beforeOutage = h.dataMessages().map(\.seq).max() ?? 0
            await rabbit.stop()
            try await Task.sleep(for: .seconds(2))
            try await rabbit.start()
            try await h.waitForMessages(timeout: .seconds(60)) {
                $0.contains { $0.seq > beforeOutage && $0.seq < (h.backlogBelow() ?? 0) }
            }
            try await Task.sleep(for: .seconds(2))
            #expect(await h.agent!.terminate() == 0)
            try await Task.sleep(for: .milliseconds(500))
            await h.recorder!.stop()

            let messages = h.dataMessages()
            let received = Set(messages.map(\.seq))
            let (committed, _, lost) = try await h.lostPolls(received: received)
            #expect(committed > 51, "enough polls to make the test meaningful")
            #expect(lost.isEmpty, "lost seqs: \(lost.sorted())")
            print(
                "rabbitmq restart: committed \(committed), received \(received.count) distinct, "
                    + "\(messages.count - received.count) duplicates, \(lost.count) lost")
        }
    }

    @Test func retainedStatusMetaAndLastWill() async throws {
        try await Harness.with("rmq-will") { h in
            try await h.startSimulator(units: [1], frozen: true)
            let config = try config(h, site: "rmq-will", devices: [("m1", 1)], interval: "10s")
            try h.startAgent(config: config)
            _ = try await h.agent!.waitForOutput(containing: "connected to the broker", inStandardError: true, timeout: .seconds(20))
            try await Task.sleep(for: .milliseconds(500))
            let root = "gia/v1/rmq-will/gw01"

            // A subscriber that comes later gets the retained birth and meta. (RabbitMQ 3.10 hands out retained
            // messages only to subscriptions without wildcards: one per topic.)
            let late = try TopicRecorder(port: rabbit.port, topic: "\(root)/status", directory: h.directory, clientID: "rmq-will-late")
            let meta = try TopicRecorder(port: rabbit.port, topic: "\(root)/m1/meta", directory: h.directory, clientID: "rmq-will-meta")
            try await Self.waitFor(late, timeout: .seconds(20)) { !$0.isEmpty }
            try await Self.waitFor(meta, timeout: .seconds(20)) { !$0.isEmpty }
            #expect(late.messages[0].payload.contains("\"state\":\"online\""), "\(late.messages[0].payload)")
            #expect(meta.messages[0].payload.contains("\"manufacturer\":\"Eastron\""))
            await meta.stop()

            // A gateway that vanishes: the broker publishes the last will, and keeps it as the retained status.
            h.agent!.signal(SIGKILL)
            try await Self.waitFor(late, timeout: .seconds(30)) { messages in
                messages.contains { $0.topic == "\(root)/status" && $0.payload.contains("\"state\":\"offline\"") }
            }
            await late.stop()
            let after = try TopicRecorder(port: rabbit.port, topic: "\(root)/status", directory: h.directory, clientID: "rmq-will-after")
            try await Self.waitFor(after, timeout: .seconds(20)) { !$0.isEmpty }
            #expect(after.messages.last!.payload.contains("\"state\":\"offline\""), "the will is retained")
            await after.stop()
        }
    }

    /// RabbitMQ 3.10 closes an MQTT 5 connection without a CONNACK: named once, with the cause, in the log, status
    /// and mqtt-test.
    @Test func mqttFiveIsRefusedClearly() async throws {
        try await Harness.with("rmq-v5") { h in
            try await h.startSimulator(units: [1], frozen: true)
            // Under 3.1.1 the test message makes the round trip.
            let good = try config(h, site: "rmq-v5", devices: [("m1", 1)], interval: "10s")
            let roundTrip = try await h.sitegate(["mqtt-test", "--config", good], timeout: .seconds(30))
            #expect(roundTrip.status == 0 && roundTrip.out.contains("read back:   same message"), "\(roundTrip.out)")

            let config = try config(h, site: "rmq-v5", devices: [("m1", 1)], interval: "10s", extraMQTT: "\n  protocol: \"5\"")
            let test = try await h.sitegate(["mqtt-test", "--timeout", "60s", "--config", config], timeout: .seconds(30))
            #expect(test.status == 1, "\(test.out)\(test.err)")
            #expect(test.out.contains("without answering (no CONNACK): likely the broker does not support MQTT 5"), "\(test.out)")

            try h.startAgent(config: config)
            _ = try await h.agent!.waitForOutput(
                containing: "likely the broker does not support MQTT 5", inStandardError: true, timeout: .seconds(20))
            try await Task.sleep(for: .seconds(5))  // several more attempts (reconnect_max 2 s)
            let log = h.agent!.standardError
            #expect(log.components(separatedBy: "closed the connection without answering").count == 2, "logged once:\n\(log)")
            let status = try await h.sitegate(["status", "--config", config])
            #expect(status.out.contains("NOT CONNECTED, never connected since start: closed without answering"), "\(status.out)")
        }
    }

    static func waitFor(
        _ recorder: TopicRecorder, timeout: Duration, _ condition: ([(topic: String, payload: String)]) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(recorder.messages) {
            guard ContinuousClock.now < deadline else {
                throw TestSupportError("timed out; received: \(recorder.messages.map(\.topic))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
