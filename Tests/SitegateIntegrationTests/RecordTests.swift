import Foundation
import SitegateCore
import SitegateCrypto
import SitegateTestSupport
import Testing

/// `sitegate record` against a private mosquitto, fed by mosquitto_pub (an independent client), then `verify` on
/// what it wrote: the capture holds the exact bytes, and a persistent session gets what was sent while it was away.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RecordTests {
    static let root = "gia/v1/demo-park/gw01"

    /// A signed chain of `count` polls after a chain start; payloads in seq order.
    static func chain(count: Int, key: Ed25519Key) -> [(topic: String, payload: [UInt8])] {
        let crypto = LibCrypto()
        let sealer = MessageSealer(crypto: crypto, signer: key)
        let encoder = SenMLEncoder(siteID: "demo-park", gatewayID: "gw01")
        var head: [UInt8]?
        var out: [(String, [UInt8])] = []
        let t0: Int64 = 1_767_225_600_000
        let drafts =
            [ChainStart(reason: .newDatabase).draft(at: UnixTime(milliseconds: t0))]
            + (1...count).map { i in
                encoder.draft(
                    Poll(
                        deviceID: "main-incomer", takenAt: UnixTime(milliseconds: t0 + Int64(i) * 1000),
                        readings: [Reading(pointID: "energy_import", unit: "kWh", value: .number(100 + Double(i) / 10))]))
            }
        for (i, draft) in drafts.enumerated() {
            let payload = sealer.seal(draft, seq: 1_764_547_200_000_001 + Int64(i), prev: head)
            head = sealer.link(to: payload)
            out.append((draft.destination == .evidence ? "\(root)/evidence" : "\(root)/main-incomer/data", payload))
        }
        return out
    }

    /// mosquitto_pub sends the file's bytes as they are (-f), QoS 1.
    static func publish(_ payload: [UInt8], topic: String, port: Int, directory: String, retain: Bool = false) async throws {
        let file = "\(directory)/payload-\(UInt32.random(in: 0...UInt32.max))"
        try Data(payload).write(to: URL(fileURLWithPath: file))
        let p = try ChildProcess(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", String(port), "-q", "1", "-t", topic, "-f", file] + (retain ? ["-r"] : []),
            directory: directory, name: "pub")
        #expect(await p.wait(timeout: .seconds(10)) == 0, "\(p.standardError)")
    }

    /// Publishes probes until the recorder has written one: from then on its subscription is active.
    static func waitUntilRecording(_ capture: String, port: Int, directory: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            try await publish(Array("probe".utf8), topic: "\(root)/probe", port: port, directory: directory)
            try await Task.sleep(for: .milliseconds(200))
            if ((try? String(contentsOfFile: capture, encoding: .utf8)) ?? "").contains("\(root)/probe") { return }
        }
        throw TestSupportError("the recorder wrote nothing")
    }

    static func lines(_ capture: String) throws -> [CaptureRecord] {
        try String(contentsOfFile: capture, encoding: .utf8).split(separator: "\n").map { try #require(CaptureRecord(json: String($0))) }
    }

    @Test func recordsExactBytesAndVerifies() async throws {
        try #require(TestEnvironment.hasTool("mosquitto_pub"))
        try await Harness.with("record") { h in
            let key = try Ed25519Key.fromSeed([UInt8](repeating: 9, count: 32))
            let keys = "\(h.directory)/gw01.keys"
            try "ed25519 \(Base64.url(key.publicKey))\n".write(toFile: keys, atomically: true, encoding: .utf8)
            let meta = Array(#"{"device":"main-incomer","bn":"urn:dev:gia:demo-park:gw01:main-incomer:","map":{"id":"m"},"points":[]}"#.utf8)
            try await Self.publish(meta, topic: "\(Self.root)/main-incomer/meta", port: h.broker.port, directory: h.directory, retain: true)

            let capture = "\(h.directory)/capture.ndjson"
            let recorder = try ChildProcess(
                [TestEnvironment.sitegateBinary, "record", "--broker", h.broker.url, "--topic", "\(Self.root)/#", "-o", capture],
                directory: h.directory, name: "record")
            defer { recorder.signal(SIGKILL) }
            try await Self.waitUntilRecording(capture, port: h.broker.port, directory: h.directory)
            let chain = Self.chain(count: 5, key: key)
            // Out of order on purpose: verify orders by seq.
            for i in [0, 1, 3, 2, 4, 5] { try await Self.publish(chain[i].payload, topic: chain[i].topic, port: h.broker.port, directory: h.directory) }
            let deadline = ContinuousClock.now + .seconds(20)
            while try Self.lines(capture).filter({ !$0.topic.hasSuffix("probe") && !$0.retain }).count < 6, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            recorder.signal(SIGINT)
            #expect(await recorder.wait(timeout: .seconds(15)) == 0, "\(recorder.standardError)")
            #expect(recorder.standardError.contains("recorded"))

            let lines = try Self.lines(capture)
            let retained = lines.filter(\.retain)
            #expect(retained.map(\.topic) == ["\(Self.root)/main-incomer/meta"] && retained.first?.payload == meta)
            let chained = lines.filter { !$0.retain && !$0.topic.hasSuffix("probe") }
            #expect(chained.map(\.payload) == [0, 1, 3, 2, 4, 5].map { chain[$0].payload })
            #expect(chained.allSatisfy { $0.arrivedAt.milliseconds > 1_700_000_000_000 })

            let verify = try await h.sitegate(["verify", capture, "--keys", keys])
            #expect(verify.status == 0, "\(verify.out)\(verify.err)")
            #expect(verify.out.contains("6 messages"))
            let audit = try await h.sitegate(["audit", capture, "--counters", "energy_import", "--format", "csv"])
            #expect(audit.status == 0, "\(audit.err)")
            #expect(audit.out.hasPrefix("gateway,slot_start,slot_end,device,point,unit,status,energy"))
            #expect(audit.out.contains(",main-incomer,energy_import,kWh,MISSING,"), "no reading before the first slot's start")
            #expect(try await h.sitegate(["audit", capture, "--slot", "7m"]).status == 64)
            let badKeys = "\(h.directory)/bad.keys"
            try "ed25519 AAAA\n".write(toFile: badKeys, atomically: true, encoding: .utf8)
            let unreadable = try await h.sitegate(["verify", capture, "--keys", badKeys])
            #expect(unreadable.status == 1 && unreadable.err.contains("bad.keys:1:9: error:"), "\(unreadable.err)")
            // A capture line changed by one digit: the signature fails.
            var text = try String(contentsOfFile: capture, encoding: .utf8)
            let victim = chained[3]
            var tampered = victim
            tampered.payload = Array(String(decoding: victim.payload, as: UTF8.self).replacingOccurrences(of: "100.2", with: "100.7").utf8)
            text = text.replacingOccurrences(of: victim.json, with: tampered.json)
            try text.write(toFile: capture, atomically: true, encoding: .utf8)
            let bad = try await h.sitegate(["verify", capture, "--keys", keys, "--json"])
            #expect(bad.status == 14, "\(bad.out)")
            #expect(bad.out.contains(#""class":"bad-signature""#))
        }
    }

    /// The real agent's signed chain (two meters on the simulator), recorded with the site's config: it verifies, and
    /// the audit accounts for the counter points its retained meta names.
    @Test func agentCaptureVerifiesAndAudits() async throws {
        try await Harness.with("record-agent") { h in
            try await h.startSimulator(units: [1, 2], frozen: false)
            let config = try h.writeConfig(devices: [("main-incomer", 1), ("hall", 2)], interval: "1s")
            let capture = "\(h.directory)/capture.ndjson"
            let recorder = try ChildProcess(
                [TestEnvironment.sitegateBinary, "record", "--config", config, "-o", capture], directory: h.directory, name: "record")
            defer { recorder.signal(SIGKILL) }
            _ = try await recorder.waitForOutput(containing: "recording", inStandardError: true, timeout: .seconds(20))
            try h.startAgent(config: config)
            let deadline = ContinuousClock.now + .seconds(60)
            while try Self.lines(capture).filter({ $0.topic.hasSuffix("/data") }).count < 12, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            await h.agent?.terminate()
            try await Task.sleep(for: .milliseconds(500))
            recorder.signal(SIGINT)
            #expect(await recorder.wait(timeout: .seconds(15)) == 0, "\(recorder.standardError)")
            let lines = try Self.lines(capture)
            // Published while the recorder listened: delivered live, so not flagged retained.
            #expect(lines.contains { !$0.retain && $0.topic == "gia/v1/test-park/gw01/main-incomer/meta" })

            // The harness's configs sign with a key of their own, registered in keys.txt.
            let verify = try await h.sitegate(["verify", capture, "--keys", "\(h.directory)/keys.txt"])
            #expect(verify.status == 0, "\(verify.out)")
            #expect(verify.out.contains("signatures: ") && !verify.out.contains("signatures: 0 verified"), "\(verify.out)")
            let unchecked = try await h.sitegate(["verify", capture])
            #expect(unchecked.status == 0 && unchecked.out.contains("signatures: NOT CHECKED"))
            let audit = try await h.sitegate(["audit", capture, "--format", "json"])
            #expect(audit.status == 0, "\(audit.err)")
            let json = try #require(JSONValue.parse(audit.out.trimmingCharacters(in: .whitespacesAndNewlines)))
            let rows = json["gateways"]?.array?.first?["rows"]?.array ?? []
            #expect(Set(rows.compactMap { $0["device"]?.string }) == ["main-incomer", "hall"])
            #expect(rows.contains { $0["point"]?.string == "energy_import" })
        }
    }

    /// With --persistent the broker queues what is published while the recorder is stopped.
    @Test func persistentSessionCatchesUp() async throws {
        try #require(TestEnvironment.hasTool("mosquitto_pub"))
        try await Harness.with("record-persistent") { h in
            let capture = "\(h.directory)/capture.ndjson"
            let arguments = [
                TestEnvironment.sitegateBinary, "record", "--broker", h.broker.url, "--topic", "\(Self.root)/#", "-o", capture,
                "--persistent", "--client-id", "test-recorder",
            ]
            let first = try ChildProcess(arguments, directory: h.directory, name: "record-1")
            defer { first.signal(SIGKILL) }
            try await Self.waitUntilRecording(capture, port: h.broker.port, directory: h.directory)
            first.signal(SIGTERM)
            #expect(await first.wait(timeout: .seconds(15)) == 0)
            let chain = Self.chain(count: 3, key: try Ed25519Key.fromSeed([UInt8](repeating: 9, count: 32)))
            for m in chain { try await Self.publish(m.payload, topic: m.topic, port: h.broker.port, directory: h.directory) }
            // Back with the same id: the queued messages arrive; --duration ends it.
            let second = try ChildProcess(arguments + ["--duration", "5s"], directory: h.directory, name: "record-2")
            defer { second.signal(SIGKILL) }
            #expect(await second.wait(timeout: .seconds(30)) == 0, "\(second.standardError)")
            let chained = try Self.lines(capture).filter { !$0.topic.hasSuffix("probe") }
            #expect(chained.map(\.payload) == chain.map(\.payload))
            let verify = try await h.sitegate(["verify", capture])
            #expect(verify.status == 0 && verify.out.contains("NOT CHECKED"), "\(verify.out)")
        }
    }
}
