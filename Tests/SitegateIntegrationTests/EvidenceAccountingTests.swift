import Foundation
import SitegateCore
import SitegateTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Every tick accounted for, through the agent (docs/evidence.md): a live and a dead meter, 5-second slots, a
/// clock the kernel calls unsynchronised (injected), a `kill -9` and a stop longer than a slot. The checkpoints
/// must cover every slot once, add up, and agree with the data messages received.
@Suite(.serialized, .timeLimit(.minutes(4))) struct EvidenceAccountingTests {
    static let slot = 5

    /// One checkpoint as received.
    struct Checkpoint {
        var seq: Int64
        var start: Int
        var end: Int
        var json: [String: Any]

        init?(_ payload: String) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
                object["kind"] as? String == "checkpoint", let slot = object["slot"] as? [String: Any],
                let start = (slot["start"] as? NSNumber)?.intValue, let end = (slot["end"] as? NSNumber)?.intValue,
                let seq = (object["seq"] as? NSNumber)?.int64Value
            else { return nil }
            self.seq = seq
            self.start = start
            self.end = end
            json = object
        }

        func device(_ id: String) -> [String: Int] {
            guard let d = (json["devices"] as? [String: Any])?[id] as? [String: Any] else { return [:] }
            var out: [String: Int] = [:]
            for (k, v) in d { if let n = v as? NSNumber { out[k] = n.intValue } }
            for (k, v) in (d["missed"] as? [String: Any]) ?? [:] { out[k] = (v as? NSNumber)?.intValue }
            return out
        }

        var clock: [String: Any] { json["clock"] as? [String: Any] ?? [:] }
        var agent: [String: Any] { json["agent"] as? [String: Any] ?? [:] }
    }

    /// Each checkpoint once: after a kill -9 the messages acknowledged but not settled yet come again, byte for
    /// byte with their seq (docs/evidence.md), and a backend keeps one of each.
    func checkpoints(_ h: Harness) -> [Checkpoint] {
        var seen = Set<Int64>()
        return (h.recorder?.messages ?? []).filter { $0.topic.hasSuffix("/evidence") }.compactMap { Checkpoint($0.payload) }
            .filter { seen.insert($0.seq).inserted }
    }

    @Test func everyTickEndsInAPollOrACountedMiss() async throws {
        try await Harness.with("ticks") { h in
            try await h.startSimulator(units: [1, 2], frozen: true, extra: ["--silent-units", "2"])
            let path = try h.writeConfig(
                buses: "  - { id: lan, tcp: { host: 127.0.0.1, port: \(h.simulatorPort) }, response_timeout: 300ms }",
                devices: """
                  - { id: live, bus: lan, unit: 1, model: eastron-sdm630, interval: 1s }
                  - { id: dead, bus: lan, unit: 2, model: eastron-sdm630, interval: 1s }
                """)
            let text = try String(contentsOfFile: path, encoding: .utf8) + "evidence:\n  slot: \(Self.slot)s\n"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let environment = ["SITEGATE_FAULT_CLOCK": "unsynchronised"]
            try h.startRecorder()
            try h.startAgent(config: path, environment: environment)
            // Two whole slots, then kill -9 mid-slot.
            try await waitForCheckpoints(h, count: 2, timeout: .seconds(60))
            try await Task.sleep(for: .seconds(3))
            h.agent!.signal(SIGKILL)
            _ = await h.agent!.wait(timeout: .seconds(5))
            // Stopped for more than two slots: at least one lies wholly inside the stop.
            try await Task.sleep(for: .seconds(2 * Self.slot + 2))
            try h.startAgent(config: path, environment: environment)
            let before = checkpoints(h).count
            try await waitForCheckpoints(h, count: before + 4, timeout: .seconds(60))
            #expect(await h.agent!.terminate() == 0)
            try await Task.sleep(for: .milliseconds(500))

            let all = checkpoints(h).sorted { $0.seq < $1.seq }
            // Every slot once, consecutive, across the kill and the stop.
            for (a, b) in zip(all, all.dropFirst()) {
                #expect(b.start == a.end, "slots \(a.start)..<\(a.end) then \(b.start)..<\(b.end)")
            }
            #expect(all.allSatisfy { $0.end - $0.start == Self.slot })
            let data = h.dataMessages()
            for c in all {
                for id in ["live", "dead"] {
                    let d = c.device(id)
                    #expect(d["due"] == Self.slot, "\(id) in \(c.start): \(d)")
                    let polls = (d["full"] ?? 0) + (d["partial"] ?? 0) + (d["failed"] ?? 0)
                    #expect(d["due"] == polls + (d["overrun"] ?? 0) + (d["clock-step"] ?? 0) + (d["not-running"] ?? 0))
                    // The data messages received for the slot are exactly those it counts.
                    if let first = d["first_seq"], let last = d["last_seq"] {
                        let received = Set(data.filter { $0.device == id && (Int64(first)...Int64(last)).contains($0.seq) }.map(\.seq))
                        #expect(received.count == polls, "\(id) in \(c.start): \(received.count) received, \(polls) counted")
                    } else {
                        #expect(polls == 0)
                    }
                }
                #expect(c.clock["synchronised"] as? Bool == false)
                #expect(c.agent["version"] as? String != nil)
            }
            // A slot wholly inside the stop: nothing but not-running.
            let stopped = all.filter { c in c.device("live")["not-running"] == Self.slot && c.device("dead")["not-running"] == Self.slot }
            #expect(!stopped.isEmpty, "no slot of the stop was checkpointed as not-running")
            // A slot the agent ran through: the live meter's polls are full, the dead one's failed.
            let running = all.filter { $0.device("live")["full"] == Self.slot }
            #expect(!running.isEmpty)
            for c in running {
                #expect(c.device("dead")["failed"] == Self.slot, "a failed poll for every tick of the dead meter")
                // The agent that ran through the slot saw the clock unsynchronised all along (the one that came
                // back after the kill writes the interrupted slot's checkpoint, but did not see its clock).
                let writtenLate = ((c.json["time"] as? NSNumber)?.doubleValue ?? 0) > Double(c.end + Self.slot)
                if !writtenLate { #expect((c.clock["unsynchronised_s"] as? NSNumber)?.intValue ?? 0 >= Self.slot - 1) }
            }
            // The data messages: the dead meter's polls failed, with their reasons; every record labelled clock.
            let dead = data.filter { $0.device == "dead" }
            #expect(dead.allSatisfy { $0.pollOutcome == "failed" })
            #expect(Set(dead.compactMap(\.failureReason)) == ["timeout", "backoff"])
            #expect(data.filter { $0.device == "live" }.allSatisfy { $0.pollOutcome == "full" })
            #expect(data.allSatisfy { m in m.records.allSatisfy { ($0["q"] as? String)?.contains("clock") == true } })
            // The config hash is the file's SHA-256.
            let sha = try await h.sitegateTool(["sha256sum", path])
            #expect(all.allSatisfy { $0.agent["config_hash"] as? String == "sha256:" + sha.prefix(64) })
        }
    }

    func waitForCheckpoints(_ h: Harness, count: Int, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while checkpoints(h).count < count {
            if ContinuousClock.now > deadline {
                throw TestSupportError("\(checkpoints(h).count) checkpoints; agent log:\n\(h.agent?.standardError.suffix(3000) ?? "")")
            }
            if let agent = h.agent, !agent.isRunning { throw TestSupportError("the agent exited:\n\(agent.standardError)") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

extension Harness {
    /// Runs a tool to the end and returns its standard output.
    func sitegateTool(_ arguments: [String]) async throws -> String {
        let p = try ChildProcess(arguments, directory: directory, name: "tool-\(arguments[0])")
        guard await p.wait(timeout: .seconds(30)) == 0 else { throw TestSupportError("\(arguments) failed: \(p.standardError)") }
        return p.standardOutput
    }
}
