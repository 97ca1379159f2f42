import Logging
import SitegateConfig
import SitegateCore
import SitegateCrypto
import SitegateTestSupport
import SitegateThreads
import Testing

@testable import SitegateAgent

/// The checkpoint service against an in-memory store and a clock moved by hand: when a slot is checkpointed, and
/// what its account says, for a running agent, a late bus, missed ticks and a stop of an hour.
@Suite struct CheckpointServiceTests {
    static let t0 = UnixTime(seconds: 1_767_225_600)  // 2026-01-01T00:00:00Z
    static let config = """
        site: { id: demo-park, gateway: gw01 }
        mqtt: { url: mqtt://127.0.0.1:1883 }
        buffer: { path: buffer.db }
        evidence: { slot: 1m }
        maps: [\(TestEnvironment.shippedMaps)]
        buses:
          - { id: lan, tcp: { host: 127.0.0.1, port: 1502 } }
          - { id: line, tcp: { host: 127.0.0.1, port: 1503 } }
        devices:
          - { id: fast, bus: lan, unit: 1, model: eastron-sdm630, interval: 10s }
          - { id: slow, bus: line, unit: 2, model: eastron-sdm630, interval: 1m }

        """

    /// A wall clock the test moves by hand.
    final class TestClock: WallClock {
        private let value = LockedValue(CheckpointServiceTests.t0)
        var time: UnixTime {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
        func now() -> UnixTime { time }
    }

    /// The outbox's part in checkpoints, in memory: committed polls by tick, and the evidence drafts.
    final class MemoryStore: CheckpointStore {
        struct Row: Sendable {
            var seq: Int64
            var device: String
            var tick: UnixTime
            var outcome: PollOutcome
        }
        let rows = LockedValue<[Row]>([])
        let drafts = LockedValue<[MessageDraft]>([])
        let lastEnd: UnixTime?

        init(lastEnd: UnixTime? = nil) { self.lastEnd = lastEnd }

        func add(_ device: String, tick: UnixTime, _ outcome: PollOutcome) {
            rows.withLock { $0.append(Row(seq: Int64($0.count + 1), device: device, tick: tick, outcome: outcome)) }
        }

        func slotTally(from: UnixTime, to: UnixTime) async throws -> [String: SlotTally] {
            var out: [String: SlotTally] = [:]
            for row in rows.withLock({ $0 }) where row.tick >= from && row.tick < to {
                out[row.device, default: SlotTally()].add(row.outcome, count: 1, seqs: row.seq...row.seq)
            }
            return out
        }

        func commitEvidence(_ draft: MessageDraft, slotEnd: UnixTime?) async throws -> Int64 {
            drafts.withLock { $0.append(draft) }
            return 1000 + Int64(drafts.withLock { $0.count })
        }

        func lastCheckpointSlot() async throws -> UnixTime? { lastEnd }

        /// The committed checkpoints as JSON.
        var checkpoints: [JSONValue] {
            drafts.withLock { $0 }.compactMap { JSONValue.parse($0.head + $0.body + "}") }
        }
    }

    /// A kernel that refuses adjtimex (systemd's ProtectClock=yes).
    struct UnreadableClock: ClockStateSource {
        func sample() -> ClockState? { nil }
    }

    struct Fixture {
        let clock = TestClock()
        let ticks = TickLedger()
        let store: MemoryStore
        let service: CheckpointService
        let configText = CheckpointServiceTests.config

        init(lastEnd: UnixTime? = nil, clockState: ClockState? = .synchronisedExample, startedAt: UnixTime) throws {
            store = MemoryStore(lastEnd: lastEnd)
            clock.time = startedAt
            let config = try SiteConfigLoader.parse(configText, file: "/tmp/site.yaml").config
            let source: any ClockStateSource = clockState.map { FixedClockState($0) } ?? UnreadableClock()
            service = CheckpointService(
                store: ConfigStore(config), evidence: store, ticks: ticks, clockSource: source,
                clock: clock, version: "9.9.9", crypto: LibCrypto(), logger: Logger(label: "test"))
        }

