import Logging
import SitegateBuffer
import SitegateConfig
import SitegateCore
import SitegateTestSupport
import SitegateThreads
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The outbox with a real SQLite database: bounds, policies, corruption, a full disk.
@Suite(.timeLimit(.minutes(2))) struct OutboxTests {
    /// A wall clock the test moves by hand.
    final class TestClock: WallClock, Sendable {
        private let value = LockedValue(UnixTime(seconds: 1_767_225_600))
        var time: UnixTime {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
        func now() -> UnixTime { time }
    }

    static func poll(_ i: Int, at time: UnixTime) -> Poll {
        Poll(
            deviceID: "meter-\(i % 7)", takenAt: time,
            readings: (0..<15).map { Reading(pointID: "point_\($0)", unit: "kWh", value: .number(Double(i) * 1.5 + Double($0))) })
    }

    static let sealing = OutboxSealing(siteID: "test-site", gatewayID: "gw01")

    /// The unsent evidence messages (chain start, gap notices) and what kind each is.
    static func evidence(_ outbox: Outbox) async throws -> [(seq: Int64, text: String)] {
        try await outbox.messages(after: 0, limit: 100_000).filter { $0.deviceID == nil }.map {
            ($0.seq, String(decoding: $0.payload, as: UTF8.self))
        }
    }

    @Test func sequenceNumbersIncreaseAcrossReopen() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("outbox")
        let settings = BufferSettings(path: "\(dir)/b.db")
        let clock = TestClock()
        var outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings, clock: clock)
        let first = try await outbox.append([Self.poll(1, at: clock.time), Self.poll(2, at: clock.time)]).seqs
        try await outbox.acknowledge(first)
        outbox.close()
        outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings, clock: clock)
        let second = try await outbox.append([Self.poll(3, at: clock.time)]).seqs
        #expect(second[0] == first[1] + 1, "no reuse after deletes and a restart")
        #expect(first[0] == clock.time.milliseconds * 1000 + 2, "a new buffer starts at its creation time × 1000")
        let start = try await Self.evidence(outbox)
        #expect(start.count == 1 && start[0].seq == first[0] - 1, "the chain start comes first")
        #expect(start.first?.text.hasPrefix(#"{"kind":"chain-start","seq":"#) == true)
        #expect(start.first?.text.contains(#""reason":"new-database""#) == true)
        #expect(try await outbox.integrityCheck() == "ok")
        outbox.close()
    }

    /// The depth is a running count, not a table scan: it must match count(*) after out-of-order and repeated
    /// acknowledgements, drops and a reopen.
    @Test func depthStaysExactWithoutCounting() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("outbox")
        let settings = BufferSettings(path: "\(dir)/b.db")
        let clock = TestClock()
        var outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings, clock: clock)
        var seqs: [Int64] = []
        for cycle in 0..<10 {
            seqs += try await outbox.append((0..<10).map { Self.poll(cycle * 10 + $0, at: clock.time) }).seqs
        }
        #expect(try await outbox.stats().depth == 101, "100 polls and the chain start")
        let chainStart = try await Self.evidence(outbox)[0].seq
        // Live data first: acknowledgements come newest first, some twice, one for a seq never handed out.
        try await outbox.acknowledge([chainStart] + Array(seqs[90...].reversed()))
        try await outbox.acknowledge([seqs[95], seqs[99], seqs[99] + 1000])
        try await outbox.acknowledge([seqs[10], seqs[11]])
        var stats = try await outbox.stats()
        #expect(stats.depth == 88)
        #expect(stats.oldestSeq == seqs[0] && stats.newestSeq == seqs[89])
        let dropped = try await outbox.purge()
        #expect(dropped.count == 88)
        #expect(try await outbox.stats().depth == 0)
        let purged = seqs
        seqs = try await outbox.append((0..<5).map { Self.poll($0, at: clock.time) }).seqs
        try await outbox.acknowledge([seqs[2]])
        outbox.close()
        outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings, clock: clock)
        stats = try await outbox.stats()
        #expect(stats.depth == 6, "counted again from the table on open: 4 polls and 2 gap notices")
        // The purge left two runs of seqs (10 and 11 were acknowledged): one notice each, before the new polls.
        let notices = try await Self.evidence(outbox)
        #expect(notices.count == 2 && notices.allSatisfy { $0.text.contains(#""reason":"purge""#) })
        #expect(notices.first?.text.contains(#""from_seq":\#(purged[0]),"to_seq":\#(purged[9]),"count":10"#) == true)
        #expect(notices.last?.text.contains(#""from_seq":\#(purged[12]),"to_seq":\#(purged[89]),"count":78"#) == true)
        #expect(stats.oldestSeq == notices[0].seq && notices[1].seq + 1 == seqs[0])
        outbox.close()
    }

    /// Acknowledged polls are settled with the first commit `deleteDelay` after the oldest of them, not in a commit
    /// of their own; until then they are neither read nor counted, and a crash before it leaves them unsent (sent
    /// again, never lost).
    @Test func acknowledgedPollsAreDeletedWithTheNextCommit() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("outbox")
        let settings = BufferSettings(path: "\(dir)/b.db")
        let clock = TestClock()
        let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings, tuning: BufferTuning(deleteDelay: .seconds(60)), clock: clock)
        let seqs = try await outbox.append((0..<5).map { Self.poll($0, at: clock.time) }).seqs
        try await outbox.acknowledge([seqs[0] - 1, seqs[0], seqs[4]])  // the chain start too
        var stats = try await outbox.stats()
        #expect(stats.depth == 3 && stats.oldestSeq == seqs[1] && stats.newestSeq == seqs[3])
        #expect(try await outbox.messages(after: 0, limit: 10).map(\.seq) == [seqs[1], seqs[2], seqs[3]])
        #expect(try await outbox.messages(after: 0, limit: 2).map(\.seq) == [seqs[1], seqs[2]])
        // What a process that crashed now would leave: all five rows.
        var other = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings, clock: clock)
        #expect(try await other.stats().depth == 6)
        other.close()
        clock.time = clock.time + .seconds(5)
        _ = try await outbox.append([Self.poll(5, at: clock.time)])
        other = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings, clock: clock)
        #expect(try await other.stats().depth == 7, "5 s later the acknowledgements still wait")
        other.close()
        clock.time = clock.time + .seconds(55)
        _ = try await outbox.append([Self.poll(6, at: clock.time)])
        other = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings, clock: clock)
        #expect(try await other.stats().depth == 5, "the three acknowledged rows went with the commit 60 s on")
        other.close()
        // With nothing new to commit, twice the delay ends the wait at the next acknowledgement.
        try await outbox.acknowledge([seqs[1]])
        clock.time = clock.time + .seconds(61)
        try await outbox.acknowledge([seqs[2]])
        other = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings, clock: clock)
        #expect(try await other.stats().depth == 5, "61 s: still waiting")
        other.close()
        clock.time = clock.time + .seconds(60)
        try await outbox.acknowledge([seqs[3]])
        other = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings, clock: clock)
        stats = try await other.stats()
        #expect(stats.depth == 2, "121 s: settled on their own")
        other.close()
        outbox.close()
    }

    @Test func sizeBoundDropsOldestAndCountsThem() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("outbox")
        let clock = TestClock()
        let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: "\(dir)/b.db", maxBytes: 1 << 20), clock: clock)
        defer { outbox.close() }
        var dropped = DropReport()
        for i in 0..<6000 {
            clock.time = clock.time + .seconds(1)
            dropped.merge(try await outbox.append([Self.poll(i, at: clock.time)]).drop)
        }
        let stats = try await outbox.stats()
        #expect(stats.usedBytes <= 1 << 20)
        #expect(dropped.count > 0 && stats.drops.count == dropped.count)
        #expect(
            Int64(stats.depth + dropped.count) == stats.lastSeq - stats.firstSeq + 1,
            "every message (6000 polls, the chain start, gap notices) is either buffered or counted as dropped")
        let notices = try await Self.evidence(outbox).filter { $0.text.contains(#""kind":"gap""#) }
        #expect(!notices.isEmpty, "the drops are declared")
        // The oldest went first: what is left is the newest, contiguous.
        let left = try await outbox.messages(after: 0, limit: 10_000).map(\.seq)
        #expect(left.last == stats.lastSeq && left == Array(left.first!...left.last!))
        #expect(stats.drops.oldest == UnixTime(seconds: 1_767_225_601))
    }

    @Test func pausePolicyRefusesNewPollsWhenFull() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("outbox")
        let clock = TestClock()
        let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: "\(dir)/b.db", maxBytes: 1 << 20, whenFull: .pause), clock: clock)
        defer { outbox.close() }
        var paused = 0
        var committed: [Int64] = []
        for i in 0..<6000 {
            let result = try await outbox.append([Self.poll(i, at: clock.time)])
            if result.paused { paused += 1 }
            committed += result.seqs
            #expect(result.drop.count == 0)
        }
        #expect(paused > 0)
        let stats = try await outbox.stats()
        #expect(stats.depth == committed.count + 1, "nothing committed is ever dropped (the polls and the chain start)")
        #expect(Int64(stats.depth) == stats.lastSeq - stats.firstSeq + 1)
        // Room again after the broker acknowledged part of the backlog.
        try await outbox.acknowledge(Array(committed.prefix(committed.count / 2)))
        #expect(try await !outbox.append([Self.poll(0, at: clock.time)]).paused)
    }

    @Test func ageBoundDropsOldPolls() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("outbox")
        let clock = TestClock()
        let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: "\(dir)/b.db", maxAge: .seconds(3600)), clock: clock)
        defer { outbox.close() }
        let start = clock.time
        try await outbox.append((0..<10).map { Self.poll($0, at: start) })
        clock.time = start + .seconds(7200)
        let result = try await outbox.append([Self.poll(99, at: clock.time)])
        #expect(result.drop.count == 11, "the 10 polls and the chain start")
        #expect(result.drop.oldest == start && result.drop.newest == start)
        #expect(try await outbox.stats().depth == 1)
        // The next commit declares the drop, bridging the chain: the first dropped message had no `prev`.
        try await outbox.append([Self.poll(100, at: clock.time)])
        let notice = try #require(try await Self.evidence(outbox).first)
        #expect(notice.text.contains(#""reason":"buffer-bounds""#) && notice.text.contains(#""count":11"#))
        #expect(notice.text.contains(#""first_prev":null"#))
    }

    @Test func corruptDatabaseIsMovedAsideAndReplaced() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("outbox")
        let path = "\(dir)/b.db"
        let clock = TestClock()
        var outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: path), clock: clock)
        let old = try await outbox.append((0..<50).map { Self.poll($0, at: clock.time) }).seqs
        outbox.close()
        // Scribble over the file past its header: SQLite reports the damage.
        let fd = open(path, O_WRONLY)
        let junk = [UInt8](repeating: 0xA5, count: 8192)
        _ = pwrite(fd, junk, junk.count, 1024)
        close(fd)

        let log = CapturedLog()
        clock.time = clock.time + .seconds(10)
        outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: path), clock: clock, logger: log.logger)
        defer { outbox.close() }
        #expect(log.messages.contains { $0.level == .critical && $0.message.contains("corrupt") })
        #expect(TextFile.list(dir).contains { $0.hasPrefix("b.db.corrupt-") }, "kept for forensics")
        let fresh = try await outbox.append([Self.poll(1, at: clock.time)]).seqs
        #expect(fresh[0] > old.last!, "sequence numbers keep increasing across the replacement")
        #expect(try await outbox.integrityCheck() == "ok")
    }

    /// A full disk: a tmpfs of 2 MiB. Root can mount one here; elsewhere the test says why it did not run.
    @Test func fullDiskDropsOldestAndRecovers() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("enospc")
        let mount = try ChildProcess(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], directory: "/tmp", name: "mount-\(getpid())")
        guard await mount.wait(timeout: .seconds(10)) == 0 else {
            print("skipped fullDiskDropsOldestAndRecovers: cannot mount a tmpfs here (needs root): \(mount.standardError)")
            return
        }
        defer {
            let umount = try? ChildProcess(["umount", "-l", dir], directory: "/tmp", name: "umount-\(getpid())")
            _ = umount
        }
        let clock = TestClock()
        // The size bound is far above the disk: the disk fills first.
        let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: "\(dir)/b.db", maxBytes: 64 << 20), clock: clock)
        var committed = 0
        var dropped = 0
        var failures = 0
        for i in 0..<8000 {
            do {
                let r = try await outbox.append([Self.poll(i, at: clock.time)])
                committed += r.seqs.count
                dropped += r.drop.count
            } catch {
                if failures == 0 { print("first failure at poll \(i): \(error)") }
                failures += 1
            }
        }
        #expect(dropped > 0, "the full disk was handled by dropping the oldest")
        #expect(committed > 7000, "commits went on after the disk filled (\(failures) failed)")
        #expect(try await outbox.integrityCheck() == "ok")
        let stats = try await outbox.stats()
        #expect(
            Int64(stats.depth + stats.drops.count) == stats.lastSeq - stats.firstSeq + 1,
            "every message (\(committed) polls, the chain start, gap notices) is buffered or counted as dropped")
        outbox.close()
        let umount = try ChildProcess(["umount", dir], directory: "/tmp", name: "umount2-\(getpid())")
        _ = await umount.wait(timeout: .seconds(10))
    }
}

/// Log messages kept in memory, for tests that check what was reported.
final class CapturedLog: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
    }

    private let entries = LockedValue<[Entry]>([])
    var messages: [Entry] { entries.withLock { $0 } }

    var logger: Logger {
        let entries = self.entries
        return Logger(label: "test") { _ in Handler(entries: entries) }
    }

    struct Handler: LogHandler {
        let entries: LockedValue<[Entry]>
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            entries.withLock { $0.append(Entry(level: event.level, message: "\(event.message)")) }
        }
    }
}
