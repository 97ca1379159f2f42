import Foundation
import SitegateBuffer
import SitegateCore
import SitegateTestSupport
import Testing

/// `mqtt.url` lists two nodes (two mosquittos standing in for a cluster); the node in use hangs, then is killed
/// mid-run; later both are down, and the second returns.
@Suite(.serialized, .timeLimit(.minutes(3))) struct BrokerFailoverTests {
    @Test func switchesToTheSurvivingNodeAndLosesNothing() async throws {
        try await Harness.with("failover") { h in
            let nodeB = try await MosquittoBroker(directory: try TestEnvironment.makeTemporaryDirectory("failover-b"))
            do {
                try await run(h, nodeB)
            } catch {
                await nodeB.stop()
                throw error
            }
            await nodeB.stop()
        }
    }

    private func run(_ h: Harness, _ nodeB: MosquittoBroker) async throws {
        try await h.startSimulator(units: [1, 2, 3], frozen: false)
        let config = try h.writeConfig(
            devices: [("m1", 1), ("m2", 2), ("m3", 3)], interval: "200ms", minDelay: "0ms",
            mqtt: "  url:\n    - \(h.broker.url)\n    - \(nodeB.url)\n  topic_prefix: gia/v1\n  reconnect_max: 2s")
        // A subscriber on each node, as a cluster's consumers would see it.
        try h.startRecorder()
        let survivor = try TopicRecorder(port: nodeB.port, topic: "gia/v1/#", directory: h.directory, clientID: "recorder-b")
        try h.startAgent(config: config)
        try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 20 }
        let before = try await h.sitegate(["status", "--config", config])
        #expect(before.out.contains("broker \(h.broker.url) (node 1 of 2): connected"), "\(before.out)")

        // The node in use hangs (acks stop, messages pile up in flight), then dies; time from its death until the
        // survivor's subscriber has the first message.
        h.broker.suspend()
        try await Task.sleep(for: .seconds(1))
        let killedAt = ContinuousClock.now
        await h.broker.kill()
        var switchTime: Duration?
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if survivor.messages.contains(where: { $0.topic.hasSuffix("/data") }) {
                switchTime = ContinuousClock.now - killedAt
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(switchTime != nil, "nothing arrived at the surviving node; agent log:\n\(h.agent!.standardError.suffix(3000))")
        try await Task.sleep(for: .seconds(3))
        let after = try await h.sitegate(["status", "--config", config])
        #expect(after.out.contains("broker \(nodeB.url) (node 2 of 2): connected"), "\(after.out)")
        let log = h.agent!.standardError
        #expect(log.contains("switching broker node: trying \(nodeB.url)"))
        let inflight = log.split(separator: "\n").first { $0.contains("lost the broker connection") }
            .flatMap { $0.split(separator: "mqtt.inflight=").last }.flatMap { Int($0) } ?? 0
        #expect(inflight > 0, "messages were in flight when the node died (re-sent to the survivor)")

        // Every node down: the client cycles through both with backoff, each problem and switch logged once. Then
        // node 2 returns, the agent gets back in there and the backlog drains.
        await nodeB.stop()
        try await Task.sleep(for: .seconds(6))
        let outage = String(h.agent!.standardError.dropFirst(log.count))
        #expect(outage.components(separatedBy: "cannot reach the broker").count - 1 <= 2, "once per node:\n\(outage)")
        #expect(outage.components(separatedBy: "switching broker node").count - 1 <= 2, "once per node:\n\(outage)")
        let beforeOutage = survivor.messages.compactMap { DataMessage($0.topic, $0.payload)?.seq }.max() ?? 0
        try await nodeB.start()
        let back = ContinuousClock.now + .seconds(60)
        while !survivor.messages.contains(where: {
            guard let seq = DataMessage($0.topic, $0.payload)?.seq, let below = h.backlogBelow() else { return false }
            return seq > beforeOutage && seq < below
        }) {
            guard ContinuousClock.now < back else {
                throw TestSupportError("no backfill at node 2 after it returned:\n\(h.agent!.standardError.suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(2))

        let exit = await h.agent!.terminate()
        #expect(exit == 0)
        try await Task.sleep(for: .milliseconds(500))
        await h.recorder!.stop()
        await survivor.stop()

        let first = h.dataMessages()
        let atB = survivor.messages.filter { $0.topic.hasSuffix("/data") }.compactMap { DataMessage($0.topic, $0.payload) }
        let received = Set(first.map(\.seq)).union(atB.map(\.seq))
        let (_, _, lost) = try await h.lostPolls(received: received)
        // A broker frozen with SIGSTOP and then killed can lose what it had already acknowledged: mosquitto writes
        // the PUBACK before it forwards the message to its subscriber, and the freeze can fall between the two.
        // The broker owned those messages (QoS 1); the agent did its part. Anything else missing is the agent's.
        let lastAtNode1 = first.map(\.seq).max() ?? 0
        let firstAtB = atB.map(\.seq).min() ?? .max
        let ackedByTheDyingNode = lost.filter { $0 > lastAtNode1 && $0 < firstAtB }
        #expect(
            lost.subtracting(ackedByTheDyingNode).isEmpty && ackedByTheDyingNode.count <= 3,
            "lost seqs: \(lost.sorted()) (last at node 1 \(lastAtNode1), first at node 2 \(firstAtB))")
        #expect(atB.count > 10, "the survivor took over the stream")
        let duplicates = first.count + atB.count - received.count
        print(
            "failover: switch took \(switchTime.map { "\($0.milliseconds) ms" } ?? "-") from the kill to the first message at "
                + "the surviving node; \(inflight) in flight at the kill; \(received.count) distinct seqs (\(first.count) at node 1, \(atB.count) at node 2), "
                + "\(duplicates) duplicates, \(lost.count) lost (\(ackedByTheDyingNode.count) acknowledged by the frozen node, never forwarded)")
    }
}
