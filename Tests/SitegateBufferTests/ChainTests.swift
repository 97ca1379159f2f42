import SitegateBuffer
import SitegateCore
import SitegateCrypto
import SitegateTestSupport
import Testing

/// The evidence chain as the outbox seals it (docs/evidence.md): links, signatures, key handover, gap notices,
/// checkpoints, the upgrade of a v1 buffer. Checked here by walking the stored bytes, independently of the
/// verifier in `sitegate verify`.
@Suite(.timeLimit(.minutes(2))) struct ChainTests {
    let crypto = LibCrypto()
    let clock = OutboxTests.TestClock()

    static func key(_ byte: UInt8) throws -> Ed25519Key { try Ed25519Key.fromSeed([UInt8](repeating: byte, count: 32)) }

    func open(_ path: String, signer: Ed25519Key? = nil, previous: Ed25519Key? = nil, keepAcked: Bool = false) async throws -> Outbox {
        try await Outbox(
            sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01", signer: signer, previousSigner: previous),
            settings: BufferSettings(path: path), tuning: BufferTuning(keepsAckedForCheckpoints: keepAcked), clock: clock)
    }

    /// Every unsent message, as text, in seq order.
    func stored(_ outbox: Outbox) async throws -> [StoredMessage] {
        try await outbox.messages(after: 0, limit: 100_000)
    }

    func member(_ name: String, _ payload: [UInt8]) -> String? {
        let marker = Array("\"\(name)\":\"".utf8)
        guard let r = payload.firstRange(of: marker) else { return nil }
        return String(decoding: payload[r.upperBound...].prefix { $0 != UInt8(ascii: "\"") }, as: UTF8.self)
    }

    /// Each message's `prev` is the base64url SHA-256 of the one before; returns how many links were checked.
    @discardableResult
    func expectLinked(_ messages: [StoredMessage]) -> Int {
        var links = 0
        for (before, after) in zip(messages, messages.dropFirst()) where after.seq == before.seq + 1 {
            #expect(member("prev", after.payload) == Base64.url(crypto.sha256(before.payload)), "link \(after.seq)")
            links += 1
        }
        return links
    }

    @Test func messagesAreChainedAndSignedAcrossRestarts() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("chain")
        let key = try Self.key(1)
        var outbox = try await open("\(dir)/b.db", signer: key)
        for i in 0..<3 { try await outbox.append([OutboxTests.poll(i, at: clock.time), OutboxTests.poll(i + 10, at: clock.time)]) }
        outbox.close()
        // What a crashed process leaves is what the next one continues: the head comes from the stored rows.
        outbox = try await open("\(dir)/b.db", signer: key)
        try await outbox.append([OutboxTests.poll(99, at: clock.time)])
        let messages = try await stored(outbox)
        #expect(messages.count == 8, "the chain start and 7 polls")
        #expect(messages.first?.deviceID == nil && member("prev", messages[0].payload) == nil, "a chain start has no prev")
        #expect(expectLinked(messages) == 7)
        let kid = KeyID.of(publicKey: key.publicKey, crypto: crypto)
        for m in messages {
            let split = try #require(SignedBytes(m.payload), "byte rule: \(String(decoding: m.payload, as: UTF8.self))")
            #expect(crypto.verifyEd25519(signature: split.signature, message: Array(split.signed), publicKey: key.publicKey))
            #expect(member("kid", m.payload) == kid)
        }
        // A digit changed: the signature fails.
        var tampered = messages[3].payload
        let digit = tampered.lastIndex(of: UInt8(ascii: "5")) ?? tampered.lastIndex(of: UInt8(ascii: "1"))!
        tampered[digit] = digit == tampered.lastIndex(of: UInt8(ascii: "5")) ? UInt8(ascii: "6") : UInt8(ascii: "2")
        let split = try #require(SignedBytes(tampered))
        #expect(!crypto.verifyEd25519(signature: split.signature, message: Array(split.signed), publicKey: key.publicKey))
        outbox.close()
    }

    @Test func aNewKeyIsHandedOverByTheOldOne() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("chain")
        let old = try Self.key(1)
        let new = try Self.key(2)
        var outbox = try await open("\(dir)/b.db", signer: old)
        try await outbox.append([OutboxTests.poll(1, at: clock.time)])
        outbox.close()
        outbox = try await open("\(dir)/b.db", signer: new, previous: old)
        try await outbox.append([OutboxTests.poll(2, at: clock.time)])
        var messages = try await stored(outbox)
        #expect(messages.count == 4)
        let handover = String(decoding: messages[2].payload, as: UTF8.self)
        #expect(handover.hasPrefix(#"{"kind":"key-handover""#))
        #expect(member("kid", messages[2].payload) == KeyID.of(publicKey: old.publicKey, crypto: crypto), "signed by the old key")
        #expect(member("next_kid", messages[2].payload) == KeyID.of(publicKey: new.publicKey, crypto: crypto))
        #expect(member("next_public_key", messages[2].payload) == Base64.url(new.publicKey))
        #expect(handover.contains(#""endorsed":true"#))
        let split = try #require(SignedBytes(messages[2].payload))
        #expect(crypto.verifyEd25519(signature: split.signature, message: Array(split.signed), publicKey: old.publicKey))
        #expect(member("kid", messages[3].payload) == KeyID.of(publicKey: new.publicKey, crypto: crypto))
        expectLinked(messages)
        outbox.close()
        // The old key lost: the handover is signed by the new key and says it is not endorsed.
        let third = try Self.key(3)
        outbox = try await open("\(dir)/b.db", signer: third)
        try await outbox.append([OutboxTests.poll(3, at: clock.time)])
        messages = try await stored(outbox)
        let unendorsed = String(decoding: messages[4].payload, as: UTF8.self)
        #expect(unendorsed.contains(#""endorsed":false"#))
        #expect(member("kid", messages[4].payload) == KeyID.of(publicKey: third.publicKey, crypto: crypto))
        outbox.close()
    }

    /// Dropped messages are declared by a notice whose `first_prev` and `last_hash` bridge the hole.
    @Test func aDropIsBridgedByItsNotice() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("chain")
        let outbox = try await open("\(dir)/b.db")
        try await outbox.append((0..<3).map { OutboxTests.poll($0, at: clock.time) })
        let before = try await stored(outbox)
        let purged = try await outbox.purge()
        #expect(purged.count == 4)
        try await outbox.append([OutboxTests.poll(9, at: clock.time)])
        let after = try await stored(outbox)
        #expect(after.count == 2)
        let notice = after[0]
        #expect(member("first_prev", notice.payload) == nil, "the run began with the chain start")
        #expect(member("last_hash", notice.payload) == Base64.url(crypto.sha256(before.last!.payload)))
        #expect(member("prev", notice.payload) == Base64.url(crypto.sha256(before.last!.payload)), "the chain goes on")
        expectLinked(after)
        outbox.close()
    }

    /// Checkpoints count a slot from the stored rows, also rows already acknowledged, until the next checkpoints.
    @Test func slotTalliesSurviveAcknowledgementUntilCheckpointed() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("chain")
        let outbox = try await open("\(dir)/b.db", keepAcked: true)
        let slotStart = clock.time
        var seqs: [Int64] = []
        for i in 0..<4 {
            var poll = OutboxTests.poll(0, at: slotStart + .seconds(i))
            if i == 3 { poll = Poll.failed(deviceID: poll.deviceID, at: poll.takenAt, tick: poll.takenAt, reason: .timeout) }
            seqs += try await outbox.append([poll]).seqs
        }
        try await outbox.acknowledge(seqs)
        try await outbox.append([OutboxTests.poll(1, at: slotStart + .seconds(60))])  // settles the acks, next slot
        let tally = try await outbox.slotTally(from: slotStart, to: slotStart + .seconds(60))
        #expect(tally["meter-0"]?[.full] == 3 && tally["meter-0"]?[.failed] == 1)
        #expect(tally["meter-0"]?.firstSeq == seqs[0] && tally["meter-0"]?.lastSeq == seqs[3])
        #expect(tally["meter-1"] == nil, "the next slot's poll is not counted")
        let checkpoint = MessageDraft.evidence(.checkpoint, time: clock.time, members: JSONObjectWriter())
        try await outbox.commitEvidence(checkpoint, slotEnd: slotStart + .seconds(60))
        #expect(try await outbox.lastCheckpointSlot() == slotStart + .seconds(60))
        #expect(try await outbox.slotTally(from: slotStart, to: slotStart + .seconds(60))["meter-0"]?[.full] == 3)
        outbox.close()
    }

    /// A buffer written before contract v2: its polls go out in the v1 form, then the chain starts.
    @Test func aV1BufferIsUpgraded() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("chain")
        let path = "\(dir)/b.db"
        let readings = ReadingCodec.encode([Reading(pointID: "power", unit: "W", value: .number(5))])
        let hex = readings.map { Hex.padded($0, digits: 2) }.joined()
        let sql = """
            CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, device TEXT NOT NULL, taken_at_ms INTEGER NOT NULL,
                committed_at_ms INTEGER NOT NULL, readings BLOB NOT NULL);
            CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT INTO meta VALUES ('first_seq', 1000);
            INSERT INTO outbox VALUES (1000, 'm1', 1767225600000, 1767225600100, x'\(hex)');
            INSERT INTO outbox VALUES (1001, 'm1', 1767225601000, 1767225601100, x'\(hex)');
            """
        // Written with Python's sqlite3 module (python3 is there wherever the tests run; the sqlite3 tool may not be).
        let script = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()"
        let sqlite = try ChildProcess(["/usr/bin/python3", "-c", script, path, sql], directory: dir, name: "sqlite3")
        #expect(await sqlite.wait(timeout: .seconds(20)) == 0, "\(sqlite.standardError)")
        let outbox = try await open(path, signer: try Self.key(1))
        try await outbox.append([OutboxTests.poll(1, at: clock.time)])
        let messages = try await stored(outbox)
        #expect(messages.map(\.seq).prefix(2) == [1000, 1001])
        #expect(
            String(decoding: messages[0].payload, as: UTF8.self)
                == #"[{"bn":"urn:dev:gia:test-site:gw01:m1:","bt":1767225600,"seq":1000,"n":"power","u":"W","v":5,"q":"backfill"}]"#)
        #expect(String(decoding: messages[2].payload, as: UTF8.self).hasPrefix(#"{"kind":"chain-start","seq":1002,"#))
        #expect(String(decoding: messages[2].payload, as: UTF8.self).contains(#""reason":"upgrade""#))
        expectLinked(Array(messages.dropFirst(2)))
        outbox.close()
    }
}

