@testable import SitegateBuffer
import SitegateCore
import SitegateTestSupport
import Testing

/// Acknowledgements are kept as ranges of seqs (table `settled`), not as a mark in every row: what is left unsent,
/// the statistics and the archive must come out exactly as the marks gave them, in any order of acknowledgement,
/// across a reopen, and for a buffer written with the marks.
@Suite(.timeLimit(.minutes(2))) struct SettledRangesTests {
    let clock = OutboxTests.TestClock()

    func open(_ path: String) async throws -> Outbox {
        var settings = BufferSettings(path: path)
        settings.retain = .seconds(3600)
        return try await Outbox(
            sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings,
            tuning: BufferTuning(deleteDelay: .seconds(5)), clock: clock)
    }

    /// The rows of table `settled`, read with SQLite directly (the outbox closed).
    func settledRows(_ path: String) throws -> [ClosedRange<Int64>] {
        let db = try SQLiteDatabase(path: path)
        defer { db.close() }
        let s = try db.prepare("SELECT first, last FROM settled ORDER BY first")
        var rows: [ClosedRange<Int64>] = []
        while try s.step() { rows.append(s.int64(0)...s.int64(1)) }
        return rows
    }

    func unsentSeqs(_ outbox: Outbox) async throws -> [Int64] {
        try await outbox.messages(after: 0, limit: 100_000).map(\.seq)
    }

    @Test func acknowledgementsInAnyOrderLeaveExactlyTheRestUnsent() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("settled")
        var outbox = try await open("\(dir)/b.db")
        var all = try await unsentSeqs(outbox)  // the chain start is committed with the first polls
        var polls: [Int64] = []
        for cycle in 0..<6 {
            clock.time = clock.time + .seconds(5)
            polls += try await outbox.append((0..<10).map { OutboxTests.poll(cycle * 10 + $0, at: clock.time) }).seqs
        }
        all = try await unsentSeqs(outbox)
        #expect(all.count == 61, "a chain start and 60 polls")
        // Acknowledged backwards, in three batches, each settled by the next commit: two of every three polls.
        let acked = polls.enumerated().filter { $0.offset % 3 != 0 }.map(\.element)
        for batch in stride(from: acked.count, to: 0, by: -14) {
            try await outbox.acknowledge(Array(acked[max(0, batch - 14)..<batch].reversed()))
            #expect(try await unsentSeqs(outbox) == all.filter { !acked[max(0, batch - 14)...].contains($0) },
                "acknowledged and waiting: left out at once")
            clock.time = clock.time + .seconds(5)
            let next = try await outbox.append([OutboxTests.poll(100 + batch, at: clock.time)]).seqs
            all += next
        }
        let expected = all.filter { !acked.contains($0) }
        #expect(try await unsentSeqs(outbox) == expected)
        // Pages of a few, as the publisher fetches them, across the ranges.
        var paged: [Int64] = []
        var after: Int64 = 0
        while true {
            let page = try await outbox.messages(after: after, limit: 4).map(\.seq)
            guard let last = page.last else { break }
            paged += page
            after = last
        }
        #expect(paged == expected, "paging across the settled ranges")
        let window = try await outbox.messages(after: expected[3], before: expected[9], limit: 100).map(\.seq)
        #expect(window == Array(expected[4..<9]))
        var stats = try await outbox.stats()
        #expect(stats.depth == expected.count && stats.oldestSeq == expected.first && stats.newestSeq == expected.last)
        #expect(stats.archive.count == acked.count && stats.archive.oldestSeq == acked.min())
        let coverage = try await outbox.replayCoverage(polls[0]...polls[59], devices: nil, time: nil)
        #expect(coverage.archived.count == Int64(acked.count) && coverage.unsent.count == Int64(60 - acked.count))
        let served = try await outbox.archived(in: polls[0]...polls[59], after: 0, devices: nil, time: nil, limit: 100)
        #expect(served.map(\.seq) == acked.sorted())
        outbox.close()

        // Reopened: the same, from the table.
        let rows = try settledRows("\(dir)/b.db")
        #expect(rows.count == 20, "one range per run of two acknowledged polls: \(rows)")
        outbox = try await open("\(dir)/b.db")
        #expect(try await unsentSeqs(outbox) == expected)
        stats = try await outbox.stats()
        #expect(stats.depth == expected.count && stats.archive.count == acked.count)

        // The rest acknowledged: the ranges merge into one.
        try await outbox.acknowledge(expected)
        clock.time = clock.time + .seconds(5)
        let last = try await outbox.append([OutboxTests.poll(999, at: clock.time)]).seqs
        #expect(try await unsentSeqs(outbox) == last)
        stats = try await outbox.stats()
        #expect(stats.depth == 1 && stats.archive.count == acked.count + expected.count)
        outbox.close()
        #expect(try settledRows("\(dir)/b.db") == [all.min()!...all.max()!])
    }

    @Test func aBufferWithAcknowledgementMarksIsMovedToRanges() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("settled")
        var outbox = try await open("\(dir)/b.db")
        let seqs = try await outbox.append((0..<10).map { OutboxTests.poll($0, at: clock.time) }).seqs
        let all = try await unsentSeqs(outbox)
        outbox.close()
        // What the version before the ranges wrote: a mark in each acknowledged row, and the index over the marks.
        let marked = [all[0]] + Array(seqs[2...4]) + [seqs[7]]
        let db = try SQLiteDatabase(path: "\(dir)/b.db")
        try db.execute("ALTER TABLE outbox ADD COLUMN acked INTEGER NOT NULL DEFAULT 0")
        try db.execute("UPDATE outbox SET acked = 1 WHERE seq IN (\(marked.map(String.init).joined(separator: ",")))")
        try db.execute("CREATE INDEX outbox_state ON outbox(acked, seq)")
        try db.execute("DELETE FROM settled")
        db.close()

        outbox = try await open("\(dir)/b.db")
        #expect(try await unsentSeqs(outbox) == all.filter { !marked.contains($0) })
        let stats = try await outbox.stats()
        #expect(stats.archive.count == marked.count && stats.depth == all.count - marked.count)
        outbox.close()
        #expect(try settledRows("\(dir)/b.db") == [all[0]...all[0], seqs[2]...seqs[4], seqs[7]...seqs[7]])
        let check = try SQLiteDatabase(path: "\(dir)/b.db")
        defer { check.close() }
        let index = try check.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'outbox_state'")
        _ = try index.step()
        #expect(index.int64(0) == 0, "the index over the marks is gone")
    }
}
