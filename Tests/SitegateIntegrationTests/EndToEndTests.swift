import Foundation
import SitegateBuffer
import SitegateConfig
import SitegateCore
import SitegateSimulator
import SitegateTestSupport
import Testing

/// The whole path with real processes: simulator (libmodbus) -> agent -> SQLite -> mosquitto -> mosquitto_sub.
@Suite(.serialized, .timeLimit(.minutes(2))) struct EndToEndTests {
    static func loadMap(_ id: String) throws -> DeviceMap {
        guard case .found(let map, _) = MapLibrary(searchPaths: [TestEnvironment.shippedMaps]).load(id) else {
            throw TestSupportError("map \(id) does not load")
        }
        return map
    }

    /// What the frozen simulator serves for `point` under `unit`, as it comes back through the registers.
    static func served(_ point: PointDefinition, unit: Int) -> Double {
        let words = RegisterEncoder.encode(SimulatedValues.value(for: point, unit: unit, elapsed: 0), as: point)
        guard case .number(let v) = RegisterDecoder.decode(words, as: point) else { return .nan }
        return v
    }

    @Test func valuesReachTheBrokerAsServed() async throws {
        try await Harness.with("e2e") { h in
        try await h.startSimulator(units: [1, 7], frozen: true)
        let config = try h.writeConfig(devices: [("main-incomer", 1), ("hall-7", 7)], interval: "1s")
        try h.startRecorder()
        try h.startAgent(config: config)
        try await h.waitForMessages(timeout: .seconds(30)) { messages in
            Set(messages.map(\.device)) == ["main-incomer", "hall-7"] && messages.count >= 6
        }
        let exit = await h.agent!.terminate()
        #expect(exit == 0, "agent exit status; log:\n\(h.agent!.standardError.suffix(2000))")

        let map = try Self.loadMap("eastron-sdm630")
        let messages = h.dataMessages()
        for message in messages {
            let unit = message.device == "main-incomer" ? 1 : 7
            #expect(message.records[0]["bn"] as? String == "urn:dev:gia:test-park:gw01:\(message.device):")
            #expect(message.records[0]["bver"] as? Int == 26)  // kWh and kvarh are RFC 8798 secondary units
            let values = message.values
            #expect(values.count == 15, "every default point of the SDM630 map")
            for (id, value) in values {
                let point = try #require(map.point(id))
                // float32 registers travel in their shortest decimal form: compare as Float.
                let served = Self.served(point, unit: unit)
                #expect(point.type == .f32 ? Float(value) == Float(served) : value == served, "\(message.device).\(id)")
            }
        }
        // Sequence numbers are gateway-wide: across both devices, no gaps, no repeats.
        let seqs = messages.map(\.seq)
        #expect(seqs == Array(seqs.min()!...seqs.max()!))
        await h.stopAll()
        try await validateWithSchema(h.recorder!.outputPath)
        }
    }

    /// mbpoll, an independent Modbus client, reads the simulator's registers as the map describes them.
    @Test func mbpollReadsTheSimulatorsFloats() async throws {
        try #require(TestEnvironment.hasTool("mbpoll"), "mbpoll is installed by make deps")
        try await Harness.with("mbpoll") { h in
        let port = try await h.startSimulator(units: [3], frozen: true)
        let map = try Self.loadMap("eastron-sdm630")
        // mbpoll numbers registers from 1 (30001 style) and -B reads floats most significant word first.
        let mbpoll = try ChildProcess(
            ["mbpoll", "-m", "tcp", "-p", String(port), "-a", "3", "-t", "3:float", "-B", "-r", "1", "-c", "3", "-1",
             "127.0.0.1"], directory: h.directory, name: "mbpoll")
        #expect(await mbpoll.wait(timeout: .seconds(10)) == 0, "\(mbpoll.standardError)")
        let lines = mbpoll.standardOutput.split(separator: "\n").filter { $0.hasPrefix("[") }
        #expect(lines.count == 3)
        for (line, id) in zip(lines, ["voltage_l1", "voltage_l2", "voltage_l3"]) {
            let printed = try #require(Double(line.split(separator: "\t").last!.trimmingCharacters(in: .whitespaces)))
            let expected = Self.served(try #require(map.point(id)), unit: 3)
            #expect(abs(printed - expected) < 0.01, "\(id): mbpoll \(printed), map \(expected)")
        }
        }
    }

    @Test func checkCommandExitCodes() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("check")
        try writeFile(
            "\(dir)/bad.yaml",
            """
            site: { id: demo, gateway: gw01 }
            mqtt: { url: "mqtt://127.0.0.1:1883" }
            buffer: { path: b.db }
            maps: [\(TestEnvironment.shippedMaps)]
            buses: [{ id: lan, tcp: { host: 127.0.0.1 } }]
            devices: [{ id: m1, bus: lan, unit: 1, model: eastron-sdm999, interval: 10s }]
            """)
        let bad = try ChildProcess(
            [TestEnvironment.sitegateBinary, "check", "--config", "\(dir)/bad.yaml"], directory: dir, name: "bad")
        #expect(await bad.wait(timeout: .seconds(10)) == 78)
        #expect(bad.standardError.contains("\(dir)/bad.yaml:6:47: error: unknown model 'eastron-sdm999'"), "\(bad.standardError)")
        let good = try ChildProcess(
            [TestEnvironment.sitegateBinary, "check", "--config", "\(TestEnvironment.packageRoot)/devicemaps/sites/demo.yaml"],
            directory: dir, name: "good")
        #expect(await good.wait(timeout: .seconds(10)) == 0, "\(good.standardError)")
    }
}