/// The archive of acknowledged messages (buffer.retain, buffer.retain_size): pruned by age and size, and the
/// first to give way when space is short.
@Suite(.timeLimit(.minutes(2))) struct ArchiveTests {
    let clock = OutboxTests.TestClock()

    func open(_ path: String, _ settings: (inout BufferSettings) -> Void) async throws -> Outbox {
        var s = BufferSettings(path: path)
        settings(&s)
        return try await Outbox(
            sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: s,
            tuning: BufferTuning(deleteDelay: .zero), clock: clock)
    }

    /// Appends `count` polls one second apart and acknowledges each at once; returns their seqs.
    func sendAndAcknowledge(_ outbox: Outbox, _ count: Int) async throws -> [Int64] {
        var seqs: [Int64] = []
        for i in 0..<count {
            clock.time = clock.time + .seconds(1)
            let s = try await outbox.append([OutboxTests.poll(i, at: clock.time)]).seqs
            try await outbox.acknowledge(s)
            seqs += s
        }
        return seqs
    }

    @Test func acknowledgedMessagesStayForReplayUntilTheyAgeOut() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("archive")
        let outbox = try await open("\(dir)/b.db") { $0.retain = .seconds(3600) }
        defer { outbox.close() }
        let seqs = try await sendAndAcknowledge(outbox, 10)
        var stats = try await outbox.stats()
        #expect(stats.depth == 1, "only the chain start is unsent")
        #expect(stats.archive.count == 10 && stats.archive.oldestSeq == seqs[0])
        let archived = try await outbox.archived(in: seqs[0]...seqs[9], after: 0, devices: nil, time: nil, limit: 100)
        #expect(archived.map(\.seq) == seqs, "the archive serves them in order")
        let coverage = try await outbox.replayCoverage(seqs[0] - 1...seqs[9] + 5, devices: nil, time: nil)
        #expect(coverage.archived.count == 10 && coverage.unsent.count == 1 && coverage.present.count == 11)
        let onlyMeter1 = try await outbox.replayCoverage(seqs[0]...seqs[9], devices: ["meter-1"], time: nil)
        #expect(onlyMeter1.archived.count == 2, "polls 1 and 8 are meter-1's")
        // Two hours later the first ten have aged out; the newer ones stay.
        clock.time = clock.time + .seconds(7200)
        let newer = try await sendAndAcknowledge(outbox, 3)
        stats = try await outbox.stats()
        #expect(stats.archive.count == 3 && stats.archive.oldestSeq == newer[0])
        #expect(stats.archive.evicted == 0, "ageing out is not an eviction")
    }

    @Test func theSizeBoundKeepsTheNewest() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("archive")
        let outbox = try await open("\(dir)/b.db") { $0.retainBytes = 20_000 }
        defer { outbox.close() }
        let seqs = try await sendAndAcknowledge(outbox, 100)
        let stats = try await outbox.stats()
        #expect(stats.archive.bytes <= 20_000 && stats.archive.bytes > 15_000, "\(stats.archive.bytes)")
        let kept = try await outbox.archived(in: seqs[0]...seqs[99], after: 0, devices: nil, time: nil, limit: 1000)
        #expect(kept.last?.seq == seqs[99] && kept.map(\.seq) == Array(kept.first!.seq...seqs[99]), "the newest, contiguous")
    }

    @Test func theArchiveGivesWayBeforeAnyUnsentMessage() async throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("archive")
        let outbox = try await open("\(dir)/b.db") {
            $0.maxBytes = 1 << 20
            $0.retainBytes = 1 << 20
        }
        defer { outbox.close() }
        _ = try await sendAndAcknowledge(outbox, 1500)  // about 0.9 MiB of archive
        var stats = try await outbox.stats()
        let archivedBefore = stats.archive.count
        // The broker goes away: unsent polls pile up and need the room.
        var dropped = 0
        for i in 0..<1500 {
            clock.time = clock.time + .seconds(1)
            dropped += try await outbox.append([OutboxTests.poll(i, at: clock.time)]).drop.count
        }
        stats = try await outbox.stats()
        #expect(stats.archive.evicted > 0 && stats.archive.count < archivedBefore, "the archive shrank")
        #expect(dropped == 0 || stats.archive.count == 0, "an unsent message goes only once the archive is empty")
        #expect(stats.usedBytes <= 1 << 20)
    }
}
