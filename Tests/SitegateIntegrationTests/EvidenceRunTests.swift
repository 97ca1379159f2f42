import Foundation
import SitegateCore
import SitegateTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 14's proof, compressed in time (20-second slots instead of 15 minutes): a signed run with one meter that
/// dies for longer than a slot, one broker outage and one `kill -9`, recorded by `sitegate record`. The capture
/// verifies clean with both verifiers, the audit names the dead meter's slots and why, and a tampered or thinned
/// capture fails with the right exit code. `SITEGATE_EVIDENCE_RUN_SECONDS` stretches the run (the closing note's
/// 30-minute run used 1800 with 15-minute slots via `SITEGATE_EVIDENCE_SLOT`).
@Suite(.serialized, .timeLimit(.minutes(45))) struct EvidenceRunTests {
    static let slot = ProcessInfo.processInfo.environment["SITEGATE_EVIDENCE_SLOT"] ?? "20s"
    static let seconds = Int(ProcessInfo.processInfo.environment["SITEGATE_EVIDENCE_RUN_SECONDS"] ?? "") ?? 110

    @Test func aRunWithADeadMeterAnOutageAndAKillVerifiesAndIsAccountedFor() async throws {
        try await Harness.with("evidence-run") { h in
            try await h.startSimulator(units: [1, 2, 3], frozen: false)
            // The third meter sits behind a TCP proxy: killing the proxy kills the meter (connection refused) while
            // its simulated counter keeps running, as a real meter's would.
            let proxyPort = try FreePort.find()
            func startProxy() throws -> ChildProcess {
                try ChildProcess(
                    ["socat", "TCP-LISTEN:\(proxyPort),bind=127.0.0.1,fork,reuseaddr", "TCP:127.0.0.1:\(h.simulatorPort)"],
                    directory: h.directory, name: "proxy")
            }
            var proxy = try startProxy()
            let config = try h.writeConfig(
                buses: """
                  - { id: lan, tcp: { host: 127.0.0.1, port: \(h.simulatorPort) }, response_timeout: 300ms }
                  - { id: remote, tcp: { host: 127.0.0.1, port: \(proxyPort) }, response_timeout: 300ms }
                """,
                devices: """
                  - { id: m1, bus: lan, unit: 1, model: eastron-sdm630, interval: 1s }
                  - { id: m2, bus: lan, unit: 2, model: eastron-sdm630, interval: 1s }
                  - { id: m3, bus: remote, unit: 3, model: eastron-sdm630, interval: 1s }
                """)
            try writeFile(config, try readFile(config) + "evidence:\n  slot: \(Self.slot)\n")
            let capture = "\(h.directory)/capture.ndjson"
            let recorder = try ChildProcess(
                [TestEnvironment.sitegateBinary, "record", "--config", config, "--persistent", "-o", capture],
                directory: h.directory, name: "record")
            try await Task.sleep(for: .seconds(1))
            try h.startAgent(config: config)

            let unit = Self.seconds / 11  // 10 s in the default run
            try await Task.sleep(for: .seconds(2 * unit))
            // The meter dies for five units (50 s: longer than two slots). socat serves each connection in a forked
            // child that outlives its parent: without the children, the agent's open connection would keep the meter
            // alive until the kill -9 below, and the dead time might not cover a whole slot.
            Self.killChildren(of: proxy.pid)
            await proxy.terminate()
            try await Task.sleep(for: .seconds(unit))
            // The broker goes away for most of a unit.
            await h.broker.stop()
            try await Task.sleep(for: .seconds(max(4, unit * 8 / 10)))
            try await h.broker.start()
            try await Task.sleep(for: .seconds(unit))
            // kill -9, back a few seconds later.
            h.agent!.signal(SIGKILL)
            try await Task.sleep(for: .seconds(4))
            try h.startAgent(config: config)
            try await Task.sleep(for: .seconds(2 * unit))
            proxy = try startProxy()
            try await Task.sleep(for: .seconds(4 * unit))
            #expect(await h.agent!.terminate() == 0)
            try await Task.sleep(for: .seconds(2))
            _ = await recorder.terminate()
            await proxy.terminate()

            // Both verifiers: the whole record is there, signed and chained, breaks only where declared.
            let keys = "\(h.directory)/keys.txt"
            let verify = try await h.sitegate(["verify", capture, "--keys", keys])
            #expect(verify.status == 0, "sitegate verify:\n\(verify.out.suffix(3000))\n\(verify.err.suffix(1000))")
            let independent = try await Self.python(["\(TestEnvironment.packageRoot)/scripts/verify_evidence.py", capture, "--keys", keys], h)
            #expect(independent.status == 0, "verify_evidence.py:\n\(independent.output.suffix(3000))")

            // The audit: the dead meter's slots are MISSING with the failed polls' reasons; the others account for
            // the kill -9 with the checkpoints' not-running ticks.
            let audit = try await h.sitegate(["audit", capture, "--slot", Self.slot, "--format", "json", "--keys", keys])
            #expect(audit.status == 0, "\(audit.err)")
            let rows = try Self.rows(audit.out)
            let dead = rows.filter { $0.device == "m3" && $0.status == "MISSING" }
            #expect(
                // The proxy gone: refused connections, or under load a reset or a timeout on the open one first.
                dead.contains { $0.reasons.contains { ["failed: connection", "failed: io", "failed: timeout"].contains(where: $0.contains) } },
                "m3 dead for longer than a slot, and why: \(rows.filter { $0.device == "m3" }.map { "\($0.status) \($0.reasons)" })")
            #expect(rows.filter { $0.status != "MEASURED" }.allSatisfy { !$0.reasons.isEmpty }, "every slot not measured says why")
            #expect(
                !rows.contains { $0.device != "m3" && $0.reasons.contains { $0.contains("failed:") } },
                "the live meters never failed")
            #expect(
                rows.contains { $0.device == "m1" && $0.reasons.contains { $0.contains("not-running") } },
                "the kill -9 shows as not-running ticks in a checkpoint")
            print(
                "evidence run: \(try readFile(capture).split(separator: "\n").count) capture lines, audit rows "
                    + "\(rows.count), m3 MISSING in \(dead.count) slots: \(dead.first?.reasons ?? [])")

            // A digit changed in one signed data message: bad signature (14). One message dropped: a gap (10).
            var lines = try readFile(capture).split(separator: "\n").map(String.init)
            let target = try #require(lines.firstIndex { $0.contains("/m1/data") })
            var record = try #require(CaptureRecord(json: lines[target]))
            let digit = try #require(record.payload.firstIndex { $0 == UInt8(ascii: "5") || $0 == UInt8(ascii: "6") })
            record.payload[digit] = record.payload[digit] == UInt8(ascii: "5") ? UInt8(ascii: "6") : UInt8(ascii: "5")
            let original = lines[target]
            lines[target] = record.json
            try writeFile("\(h.directory)/tampered.ndjson", lines.joined(separator: "\n") + "\n")
            let tampered = try await h.sitegate(["verify", "\(h.directory)/tampered.ndjson", "--keys", keys])
            #expect(tampered.status == 14, "tampered: \(tampered.out.suffix(1500))")
            lines[target] = original
            let originalRecord = try #require(CaptureRecord(json: original))
            let seq = try #require(SeqOfMessageForTests.seq(originalRecord.payload))
            let thinned = lines.filter { line in
                guard let r = CaptureRecord(json: line) else { return true }
                return SeqOfMessageForTests.seq(r.payload) != seq
            }
            try writeFile("\(h.directory)/thinned.ndjson", thinned.joined(separator: "\n") + "\n")
            let gap = try await h.sitegate(["verify", "\(h.directory)/thinned.ndjson", "--keys", keys])
            #expect(gap.status == 10, "one message dropped: \(gap.out.suffix(1500))")
        }
    }

    struct Row {
        var device: String
        var status: String
        var reasons: [String]
    }

    /// SIGKILLs the processes whose parent is `pid` (from /proc: procps is not on every test machine).
    static func killChildren(of pid: pid_t) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
        for entry in entries {
            guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After the command name: state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == pid { kill(child, SIGKILL) }
        }
    }

    static func rows(_ json: String) throws -> [Row] {
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8))
        let object = try #require(parsed as? [String: Any])
        let gateways = object["gateways"] as? [[String: Any]] ?? []
        return gateways.flatMap { ($0["rows"] as? [[String: Any]]) ?? [] }.map {
            Row(
                device: $0["device"] as? String ?? "", status: $0["status"] as? String ?? "",
                reasons: $0["reasons"] as? [String] ?? [])
        }
    }

    static func python(_ arguments: [String], _ h: Harness) async throws -> (status: Int32?, output: String) {
        let p = try ChildProcess([TestEnvironment.python] + arguments, directory: h.directory, name: "verify-py")
        let status = await p.wait(timeout: .seconds(120))
        return (status, p.standardOutput + p.standardError)
    }
}
