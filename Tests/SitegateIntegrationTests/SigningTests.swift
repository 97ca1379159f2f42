import Foundation
import SitegateCore
import SitegateCrypto
import SitegateTestSupport
import Testing

/// The agent signs what it publishes with the configured key, hands over to a new key signed by the old one, and
/// to a key that replaces a lost one unendorsed (docs/evidence.md, "Key ids, keys files and rotation").
@Suite(.serialized, .timeLimit(.minutes(3))) struct SigningTests {
    /// Every message on the chain's topics, as received: topic and exact payload.
    static func chained(_ h: Harness) -> [(topic: String, payload: String)] {
        (h.recorder?.messages ?? []).filter { $0.topic.hasSuffix("/data") || $0.topic.hasSuffix("/evidence") }
            .map { ($0.topic, $0.payload) }
    }

    static func object(_ payload: String) -> [String: Any]? {
        guard let value = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) else { return nil }
        return (value as? [String: Any]) ?? (value as? [[String: Any]])?.first
    }

    /// Runs the agent on `config` until `count` more data messages arrived, then stops it.
    static func run(_ h: Harness, config: String, moreThan count: Int) async throws {
        try h.startAgent(config: config)
        try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= count + 2 }
        #expect(await h.agent!.terminate() == 0)
    }

    @Test func signsHandsOverAndReplacesALostKey() async throws {
        try await Harness.with("signing") { h in
            try await h.startSimulator(units: [1], frozen: true)
            let crypto = LibCrypto()
            var keys: [String: [UInt8]] = [:]  // kid -> public key
            var kids: [String: String] = [:]  // file name -> kid
            for name in ["old", "new", "replacement"] {
                let key = try SigningKeyFile.generate(at: "\(h.directory)/\(name).key", force: false).key
                kids[name] = KeyID.of(publicKey: key.publicKey, crypto: crypto)
                keys[kids[name]!] = key.publicKey
            }
            let config = try h.writeConfig(devices: [("main-incomer", 1)], interval: "500ms", signed: false)
            let plain = try readFile(config)
            try h.startRecorder()

            try writeFile(config, plain + "signing:\n  key: old.key\n")
            try await Self.run(h, config: config, moreThan: 0)
            // The rotation: the new key, with the old one to endorse it.
            try writeFile(config, plain + "signing:\n  key: new.key\n  previous_key: old.key\n")
            try await Self.run(h, config: config, moreThan: h.dataMessages().count)
            // The new key lost: a replacement nothing endorses.
            try writeFile(config, plain + "signing: { key: replacement.key }\n")
            try await Self.run(h, config: config, moreThan: h.dataMessages().count)

            // Every message is signed by the key its kid names, by the byte rule.
            let messages = Self.chained(h)
            #expect(messages.count >= 6)
            for m in messages {
                let bytes = Array(m.payload.utf8)
                let split = try #require(SignedBytes(bytes), "not signed by the byte rule: \(m.payload)")
                let fields = try #require(Self.object(m.payload))
                let publicKey = try #require(keys[fields["kid"] as? String ?? ""], "unknown kid: \(m.payload)")
                #expect(crypto.verifyEd25519(signature: split.signature, message: Array(split.signed), publicKey: publicKey))
            }
            // The handovers: old to new signed by the old key and endorsed; new to replacement unendorsed.
            let handovers = messages.compactMap { Self.object($0.payload) }.filter { $0["kind"] as? String == "key-handover" }
            #expect(handovers.count == 2, "\(handovers)")
            if handovers.count == 2 {
                #expect(handovers[0]["kid"] as? String == kids["old"])
                #expect(handovers[0]["previous_kid"] as? String == kids["old"])
                #expect(handovers[0]["next_kid"] as? String == kids["new"])
                #expect(handovers[0]["endorsed"] as? Bool == true)
                #expect(handovers[1]["kid"] as? String == kids["replacement"])
                #expect(handovers[1]["previous_kid"] as? String == kids["new"])
                #expect(handovers[1]["endorsed"] as? Bool == false)
            }
            let dataKids = h.dataMessages().sorted { $0.seq < $1.seq }.map { $0.records[0]["kid"] as? String ?? "" }
            #expect(dataKids.first == kids["old"] && dataKids.last == kids["replacement"])

            // `keys show` names the same key id the messages carry; no key material in the log.
            let shown = try await h.sitegate(["keys", "show", "--config", config, "--json"])
            #expect(Self.object(shown.out)?["kid"] as? String == kids["replacement"], "\(shown.err)")

            // The independent verifier (scripts/verify_evidence.py), given the lines `keys show` prints for the keys
            // file, accepts the whole capture: signatures, validity from the key's making, the handovers, the chain.
            var keysFile = ""
            for name in ["old", "new", "replacement"] {
                let show = try await h.sitegate(["keys", "show", "--key", "\(h.directory)/\(name).key"])
                keysFile += (show.out.split(separator: "\n").last.map(String.init) ?? "") + "\n"
            }
            let capture = messages.map {
                "{\"arrived_ms\":0,\"topic\":\"\($0.topic)\",\"retain\":false,\"payload\":\"\(Base64.standard(Array($0.payload.utf8)))\"}\n"
            }.joined()
            let verified = try await verify(capture, keys: keysFile)
            #expect(verified.status == 0, "verify_evidence.py:\n\(verified.output.suffix(3000))\nkeys:\n\(keysFile)")
            // Without the replacement key registered, its messages are a key error (exit 13).
            let unregistered = try await verify(capture, keys: keysFile.split(separator: "\n").dropLast().joined(separator: "\n"))
            #expect(unregistered.status == 13, "\(unregistered.output.suffix(2000))")
            let log = h.agent!.standardError
            for name in ["old", "new", "replacement"] {
                let pem = try readFile("\(h.directory)/\(name).key").split(separator: "\n")[1]
                #expect(!log.contains(pem), "the agent logged the \(name) key")
            }
        }
    }

    /// An old config (no `signing` section) on a box without the default key: unsigned, still chained, and one
    /// warning at start.
    @Test(.enabled(if: !FileManager.default.fileExists(atPath: SigningSettings.defaultKeyPath), "this box has a default key"))
    func withoutAKeyTheAgentWarnsOnceAndDoesNotSign() async throws {
        try await Harness.with("unsigned") { h in
            try await h.startSimulator(units: [1], frozen: true)
            let config = try h.writeConfig(devices: [("main-incomer", 1)], interval: "500ms", signed: false)
            try h.startRecorder()
            try await Self.run(h, config: config, moreThan: 0)
            let log = h.agent!.standardError
            #expect(log.components(separatedBy: "messages are not signed").count == 2, "one warning:\n\(log)")
            for m in Self.chained(h) {
                #expect(SignedBytes(Array(m.payload.utf8)) == nil && !m.payload.contains("\"kid\""), "\(m.payload)")
            }
        }
    }
}
