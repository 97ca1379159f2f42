import Foundation
import SitegateCore
import SitegateTestSupport
import Testing

/// A sample of each typed message the gateway publishes besides data validates against
/// docs/gateway-messages.schema.json with scripts/validate_senml.py (Python jsonschema, independent of this code).
@Suite struct GatewayMessageSchemaValidationTests {
    @Test func samplesOfEachMessageValidate() async throws {
        let root = "gia/v1/demo-park/gw01"
        let status = GatewayStatusMessage(
            state: .online, site: "demo-park", gateway: "gw01", version: "0.1.0", started: "2026-11-29T04:52:34.557Z",
            configHash: "fnv1a64:45a2021997d1675d")
        var offline = status
        offline.state = .offline
        offline.configHash = "unknown"
        let meta = DeviceMetaMessage(
            device: "main-incomer", bn: "urn:dev:gia:demo-park:gw01:main-incomer:", manufacturer: "Eastron",
            models: ["SDM630-Modbus"], medium: "electricity", serial: "23104567",
            map: .init(id: "eastron-sdm630", version: 1, hash: "fnv1a64:519c729f43c996cc"), bus: "rs485-main", unit: 1,
            points: [
                .init(
                    n: "voltage_l1", u: "V", kind: "gauge", obis: "1-0:32.7.0", intervalSeconds: 0.5,
                    description: "Phase 1 \"line\" to neutral voltage", verified: false),
                .init(n: "energy_import", u: nil, kind: "counter", obis: nil, intervalSeconds: 900, description: "", verified: true),
            ])
        let health = HealthMessage(
            time: "2026-01-01T00:16:00.004Z", started: "2025-12-30T08:00:01.120Z",
            devices: [
                "main-incomer": .init(state: .ok, readsOK: 2780, errors: ["timeout": 3], lastGoodRead: "2026-01-01T00:15:00.315Z"),
                "hall": .init(state: .failing, errors: ["crc": 1], backoff: true, backoffSkips: 4, lastError: "crc error"),
                "new": .init(),
            ],
            buses: [
                "plant-lan": .init(
                    transactions: 5566, timeouts: 3, missedTicks: 0, missedTicksRecent: 0, utilisation: 0.004,
                    transactionMS: 1.2, overloaded: false, advice: nil),
                "rs485": .init(
                    transactions: 0, timeouts: 0, missedTicks: 7, missedTicksRecent: 2, utilisation: 0.95, transactionMS: nil,
                    overloaded: true, advice: "busy 95% of the time"),
            ],
            buffer: .init(
                notCommitted: 2, paused: true,
                outbox: .init(
                    depth: 5, oldest: "2026-01-01T00:00:00.000Z", usedBytes: 20480, maxBytes: 134_217_728, drops: 3,
                    dropRange: .init(from: "2025-12-01T00:00:00.000Z", to: nil))),
            broker: .init(published: 2783, node: nil))
        let noOutbox = HealthMessage(
            time: health.time, started: health.started, devices: [:],
            buffer: .init(notCommitted: 0, paused: false, outbox: nil), broker: .init(published: 0, node: "mqtt://h:1883"))
        let lines = [
            "\(root)/status \(status.json)", "\(root)/status \(offline.json)", "\(root)/main-incomer/meta \(meta.json)",
            "\(root)/health \(health.json)", "\(root)/health \(noOutbox.json)",
        ]
        let dir = try TestEnvironment.makeTemporaryDirectory("messages")
        let path = "\(dir)/messages.txt"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try await validateWithSchema(path)
    }

    /// Evidence messages sealed by MessageSealer (chain-start, gap, key-handover, signed and unsigned) and data
    /// messages around them validate against docs/evidence-messages.schema.json and the v2 data schema; so does the
    /// checkpoint of docs/evidence.md. A checkpoint whose counts do not add up fails.
    @Test func evidenceMessagesValidate() async throws {
        var chain = SyntheticChain(signer: IndependentVerifierTests.key)
        chain.polls(6)
        chain.deleteDeclared(1...2)  // first_prev is a hash
        chain.deleteDeclared(0...0)  // the chain-start: first_prev is null
        chain.handOver(to: IndependentVerifierTests.nextKey, endorsed: true)
        chain.handOver(to: IndependentVerifierTests.strangerKey, endorsed: false)
        chain.sign(with: nil)
        chain.polls(1)
        chain.restart(at: 1_764_547_300_000_001)
        let checkpoint = """
            {"kind":"checkpoint","seq":1764547300000002,"prev":"\(Base64.url(SyntheticChain.hash(chain.captured.last!.payload)))",\
            "time":1767226500.012,"slot":{"start":1767225600,"end":1767226500},\
            "agent":{"version":"1.3.0","config_hash":"sha256:\(String(repeating: "3f", count: 32))","maps":{"eastron-sdm630":"2"}},\
            "clock":{"synchronised":true,"unsynchronised_s":0,"max_error_us":16000,"est_error_us":null},\
            "devices":{"main-incomer":{"due":900,"full":898,"partial":1,"failed":1,"missed":{"overrun":0,"clock-step":0,\
            "not-running":0},"first_seq":1764547200000007,"last_seq":1764547200004499},"hall":{"due":3,"full":0,\
            "partial":0,"failed":0,"missed":{"overrun":1,"clock-step":0,"not-running":2}}}}
            """
        let lines = chain.captured.map { "\($0.topic) \($0.text)" } + ["\(SyntheticChain.root)/evidence \(checkpoint)"]
        #expect(lines.filter { $0.contains("/evidence ") }.count == 6)
        let dir = try TestEnvironment.makeTemporaryDirectory("evidence")
        try writeFile("\(dir)/good.txt", lines.joined(separator: "\n") + "\n")
        try await validateWithSchema("\(dir)/good.txt")

        let wrong = checkpoint.replacingOccurrences(of: "\"due\":900", with: "\"due\":901")
        try writeFile("\(dir)/bad.txt", "\(SyntheticChain.root)/evidence \(wrong)\n")
        let validator = try ChildProcess(
            [TestEnvironment.python, "\(TestEnvironment.packageRoot)/scripts/validate_senml.py", "\(dir)/bad.txt"],
            directory: dir, name: "bad")
        #expect(await validator.wait(timeout: .seconds(60)) == 1)
        #expect(validator.standardOutput.contains("due 901 != full + partial + failed + missed (900)"), "\(validator.standardOutput)")
    }
}
