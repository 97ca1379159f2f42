@testable import SitegateBuffer
import SitegateCore
import SitegateTestSupport
import Testing

/// The publisher takes each commit's messages from memory (`LiveMessages`) instead of reading them back. The
/// cache must answer exactly as the database would, or not at all: checked on the type, and on a real outbox
/// through every way rows come and go (commits, acknowledgements, purges, a reopen, a publisher that falls back).
@Suite(.timeLimit(.minutes(2))) struct LiveMessagesTests {
    static func message(_ seq: Int64, bytes: Int = 10) -> StoredMessage {
        StoredMessage(
            seq: seq, committedAt: UnixTime(milliseconds: seq), destination: .data(device: "m\(seq % 3)"),
            payload: Array(repeating: UInt8(seq % 251), count: bytes))
    }

    @Test func takesWhatFollowsTheCursorAndForgetsIt() {
        var live = LiveMessages(after: 10)
        #expect(live.take(after: 9, limit: 5) == nil, "below what it covers: the database answers")
        #expect(live.take(after: 10, limit: 5) == [], "covered, nothing committed since")
        live.committed((11...14).map { Self.message($0) })
        #expect(live.take(after: 10, limit: 2)?.map(\.seq) == [11, 12])
        #expect(live.take(after: 11, limit: 5) == nil, "12 was handed out: a cursor behind it reads the database")
        #expect(live.take(after: 12, limit: 5)?.map(\.seq) == [13, 14])
        #expect(live.messages.isEmpty && live.bytes == 0)
        // A cursor beyond some of them (a seq skipped by a rolled-back insert) skips what is at or below it.
        live.committed((15...18).map { Self.message($0) })
        #expect(live.take(after: 16, limit: 10)?.map(\.seq) == [17, 18])
        #expect(live.take(after: 18, limit: 0) == [])
    }

    @Test func anOutageBeyondTheBoundForgetsTheOldest() {
        var live = LiveMessages(after: 0, maxBytes: 100)
        live.committed((1...8).map { Self.message($0, bytes: 30) })
        #expect(live.messages.map(\.seq) == [6, 7, 8] && live.bytes == 90)
        #expect(live.coveredAfter == 5)
        #expect(live.take(after: 4, limit: 10) == nil, "5 is not in memory any more")
        #expect(live.take(after: 5, limit: 10)?.map(\.seq) == [6, 7, 8])
        live.committed([Self.message(9, bytes: 500)])
        #expect(live.messages.isEmpty && live.coveredAfter == 9, "one message over the bound is not kept either")
        live.reset(after: 20)
        #expect(live.take(after: 19, limit: 1) == nil && live.take(after: 20, limit: 1) == [])
    }

    @Test func nothingIsKeptWhileNobodyFollows() {
        var live = LiveMessages(after: 0)
        live.committed((1...3).map { Self.message($0) })
        live.follow(false)
        #expect(live.messages.isEmpty && live.bytes == 0 && live.coveredAfter == 3)
        live.committed((4...6).map { Self.message($0) })
        #expect(live.messages.isEmpty && live.coveredAfter == 6, "an outage's commits are not kept")
        #expect(live.take(after: 5, limit: 10) == nil, "the database answers for them")
        live.follow(true)
        live.committed([Self.message(7)])
        #expect(live.take(after: 6, limit: 10)?.map(\.seq) == [7])
        live.follow(false)
        live.reset(after: 9)
        live.committed([Self.message(10)])
        #expect(live.messages.isEmpty, "a reset keeps the following state")
    }

    /// A publisher's life against a real outbox, with a seeded random order of events: every read it makes through
    /// the cache must equal what the database returns for the same cursor at that moment. Acknowledgements, taken
    /// from the sizes of recent commits kept in memory (`RecentSizes`), must keep the running figures equal to
    /// what the rows say, also when they come late (after a purge dropped their messages) or twice.
    @Test(arguments: [1, 2, 3]) func theCacheAgreesWithTheDatabase(seed: UInt64) async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("live")
        let clock = OutboxTests.TestClock()
        let settings = BufferSettings(path: "\(dir)/b.db")
        func open() async throws -> Outbox {
            try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings, clock: clock)
        }
        var outbox = try await open()
        var random = SplitMix64(seed: seed)
        // Where the publisher's live reads start: the last seq at its session's start, as `Publisher` has it.
        var cursor = try await outbox.stats().lastSeq
        var served = 0
        var connected = true
        var fellBack = 0
        var late: [Int64] = []
        var acked: [Int64] = []
        for step in 0..<400 {
            clock.time = clock.time + .milliseconds(250)
            switch random.next() % 20 {
            case 0..<9:
                let polls = (0..<Int(1 + random.next() % 6)).map { OutboxTests.poll(step * 10 + $0, at: clock.time) }
                try await outbox.append(polls)
            case 9..<16 where connected:
                let limit = Int(1 + random.next() % 8)
                let expected = try await outbox.messages(after: cursor, limit: limit)
                let fromMemory = outbox.liveCoveredAfter <= cursor
                let got = try await outbox.liveMessages(after: cursor, limit: limit)
                let same = got == expected  // a Bool: a failure prints the seqs, not every payload byte
                #expect(same, "step \(step): after \(cursor), limit \(limit): \(got.map(\.seq)), not \(expected.map(\.seq))")
                if fromMemory { served += 1 } else { fellBack += 1 }
                // Published and acknowledged, or (one time in four) the publish of the last one failed: the next
                // read starts behind what the cache handed out.
                let published = random.next() % 4 == 0 ? got.dropLast() : got[...]
                if let last = published.last { cursor = last.seq }
                // Their PUBACKs now, or (one time in four) a few steps later; sometimes an old one comes again.
                if random.next() % 4 == 0 {
                    late += published.map(\.seq)
                } else {
                    try await outbox.acknowledge(published.map(\.seq))
                    acked += published.map(\.seq)
                }
                if random.next() % 8 == 0, !late.isEmpty {
                    try await outbox.acknowledge(late)
                    acked += late
                    late = []
                }
                if random.next() % 8 == 0, let again = acked.suffix(20).randomElement(using: &random) {
                    try await outbox.acknowledge([again])
                }
            case 16:
                _ = try await outbox.purge()
            case 17:
                try await outbox.commitEvidence(MessageDraft.evidence(.checkpoint, time: clock.time, members: JSONObjectWriter()))
            case 18:
                // The broker goes (the publisher stops following) or comes back: a new session, where what is
                // unsent now is backlog, read elsewhere, and live reads start after the last seq.
                connected.toggle()
                outbox.followLive(connected)
                if connected { cursor = try await outbox.stats().lastSeq }
            case 19:
                outbox.close()
                outbox = try await open()
                outbox.followLive(connected)
            default:
                break
            }
            let agree = try await outbox.figuresAgreeWithRows()
            #expect(agree, "step \(step): the running figures differ from the rows")
        }
        #expect(served > 20, "the cache answered \(served) reads, the database \(fellBack)")
        #expect(fellBack > 5, "the fallbacks were exercised too (\(fellBack))")
        outbox.close()
    }
}
