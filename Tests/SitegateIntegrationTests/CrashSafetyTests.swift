import Foundation
import SitegateBuffer
import SitegateCore
import SitegateTestSupport
import Testing

/// Store-and-forward under the worst conditions: the agent killed with SIGKILL at random moments, and a long
/// broker outage under load. Nothing committed may be lost.
@Suite(.serialized, .timeLimit(.minutes(5))) struct CrashSafetyTests {
    /// What the agent committed (first...last seq of the database) minus what is still buffered must have reached
    /// the broker; returns the numbers for the report.
    static func audit(_ h: Harness) async throws -> (committed: Int64, received: Int, duplicates: Int, lost: [Int64]) {
        let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: "\(h.directory)/buffer.db"))
        let stats = try await outbox.stats()
        let buffered = Set(try await outbox.messages(after: 0, limit: 10_000_000).map(\.seq))
        outbox.close()
        let messages = h.dataMessages()
        let received = Set(messages.map(\.seq)).union(h.evidenceSeqs())
        let lost = Set(stats.firstSeq...stats.lastSeq).subtracting(received).subtracting(buffered).sorted()
        return (stats.lastSeq - stats.firstSeq + 1, received.count, messages.count - received.count, lost)
    }

    @Test func killNineAtFiftyRandomMoments() async throws {
        try await Harness.with("kill9") { h in
            try await h.startSimulator(units: [1, 2, 3], frozen: false)
            let config = try h.writeConfig(
                devices: [("m1", 1), ("m2", 2), ("m3", 3)], interval: "100ms", minDelay: "0ms")
            try h.startRecorder()
            var rng = SystemRandomNumberGenerator()
            for round in 0..<50 {
                try h.startAgent(config: config)
                // Between 50 ms (still starting) and 800 ms (polling and publishing).
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...800, using: &rng)))
                h.agent!.signal(SIGKILL)
                _ = await h.agent!.wait(timeout: .seconds(5))
                let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: "\(h.directory)/buffer.db"))
                let check = try await outbox.integrityCheck()
                outbox.close()
                #expect(check == "ok", "integrity after kill \(round + 1)")
            }
            // One last clean run drains what the killed agents left behind.
            try h.startAgent(config: config)
            try await Task.sleep(for: .seconds(3))
            #expect(await h.agent!.terminate() == 0)
            try await Task.sleep(for: .milliseconds(500))
            let audit = try await Self.audit(h)
            print("kill -9 x50: committed \(audit.committed), received \(audit.received) distinct, "
                + "\(audit.duplicates) duplicates, \(audit.lost.count) lost")
            #expect(audit.committed > 200)
            #expect(audit.lost.isEmpty, "lost: \(audit.lost.prefix(20))")
        }
    }

    /// 60 seconds without a broker at about 120 readings per second (8 polls of 15 points per second).
    @Test func sixtySecondOutageAtOneHundredReadingsPerSecond() async throws {
        try await Harness.with("outage60") { h in
            try await h.startSimulator(units: [1, 2, 3, 4], frozen: false)
            let config = try h.writeConfig(
                devices: [("m1", 1), ("m2", 2), ("m3", 3), ("m4", 4)], interval: "500ms", minDelay: "0ms")
            try h.startRecorder()
            try h.startAgent(config: config)
            try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 16 }
            let beforeOutage = h.dataMessages().map(\.seq).max() ?? 0
            func isBacklog(_ m: DataMessage) -> Bool { m.seq > beforeOutage && m.seq < (h.backlogBelow() ?? 0) }
            await h.broker.stop()
            try await Task.sleep(for: .seconds(60))
            try await h.broker.start()
            // The backlog (~480 polls) drains; wait until nothing is buffered.
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .seconds(1))
                let backfill = h.dataMessages().filter(isBacklog).count
                if backfill >= 450 { break }
            }
            try await Task.sleep(for: .seconds(2))
            #expect(await h.agent!.terminate() == 0)
            try await Task.sleep(for: .milliseconds(500))
            let audit = try await Self.audit(h)
            let messages = h.dataMessages()
            for backfill in [false, true] {
                var seen = Set<Int64>()
                let order = messages.filter { isBacklog($0) == backfill && seen.insert($0.seq).inserted }.map(\.seq)
                #expect(order == order.sorted(), "order kept (backfill: \(backfill))")
            }
            let readings = messages.reduce(0) { $0 + $1.records.count }
            print("60 s outage: committed \(audit.committed) polls, received \(audit.received) distinct "
                + "(\(readings) readings), \(audit.duplicates) duplicates, \(audit.lost.count) lost, "
                + "\(messages.filter(isBacklog).count) backlog")
            #expect(audit.lost.isEmpty, "lost: \(audit.lost.prefix(20))")
            #expect(audit.duplicates <= 100, "duplicates only for what was in flight")
            try await validateWithSchema(h.recorder!.outputPath)
        }
    }
}