        /// The account of `device` in checkpoint `index`.
        func device(_ id: String, in index: Int) throws -> JSONValue {
            let checkpoints = store.checkpoints
            try #require(index < checkpoints.count, "only \(checkpoints.count) checkpoints")
            return try #require(checkpoints[index]["devices"]?[id])
        }
    }

    static func counts(_ d: JSONValue) -> [String: Int] {
        var out: [String: Int] = [:]
        for key in ["due", "full", "partial", "failed"] { out[key] = d[key]?.int }
        for key in ["overrun", "clock-step", "not-running"] { out[key] = d["missed"]?[key]?.int }
        return out
    }

    @Test func aSlotIsCheckpointedOnceEveryBusHasAccountedForIt() async throws {
        let t0 = Self.t0
        let f = try Fixture(startedAt: t0 + .seconds(5))
        var state = CheckpointService.State(started: f.clock.time)
        // The fast meter's ticks after the start: three full, one partial, one failed.
        for (i, outcome) in [PollOutcome.full, .full, .partial, .failed, .full].enumerated() {
            f.store.add("fast", tick: t0 + .seconds(10 * Int64(i + 1)), outcome)
        }
        f.ticks.accounted(bus: "lan", until: t0 + .seconds(60))
        f.ticks.accounted(bus: "line", until: t0 + .seconds(60))
        f.clock.time = t0 + .seconds(59)
        await f.service.step(&state)
        #expect(f.store.checkpoints.isEmpty, "the slot has not ended")
        f.clock.time = t0 + .seconds(61)
        await f.service.step(&state)
        await f.service.step(&state)
        #expect(f.store.checkpoints.count == 1, "once")
        let fast = try f.device("fast", in: 0)
        #expect(Self.counts(fast) == ["due": 6, "full": 3, "partial": 1, "failed": 1, "overrun": 0, "clock-step": 0, "not-running": 1])
        #expect(fast["first_seq"]?.int == 1 && fast["last_seq"]?.int == 5)
        #expect(Self.counts(try f.device("slow", in: 0))["not-running"] == 1, "its tick at :00 came before the start")
        let checkpoint = try #require(f.store.checkpoints.first)
        #expect(checkpoint["slot"] == .object(["start": .number(Double(t0.milliseconds / 1000)), "end": .number(Double(t0.milliseconds / 1000 + 60))]))
        #expect(checkpoint["agent"]?["version"]?.string == "9.9.9")
        let hash = "sha256:" + Hex.lowercase(LibCrypto().sha256(Array(f.configText.utf8)))
        #expect(checkpoint["agent"]?["config_hash"]?.string == hash)
        #expect(checkpoint["agent"]?["maps"]?["eastron-sdm630"]?.string != nil)
        #expect(checkpoint["clock"]?["synchronised"]?.bool == true)
    }

    @Test func aLateBusIsWaitedForThenItsOpenTicksAreOverrun() async throws {
        let t0 = Self.t0
        let f = try Fixture(startedAt: t0 + .seconds(5))
        var state = CheckpointService.State(started: f.clock.time)
        f.store.add("fast", tick: t0 + .seconds(10), .full)
        f.store.add("fast", tick: t0 + .seconds(20), .full)
        f.ticks.accounted(bus: "lan", until: t0 + .seconds(30))  // busy with the tick at :30
        f.ticks.accounted(bus: "line", until: t0 + .seconds(60))
        f.clock.time = t0 + .seconds(61)
        await f.service.step(&state)
        #expect(f.store.checkpoints.isEmpty, "waiting for the busy bus")
        f.clock.time = t0 + .seconds(60) + CheckpointService.grace
        await f.service.step(&state)
        #expect(
            Self.counts(try f.device("fast", in: 0))
                == ["due": 6, "full": 2, "partial": 0, "failed": 0, "overrun": 3, "clock-step": 0, "not-running": 1])
    }

