import Foundation
import SitegateBuffer
import SitegateCore
import SitegateTestSupport
import Testing

/// The broker goes away mid-run and comes back: nothing committed is lost, order is kept.
@Suite(.serialized, .timeLimit(.minutes(2))) struct BrokerOutageTests {
    @Test func outageLosesNothingAndKeepsOrder() async throws {
        try await Harness.with("outage") { h in
        try await h.startSimulator(units: [1, 2, 3], frozen: false)
        let config = try h.writeConfig(devices: [("m1", 1), ("m2", 2), ("m3", 3)], interval: "200ms", minDelay: "0ms")
        try h.startRecorder()
        try h.startAgent(config: config)
        try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 10 }

        let beforeOutage = h.dataMessages().map(\.seq).max() ?? 0
        await h.broker.stop()
        try await Task.sleep(for: .seconds(4))  // ~60 polls pile up in the buffer
        try await h.broker.start()
        // The backlog: polls committed after the last one delivered before the outage, below the new session's start.
        func isBacklog(_ m: DataMessage) -> Bool { m.seq > beforeOutage && m.seq < (h.backlogBelow() ?? 0) }
        try await h.waitForMessages(timeout: .seconds(30)) { $0.contains(where: isBacklog) }
        try await Task.sleep(for: .seconds(2))

        let exit = await h.agent!.terminate()
        #expect(exit == 0)
        try await Task.sleep(for: .milliseconds(500))
        await h.recorder!.stop()

        // What the agent committed: every seq up to the last one it handed out, minus what is still buffered.
        let messages = h.dataMessages()
        let received = Set(messages.map(\.seq))
        let (committed, stillBuffered, lost) = try await h.lostPolls(received: received)
        #expect(committed > 101, "enough polls were committed to make the test meaningful")
        #expect(lost.isEmpty, "lost seqs: \(lost.sorted())")

        // In order: live polls go out first, the backlog drains behind them; each stream keeps seq order.
        for backfill in [false, true] {
            var seen = Set<Int64>()
            var firstArrivals: [Int64] = []
            for m in messages where isBacklog(m) == backfill && seen.insert(m.seq).inserted { firstArrivals.append(m.seq) }
            #expect(firstArrivals == firstArrivals.sorted(), "out of order arrivals (backfill: \(backfill))")
        }
        let duplicates = messages.count - received.count
        #expect(duplicates <= 100, "duplicates only for what was in flight (window 100): \(duplicates)")
        #expect(messages.contains(where: isBacklog), "polls that waited out the outage arrive")
        print("outage: committed \(committed), received \(received.count) distinct, \(duplicates) duplicates, "
            + "\(stillBuffered) still buffered, \(lost.count) lost")
        await h.stopAll()
        try await validateWithSchema(h.recorder!.outputPath)
        }
    }
}
