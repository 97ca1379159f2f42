import Foundation
import SitegateBuffer
import SitegateCore
import SitegateTestSupport
import Testing

/// Replay on request (docs/evidence.md, "Replay"): a subscriber that lost messages after the broker gets them
/// again from the gateway's archive, byte for byte; bad requests get error answers; replays do not hold up live data.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ReplayTests {
    /// The recorder goes away; the broker keeps only 10 messages for it (max_queued_messages 10) and drops the rest.
    /// The holes in what it received are asked for again and come back identical to the archived bytes.
    @Test func messagesLostAfterTheBrokerAreReplayedByteForByte() async throws {
        try await Harness.with("replay-loss", queueLimit: 10) { h in
            try await h.startSimulator(units: [1, 2], frozen: false)
            let config = try h.writeConfig(devices: [("m1", 1), ("m2", 2)], interval: "200ms", minDelay: "0ms")
            try h.startRecorder(clientID: "replay-loss-recorder")
            try h.startAgent(config: config)
            try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 10 }
            await h.recorder!.stop()
            try await Task.sleep(for: .seconds(4))  // ~40 messages published, 10 queued for the recorder
            try h.startRecorder(clientID: "replay-loss-recorder")
            try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 60 }
            let holes = Self.holes(in: Set(h.dataMessages().map(\.seq)).union(h.evidenceSeqs()))
            #expect(holes.count >= 20, "the queue limit lost messages: \(holes.text)")

            let capture = "\(h.directory)/capture.ndjson"
            let replay = try await h.sitegate(
                ["replay", "--config", config, "--seqs", holes.text, "--capture", capture, "--id", "repair-1"])
            #expect(replay.status == 0, "\(replay.out)\n\(replay.err)")
            #expect(replay.out.contains("republished:     \(holes.count)"), "\(replay.out)")
            #expect(replay.out.contains("gone for good:   0"), "\(replay.out)")
            let replayed = try Self.capturedBySeq(capture)
            #expect(holes.ranges.allSatisfy { $0.allSatisfy { replayed[$0] != nil } }, "every hole came back")
            #expect(await h.agent!.terminate() == 0)

            // Byte for byte what the gateway stored (and first published).
            let outbox = try await Outbox(
                sealing: OutboxSealing(siteID: "test-park", gatewayID: "gw01"),
                settings: BufferSettings(path: "\(h.directory)/buffer.db"))
            defer { outbox.close() }
            var compared = 0
            for range in holes.ranges {
                for stored in try await outbox.archived(in: range, after: 0, devices: nil, time: nil, limit: 100_000) {
                    #expect(replayed[stored.seq] == stored.payload, "seq \(stored.seq) differs")
                    compared += 1
                }
            }
            #expect(Int64(compared) == holes.count)
            print("replay: \(holes.count) lost after the broker, \(compared) replayed byte for byte")
        }
    }

    /// `sitegate audit --repair`: a persistent `sitegate record` session loses messages at the broker's queue
    /// limit while it is away; `verify` finds the undeclared gaps (10), `audit --repair` gets every one back into
    /// the capture, and both verifiers then pass it with the signatures checked.
    @Test func auditRepairRecoversWhatTheBrokerLost() async throws {
        try await Harness.with("replay-repair", queueLimit: 10) { h in
            try await h.startSimulator(units: [1, 2], frozen: false)
            let config = try h.writeConfig(devices: [("m1", 1), ("m2", 2)], interval: "200ms", minDelay: "0ms")
            let capture = "\(h.directory)/capture.ndjson"
            let record = [TestEnvironment.sitegateBinary, "record", "--persistent", "--config", config, "-o", capture]
            try h.startAgent(config: config)
            let first = try ChildProcess(record, directory: h.directory, name: "record-1")
            defer { first.signal(SIGKILL) }
            try await Self.waitForData(in: capture, atLeast: 10)
            #expect(await first.terminate() == 0)
            try await Task.sleep(for: .seconds(4))  // ~40 messages published, 10 queued for the session
            // The recorder keeps running through the repair, as it would at a backend: no hole at the capture's end.
            let second = try ChildProcess(record, directory: h.directory, name: "record-2")
            defer { second.signal(SIGKILL) }
            try await Self.waitForData(in: capture, atLeast: 60)
            let lost = try await h.sitegate(["verify", capture])
            #expect(lost.status == 10, "\(lost.out)")
            #expect(lost.out.contains("UNDECLARED"), "\(lost.out)")

            let unrepaired = "\(h.directory)/unrepaired.ndjson"
            try FileManager.default.copyItem(atPath: capture, toPath: unrepaired)

            let repair = try await h.sitegate(["audit", capture, "--repair", "--config", config], timeout: .seconds(150))
            #expect(repair.status == 0, "\(repair.out)\n\(repair.err)")
            #expect(repair.out.contains("still missing: 0"), "\(repair.out)")
            #expect(repair.out.contains("gone for good: 0"), "\(repair.out)")
            #expect(await second.terminate() == 0)
            #expect(await h.agent!.terminate() == 0)
            // No gateway to answer: what it may still hold stays missing, and that is exit 1.
            let unanswered = try await h.sitegate(["audit", unrepaired, "--repair", "--config", config, "--timeout", "2s"])
            #expect(unanswered.status == 1, "\(unanswered.out)\n\(unanswered.err)")
            #expect(unanswered.out.contains("FAILED: no answer within 2s") && unanswered.out.contains("INCOMPLETE"), "\(unanswered.out)")

            let keys = "\(h.directory)/keys.txt"
            let verified = try await h.sitegate(["verify", capture, "--keys", keys])
            #expect(verified.status == 0, "\(verified.out)")
            let python = try ChildProcess(
                [TestEnvironment.python, "\(TestEnvironment.packageRoot)/scripts/verify_evidence.py", capture, "--keys", keys],
                directory: h.directory, name: "verify-py")
            #expect(await python.wait(timeout: .seconds(60)) == 0, "\(python.standardOutput)")
            // The repair report: the lines before the audit's table.
            print(repair.out.components(separatedBy: "\n\n").first ?? "")
        }
    }

    @Test func badRequestsGetErrorAnswers() async throws {
        try await Harness.with("replay-bad") { h in
            try await h.startSimulator(units: [1], frozen: true)
            let config = try h.writeConfig(devices: [("m1", 1)], interval: "500ms", minDelay: "0ms")
            try h.startRecorder()
            try h.startAgent(config: config)
            try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 2 }
            let requests: [(id: String, body: String, error: String)] = [
                ("invalid", "{not json", "not a JSON object"),
                ("huge", #"{"id":"huge","ranges":[[1,9000000000]]}"#, "spans more than"),
                ("negative", #"{"id":"negative","ranges":[[-5,3]]}"#, "start at 1"),
                ("who", #"{"id":"who","ranges":[[1,3]],"devices":["nobody"]}"#, "unknown device 'nobody'"),
                ("empty", #"{"id":"empty","ranges":[]}"#, "non-empty array"),
                ("invalid", #"{"id":"a/b","ranges":[[1,2]]}"#, "'id' must be"),
            ]
            for r in requests {
                let pub = try ChildProcess(
                    ["mosquitto_pub", "-h", "127.0.0.1", "-p", "\(h.broker.port)", "-q", "1",
                     "-t", "gia/v1/test-park/gw01/replay/request", "-m", r.body], directory: h.directory, name: "pub-\(r.id)")
                #expect(await pub.wait(timeout: .seconds(10)) == 0)
            }
            let deadline = ContinuousClock.now + .seconds(20)
            var answers: [String: [String]] = [:]
            while ContinuousClock.now < deadline {
                answers = [:]
                for m in h.recorder!.messages
                where m.topic.hasPrefix("gia/v1/test-park/gw01/replay/answer/") {
                    answers[String(m.topic.split(separator: "/").last!), default: []].append(m.payload)
                }
                if answers.values.reduce(0, { $0 + $1.count }) >= requests.count { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            for r in requests {
                #expect(
                    answers[r.id]?.contains { $0.contains(#""status":"error""#) && $0.contains(r.error) } == true,
                    "\(r.id): \(answers[r.id] ?? [])")
            }
            #expect(h.agent!.isRunning, "bad requests never stop the agent")
            #expect(h.agent!.standardError.contains("replay request refused"))
            #expect(await h.agent!.terminate() == 0)
        }
    }

    /// Live data keeps its latency while a flood of replay requests is served (the figures are printed; the bound
    /// only catches replays that hold live data up).
    @Test func aFloodOfRequestsDoesNotHoldUpLiveData() async throws {
        try await Harness.with("replay-flood") { h in
            try await h.startSimulator(units: [1, 2, 3], frozen: false)
            let config = try h.writeConfig(devices: [("m1", 1), ("m2", 2), ("m3", 3)], interval: "200ms", minDelay: "0ms")
            try h.startRecorder(timed: true)
            try h.startAgent(config: config)
            try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 150 }  // an archive to replay
            let quiet = try await Self.liveLatency(h, for: .seconds(5))
            let first = h.dataMessages().map(\.seq).min()!
            let port = h.broker.port
            let directory = h.directory
            let flood = Task {
                for i in 0..<40 {
                    let body = #"{"id":"flood-\#(i)","ranges":[[\#(first),\#(first + 150)]]}"#
                    let pub = try ChildProcess(
                        ["mosquitto_pub", "-h", "127.0.0.1", "-p", "\(port)", "-q", "1",
                         "-t", "gia/v1/test-park/gw01/replay/request", "-m", body], directory: directory, name: "flood-\(i)")
                    _ = await pub.wait(timeout: .seconds(10))
                }
            }
            let busy = try await Self.liveLatency(h, for: .seconds(5))
            try await flood.value
            let answered = h.recorder!.messages.filter { $0.topic.contains("/replay/answer/flood-") }
            print(
                "replay flood: live latency quiet median \(quiet.median) ms, p99 \(quiet.p99) ms; during the flood "
                    + "median \(busy.median) ms, p99 \(busy.p99) ms; \(answered.count) answers")
            #expect(answered.contains { $0.payload.contains("too many requests") || $0.payload.contains("being served") })
            #expect(busy.p99 < 3000, "replays must not hold up live data")
            #expect(await h.agent!.terminate() == 0)
        }
    }

    // MARK: Helpers

    /// Waits until the capture holds `count` data messages.
    static func waitForData(in capture: String, atLeast count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: capture, encoding: .utf8)) ?? ""
            let data = text.split(separator: "\n").filter { CaptureRecord(json: String($0))?.topic.hasSuffix("/data") == true }
            if data.count >= count { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestSupportError("fewer than \(count) data messages in \(capture)")
    }

    /// Missing numbers between the lowest and the highest received.
    static func holes(in seqs: Set<Int64>) -> SeqRanges {
        guard let low = seqs.min(), let high = seqs.max() else { return SeqRanges() }
        return SeqRanges([low...high]).subtracting(SeqRanges(increasing: seqs.sorted()))
    }

    /// The capture's messages by seq (the last copy of each).
    static func capturedBySeq(_ path: String) throws -> [Int64: [UInt8]] {
        var out: [Int64: [UInt8]] = [:]
        for line in try readFile(path).split(separator: "\n") {
            guard let record = CaptureRecord(json: String(line)), let seq = SeqOfMessageForTests.seq(record.payload) else {
                continue
            }
            out[seq] = record.payload
        }
        return out
    }

    /// Arrival minus `bt` of the live data messages that arrive within `duration`, in milliseconds.
    static func liveLatency(_ h: Harness, for duration: Duration) async throws -> (median: Int, p99: Int) {
        let before = h.recorder!.timedMessages
        // Live: numbers above any seen so far (replayed messages carry their old `bt`, and are not live).
        let liveFrom = before.compactMap { DataMessage($0.topic, $0.payload)?.seq }.max() ?? 0
        try await Task.sleep(for: duration)
        var seen = Set<Int64>()
        let lags = h.recorder!.timedMessages.dropFirst(before.count).compactMap { m -> Int? in
            guard let data = DataMessage(m.topic, m.payload), data.seq > liveFrom, seen.insert(data.seq).inserted else {
                return nil
            }
            return Int(((m.arrived - data.bt) * 1000).rounded())
        }.sorted()
        guard !lags.isEmpty else { return (0, 0) }
        return (lags[lags.count / 2], lags[min(lags.count - 1, lags.count * 99 / 100)])
    }
}

enum SeqOfMessageForTests {
    static func seq(_ payload: [UInt8]) -> Int64? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) else { return nil }
        if let pack = object as? [[String: Any]] { return (pack.first?["seq"] as? NSNumber)?.int64Value }
        return ((object as? [String: Any])?["seq"] as? NSNumber)?.int64Value
    }
}