    @Test func missedTicksAreCountedByReason() async throws {
        let t0 = Self.t0
        let f = try Fixture(clockState: .unsynchronised, startedAt: t0 + .seconds(5))
        var state = CheckpointService.State(started: f.clock.time)
        let schedule = WallClockSchedule(interval: .seconds(10))
        f.store.add("fast", tick: t0 + .seconds(10), .full)
        f.ticks.missed(MissedTickRun(deviceID: "fast", schedule: schedule, from: t0 + .seconds(20), to: t0 + .seconds(40), reason: .overrun))
        // The clock jumped from :40 to 01:30: the rest of this slot and the next are clock-step.
        f.ticks.missed(MissedTickRun(deviceID: "fast", schedule: schedule, from: t0 + .seconds(40), to: t0 + .seconds(90), reason: .clockStep))
        f.ticks.accounted(bus: "lan", until: t0 + .seconds(90))
        f.ticks.accounted(bus: "line", until: t0 + .seconds(120))
        f.clock.time = t0 + .seconds(91)
        await f.service.step(&state)
        #expect(
            Self.counts(try f.device("fast", in: 0))
                == ["due": 6, "full": 1, "partial": 0, "failed": 0, "overrun": 2, "clock-step": 2, "not-running": 1])
        f.ticks.accounted(bus: "lan", until: t0 + .seconds(120))
        f.clock.time = t0 + .seconds(121)
        await f.service.step(&state)
        #expect(Self.counts(try f.device("fast", in: 1))["clock-step"] == 3, "01:00, 01:10, 01:20")
        #expect(Self.counts(try f.device("fast", in: 1))["not-running"] == 3, "no poll stored for 01:30..01:50")
        let clock = try #require(f.store.checkpoints.last?["clock"])
        #expect(clock["synchronised"]?.bool == false)
        // Sampled at 01:31 and 02:01 only: a gap between samples counts 10 s at most, 9 of them in this slot.
        #expect(clock["unsynchronised_s"]?.int == 9)
    }

    @Test func aStopOfAnHourGetsEveryCheckpointItMissed() async throws {
        let t0 = Self.t0
        // The last checkpoint ended at 23:00; the agent was killed at 23:00:25 and starts again at 00:00:05.
        let f = try Fixture(lastEnd: t0 + .seconds(-3600), startedAt: t0 + .seconds(5))
        f.store.add("fast", tick: t0 + .seconds(-3590), .full)
        f.store.add("fast", tick: t0 + .seconds(-3580), .partial)
        var state = CheckpointService.State(started: f.clock.time)
        await f.service.step(&state)
        let checkpoints = f.store.checkpoints
        #expect(checkpoints.count == 60)
        #expect(
            Self.counts(try f.device("fast", in: 0))
                == ["due": 6, "full": 1, "partial": 1, "failed": 0, "overrun": 0, "clock-step": 0, "not-running": 4])
        for i in 1..<60 {
            #expect(Self.counts(try f.device("fast", in: i))["not-running"] == 6)
            #expect(Self.counts(try f.device("slow", in: i))["not-running"] == 1)
        }
        let ends = checkpoints.compactMap { $0["slot"]?["end"]?.int }
        #expect(ends == (0..<60).map { Int(t0.milliseconds / 1000) - 3540 + 60 * $0 }, "in order, none twice")
    }

    @Test func aClockTheKernelWillNotShowIsNotCalledSynchronised() async throws {
        let t0 = Self.t0
        let f = try Fixture(clockState: nil, startedAt: t0 + .seconds(5))
        var state = CheckpointService.State(started: f.clock.time)
        f.ticks.accounted(bus: "lan", until: t0 + .seconds(60))
        f.ticks.accounted(bus: "line", until: t0 + .seconds(60))
        f.clock.time = t0 + .seconds(61)
        await f.service.step(&state)
        let clock = try #require(f.store.checkpoints.first?["clock"])
        #expect(clock == .object(["synchronised": .bool(false), "unsynchronised_s": .number(0), "max_error_us": .null, "est_error_us": .null]))
    }
}
