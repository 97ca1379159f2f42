import Foundation
import SitegateBuffer
import SitegateCore
import SitegateTestSupport
import Testing

/// SIGHUP: a valid config is applied without losing the buffer or the broker session; an invalid one is refused.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ReloadTests {
    @Test func reloadAddsADeviceAndRefusesABrokenConfig() async throws {
        try await Harness.with("reload") { h in
            try await h.startSimulator(units: [1, 2], frozen: true)
            let config = try h.writeConfig(devices: [("m1", 1)], interval: "1s", signed: false)
            try h.startRecorder()
            try h.startAgent(config: config)
            try await h.waitForMessages(timeout: .seconds(30)) { $0.contains { $0.device == "m1" } }

            // Add a device and turn signing off, and reload: the device is applied, the signing keys wait for a restart.
            let next = try h.writeConfig(devices: [("m1", 1), ("m2", 2)], interval: "1s", signed: false)
            try writeFile(next, try readFile(next) + "signing: off\n")
            h.agent!.signal(SIGHUP)
            try await h.waitForMessages(timeout: .seconds(30)) { $0.contains { $0.device == "m2" } }
            _ = try await h.agent!.waitForOutput(containing: "reloaded", inStandardError: true, timeout: .seconds(10))
            #expect(h.agent!.standardError.contains("changes to signing take effect only after a restart"))
            let metas = h.recorder!.messages.filter { $0.topic.hasSuffix("/m2/meta") }
            #expect(!metas.isEmpty, "the new device's meta is published on reload")

            // A broken config: refused, the agent keeps running on the old one.
            try writeFile(config, "site: { id: BAD }\n")
            h.agent!.signal(SIGHUP)
            _ = try await h.agent!.waitForOutput(containing: "reload refused", inStandardError: true, timeout: .seconds(10))
            let before = h.dataMessages().count
            try await Task.sleep(for: .seconds(3))
            #expect(h.dataMessages().count > before, "still polling and publishing")
            #expect(h.agent!.isRunning)
            #expect(await h.agent!.terminate() == 0)

            let log = h.agent!.standardError
            #expect(log.components(separatedBy: "connected to the broker").count == 2, "one broker session throughout")
            #expect(log.contains("site.yaml:1:"), "the reason is logged as file:line:column")
            // The buffer is the same database: sequence numbers never restarted.
            let seqs = h.dataMessages().map(\.seq)
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
            #expect(seqs.last! - seqs.first! + 1 == Int64(seqs.count), "no gap, no new database")
        }
    }
}