/// Runs scripts/validate_senml.py (Python jsonschema, an independent validator) over a recorder's output, and
/// scripts/verify_evidence.py (a second implementation of the chain, written from docs/evidence.md) over the same
/// messages: the chain must hold without an undeclared gap.
func validateWithSchema(_ recordedPath: String) async throws {
    let dir = try TestEnvironment.makeTemporaryDirectory("schema")
    let validator = try ChildProcess(
        [TestEnvironment.python, "\(TestEnvironment.packageRoot)/scripts/validate_senml.py", "--require-v2", recordedPath],
        directory: dir, name: "validate")
    let status = await validator.wait(timeout: .seconds(60))
    #expect(
        status == 0 && validator.standardOutput.contains(" passed, 0 failed"),
        "schema validation:\n\(validator.standardOutput.suffix(3000))\n\(validator.standardError.suffix(2000))")

    // `mosquitto_sub -v` lines (topic, a space, the payload) as a `sitegate record` capture.
    let capture = try readFile(recordedPath).split(separator: "\n").compactMap { line -> String? in
        guard let space = line.firstIndex(of: " ") else { return nil }
        let payload = Base64.standard(Array(line[line.index(after: space)...].utf8))
        return "{\"arrived_ms\":0,\"topic\":\"\(line[..<space])\",\"retain\":false,\"payload\":\"\(payload)\"}\n"
    }.joined()
    // The harness's configs sign with the key it registered beside the recording.
    let keys = (recordedPath as NSString).deletingLastPathComponent + "/keys.txt"
    let chain = try await verify(capture, keys: FileManager.default.fileExists(atPath: keys) ? try readFile(keys) : nil)
    #expect(chain.status == 0, "chain verification:\n\(chain.output.suffix(3000))")
}

/// Status (birth and offline), meta and health messages next to the data.
@Suite(.serialized, .timeLimit(.minutes(2))) struct AnnouncementTests {
    static func json(_ payload: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]
    }

    @Test func statusMetaAndHealth() async throws {
        try await Harness.with("announce") { h in
            try await h.startSimulator(units: [1, 2], frozen: true)
            let config = try h.writeConfig(
                devices: [("main-incomer", 1), ("hall", 2)], interval: "1s",
                mqtt: "  url: \(h.broker.url)\n  topic_prefix: gia/v1\n  health_interval: 5s")
            try h.startRecorder()
            try h.startAgent(config: config)
            let root = "gia/v1/test-park/gw01"
            let deadline = ContinuousClock.now + .seconds(30)
            while !(h.recorder!.messages.contains { $0.topic == "\(root)/health" }) {
                guard ContinuousClock.now < deadline else { throw TestSupportError("no health message") }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(await h.agent!.terminate() == 0)
            try await Task.sleep(for: .milliseconds(500))
            let messages = h.recorder!.messages
            let statuses = messages.filter { $0.topic == "\(root)/status" }.compactMap { Self.json($0.payload) }
            #expect(statuses.first?["state"] as? String == "online")
            #expect(statuses.last?["state"] as? String == "offline", "a clean stop says offline")
            #expect((statuses.first?["config_hash"] as? String)?.hasPrefix("fnv1a64:") == true)
            let meta = try #require(messages.first { $0.topic == "\(root)/main-incomer/meta" }.flatMap { Self.json($0.payload) })
            #expect(meta["manufacturer"] as? String == "Eastron")
            #expect((meta["points"] as? [[String: Any]])?.count == 15)
            #expect((meta["map"] as? [String: Any])?["id"] as? String == "eastron-sdm630")
            let health = try #require(messages.last { $0.topic == "\(root)/health" }.flatMap { Self.json($0.payload) })
            let devices = try #require(health["devices"] as? [String: Any])
            #expect(Set(devices.keys) == ["main-incomer", "hall"])
            #expect(((devices["hall"] as? [String: Any])?["reads_ok"] as? Int ?? 0) >= 3)
            #expect((health["buffer"] as? [String: Any])?["depth"] != nil)
            #expect((health["broker"] as? [String: Any])?["node"] as? String == h.broker.url, "the node in use")
            await h.stopAll()
            try await validateWithSchema(h.recorder!.outputPath)
        }
    }
}
