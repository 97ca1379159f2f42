import Foundation
import SitegateCore
import SitegateCrypto
import SitegateTestSupport
import Testing

/// The examples of docs/payload.md are what the real encoder and sealer make, signed with the published RFC 8032
/// test-1 key, byte for byte; they pass scripts/validate_senml.py (contract v2 only) and
/// scripts/verify_evidence.py. A failure prints the block the page should show.
@Suite struct PayloadExamplesTests {
    /// RFC 8032 section 7.1, test 1: a published key, never a gateway's.
    static let key = try! Ed25519Key.fromSeed(
        hexBytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
    static let encoder = SenMLEncoder(siteID: "demo-park", gatewayID: "gw01")
    static let root = "gia/v1/demo-park/gw01"

    struct Example {
        var topic: String
        var payload: [UInt8]
        var text: String { String(decoding: payload, as: UTF8.self) }
        /// One record per line, as the page shows it; joining the lines gives the bytes back.
        var display: String { text.replacingOccurrences(of: "},{", with: "},\n{") }
    }

    static func at(_ ms: Int64) -> UnixTime { UnixTime(milliseconds: ms) }

    /// Four polls in a row of the chain, seq 1764547200004209 ... 4212.
    static let polls: [Poll] = {
        let sdm = "main-incomer"
        let second = Duration.milliseconds(192)
        func r(_ id: String, _ unit: String, _ v: Double, _ offset: Duration = .zero) -> Reading {
            Reading(pointID: id, unit: unit, value: .number(v), offset: offset)
        }
        // Exception 6 (busy) on the first request: its points failed; the second went ahead, and holds a NaN.
        let busy = FailureReason.exception(code: 6)
        let partial = Poll(
            deviceID: "compressor-hall", takenAt: at(1_767_226_320_214),
            readings: [
                r("power", "W", 15320.4), r("frequency", "Hz", 50.01), r("energy_import", "kWh", 48211.3),
                r("energy_export", "kWh", 0),
                Reading(pointID: "reactive_energy_import", unit: "kvarh", value: .invalid(raw: "7fc00000")),
                r("reactive_energy_export", "kvarh", 12.4),
            ],
            failures: ["voltage_l1", "voltage_l2", "voltage_l3", "current_l1", "current_l2", "current_l3"].map {
                PointFailure(pointID: $0, unit: $0.hasPrefix("voltage") ? "V" : "A", reason: busy)
            } + ["power_l1", "power_l2", "power_l3"].map { PointFailure(pointID: $0, unit: "W", reason: busy) },
            tick: at(1_767_226_320_000))
        let failed = Poll.failed(
            deviceID: "compressor-hall", at: at(1_767_226_380_000), tick: at(1_767_226_380_000), reason: .timeout,
            clockUnsynchronised: true)
        let full = Poll(
            deviceID: sdm, takenAt: at(1_767_226_500_123),
            readings: [
                r("voltage_l1", "V", 230.4), r("voltage_l2", "V", 231.1), r("voltage_l3", "V", 229.8),
                r("current_l1", "A", 12.62), r("current_l2", "A", 10.95), r("current_l3", "A", 14.3),
                r("power_l1", "W", 2790.5), r("power_l2", "W", 2405.2), r("power_l3", "W", 3120.9),
                r("power", "W", 8316.6, second), r("frequency", "Hz", 49.98, second),
                r("energy_import", "kWh", 12345.6, second), r("energy_export", "kWh", 350.2, second),
                r("reactive_energy_import", "kvarh", 2104.7, second), r("reactive_energy_export", "kvarh", 88.1, second),
            ],
            tick: at(1_767_226_500_000))
        let heat = Poll(
            deviceID: "heat-main", takenAt: at(1_767_226_500_655),
            readings: [
                r("heat_energy", "J", 123_455_880_000), r("volume", "m3", 5182.41), r("t_flow", "Cel", 71.3),
                r("t_return", "Cel", 43.9), r("heat_power", "W", 48200), r("flow", "m3/s", 0.00151),
            ],
            tick: at(1_767_226_500_000))
        return [partial, failed, full, heat]
    }()

    /// The previous message's hash for the first example: that message is not shown.
    static let before = LibCrypto().sha256(Array("the message of seq 1764547200004208".utf8))

    static let examples: [Example] = {
        let sealer = MessageSealer(crypto: LibCrypto(), signer: key)
        var prev = before
        var out: [Example] = []
        for (i, poll) in polls.enumerated() {
            let payload = sealer.seal(encoder.draft(poll), seq: 1_764_547_200_004_209 + Int64(i), prev: prev)
            out.append(Example(topic: "\(root)/\(poll.deviceID)/data", payload: payload))
            prev = sealer.link(to: payload)
        }
        return out
    }()

    static let page: String = {
        (try? String(contentsOfFile: "\(TestEnvironment.packageRoot)/docs/payload.md", encoding: .utf8)) ?? ""
    }()

    @Test(arguments: 0..<4) func exampleIsOnThePage(index: Int) {
        let example = Self.examples[index]
        let shown = Self.page.contains("```json\n\(example.display)\n```")
        #expect(shown, "docs/payload.md should show:\n\(example.display)")
    }

    /// The worked example's figures: the key id, the signed length, the hash that the next message's prev holds.
    @Test func workedExampleFigures() throws {
        let example = Self.examples[2]
        let signed = try #require(SignedBytes(example.payload))
        let crypto = LibCrypto()
        let figures = [
            "kid \(KeyID.of(publicKey: Self.key.publicKey, crypto: crypto))",
            "public key `\(Base64.url(Self.key.publicKey))`",
            "\(example.payload.count) bytes", "`S` is its first \(signed.signed.count) bytes",
            "`\(Base64.url(crypto.sha256(example.payload)))`",
        ]
        for figure in figures {
            let said = Self.page.contains(figure)
            #expect(said, "docs/payload.md should say \(figure)")
        }
        #expect(crypto.verifyEd25519(signature: signed.signature, message: Array(signed.signed), publicKey: Self.key.publicKey))
    }

    @Test func examplesValidateAndVerify() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("examples")
        try writeFile("\(dir)/examples.txt", Self.examples.map { "\($0.topic) \($0.text)\n" }.joined())
        let validator = try ChildProcess(
            [TestEnvironment.python, "\(TestEnvironment.packageRoot)/scripts/validate_senml.py", "--require-v2",
             "\(dir)/examples.txt"], directory: dir, name: "validate")
        #expect(await validator.wait(timeout: .seconds(60)) == 0, "\(validator.standardOutput)\(validator.standardError)")
        #expect(validator.standardOutput.contains("4 passed, 0 failed"), "\(validator.standardOutput)")

        let capture = Self.examples.map {
            "{\"arrived_ms\":1767226501000,\"topic\":\"\($0.topic)\",\"retain\":false,\"payload\":\"\(Base64.standard($0.payload))\"}\n"
        }.joined()
        let result = try await verify(capture, keys: "ed25519 \(Base64.url(Self.key.publicKey))\n")
        #expect(result.status == 0, "\(result.output)")
    }
}
