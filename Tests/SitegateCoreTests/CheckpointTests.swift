import SitegateCore
import Testing

/// Slot arithmetic, ticks due per slot, the tally and the checkpoint message (docs/evidence.md, "Checkpoints").
@Suite struct CheckpointTests {
    let t0 = UnixTime(seconds: 1_767_225_600)  // 2026-01-01T00:00:00Z
    let quarter = EvidenceSlots.quarterHour

    @Test(arguments: [
        ("15m", true), ("5m", true), ("1h", true), ("30s", true), ("1s", true), ("1d", true), ("7m", false),
        ("500ms", false), ("2d", false), ("90m", true), ("25m", false), ("11s", false),
    ])
    func slotLengthsMustDivideADay(_ text: String, _ valid: Bool) throws {
        let length = try #require(DurationNotation.parse(text))
        #expect((EvidenceSlots(length: length) != nil) == valid, "\(text)")
    }

    @Test func slotsAreAlignedToUTC() {
        let at = t0 + .seconds(3 * 900 + 17)  // 00:45:17
        #expect(quarter.slot(of: at) == (t0 + .seconds(2700))..<(t0 + .seconds(3600)))
        #expect(quarter.start(of: t0) == t0, "a boundary starts its own slot")
        #expect(quarter.start(of: t0 + .nanoseconds(-1)) == t0 + .seconds(-900))
        #expect(quarter.slots(from: t0, to: t0 + .seconds(1900)).count == 2)
        #expect(quarter.count(from: t0, to: t0 + .seconds(86_400)) == 96)
    }

    @Test func ticksDueInASlotFollowTheSchedule() {
        let slot = t0..<(t0 + .seconds(900))
        #expect(WallClockSchedule(interval: .seconds(1)).ticks(from: slot.lowerBound, to: slot.upperBound) == 900)
        #expect(WallClockSchedule(interval: .seconds(900)).ticks(from: slot.lowerBound, to: slot.upperBound) == 1)
        #expect(WallClockSchedule(interval: .seconds(60), offset: .seconds(20)).ticks(from: slot.lowerBound, to: slot.upperBound) == 15)
        // An hourly schedule has a tick in one quarter of four.
        let hourly = WallClockSchedule(interval: .seconds(3600))
        #expect(quarter.slots(from: t0, to: t0 + .seconds(3600)).map { hourly.ticks(from: $0.lowerBound, to: $0.upperBound) } == [1, 0, 0, 0])
        // 7-minute ticks straddle the slots: the total over a day is the day's.
        let odd = WallClockSchedule(interval: .seconds(420))
        let day = quarter.slots(from: t0, to: t0 + .seconds(86_400)).map { odd.ticks(from: $0.lowerBound, to: $0.upperBound) }
        #expect(day.reduce(0, +) == odd.ticks(from: t0, to: t0 + .seconds(86_400)))
        #expect(Set(day) == [2, 3])
        // Before 1970 as well.
        #expect(WallClockSchedule(interval: .seconds(10)).ticks(from: UnixTime(seconds: -100), to: UnixTime(seconds: 0)) == 10)
    }

    @Test func aMissedRunIsCountedInTheSlotsItSpans() {
        // Ticks at 00:14:00 .. 00:16:59 every second missed: 60 in the first slot, 120 in the second.
        let run = MissedTickRun(
            deviceID: "m", schedule: WallClockSchedule(interval: .seconds(1)), from: t0 + .seconds(840),
            to: t0 + .seconds(1020), reason: .clockStep)
        #expect(run.ticks(within: t0..<(t0 + .seconds(900))) == 60)
        #expect(run.ticks(within: (t0 + .seconds(900))..<(t0 + .seconds(1800))) == 120)
        #expect(run.ticks(within: (t0 + .seconds(1800))..<(t0 + .seconds(2700))) == 0)
    }

    @Test func theAccountAlwaysAddsUp() {
        var tally = SlotTally()
        tally.add(.full, count: 896, seqs: 10...4000)
        tally.add(.partial, count: 1, seqs: 7...7)
        tally.add(.failed, count: 2, seqs: 4100...4499)
        #expect(tally.firstSeq == 7 && tally.lastSeq == 4499 && tally.polls == 899)
        let d = CheckpointMessage.Device(scheduled: 900, polls: tally, overrun: 0, clockStep: 0)
        #expect(d.due == 900 && d.missed == MissedTicks(overrun: 0, clockStep: 0, notRunning: 1))
        // A slot of a stopped agent: every tick not running.
        let stopped = CheckpointMessage.Device(scheduled: 90, polls: SlotTally(), overrun: 0, clockStep: 0)
        #expect(stopped.missed.notRunning == 90)
        // More accounted than the schedule in force has due (a reload changed the interval): due is what happened.
        let reloaded = CheckpointMessage.Device(scheduled: 10, polls: SlotTally(counts: [.full: 12]), overrun: 3, clockStep: 0)
        #expect(reloaded.due == 15 && reloaded.missed.notRunning == 0)
        for device in [d, stopped, reloaded] {
            #expect(device.due == device.polls.polls + device.missed.total)
        }
    }

    @Test func theCheckpointReadsAsTheSpecificationShowsIt() throws {
        var tally = SlotTally()
        tally.add(.full, count: 898, seqs: 1_764_547_200_000_007...1_764_547_200_004_499)
        tally.add(.partial, count: 1, seqs: 1_764_547_200_000_100...1_764_547_200_000_100)
        tally.add(.failed, count: 1, seqs: 1_764_547_200_000_200...1_764_547_200_000_200)
        let message = CheckpointMessage(
            slot: UnixTime(seconds: 1_764_547_200)..<UnixTime(seconds: 1_764_548_100),
            agent: .init(version: "1.3.0", configHash: [0x3f, 0x1c] + Array(repeating: 0, count: 30), maps: ["eastron-sdm630": 2]),
            clock: .init(state: .synchronisedExample, unsynchronisedSeconds: 0),
            devices: [
                "main-incomer": .init(scheduled: 900, polls: tally, overrun: 0, clockStep: 0),
                "heat-meter": .init(scheduled: 15, polls: SlotTally(), overrun: 2, clockStep: 3),
            ])
        let draft = message.draft(at: UnixTime(milliseconds: 1_764_548_100_012))
        #expect(draft.destination == .evidence && draft.form == .object)
        let text = draft.head + draft.body + "}"
        #expect(text.hasPrefix(#"{"kind":"checkpoint","time":1764548100.012,"slot":{"start":1764547200,"end":1764548100},"agent":{"version":"1.3.0","config_hash":"sha256:3f1c0000"#))
        #expect(text.contains(#""clock":{"synchronised":true,"unsynchronised_s":0,"max_error_us":16000,"est_error_us":120}"#))
        #expect(text.contains(#""maps":{"eastron-sdm630":"2"}"#))
        #expect(!text.contains(" "), "no whitespace: the byte rule")
        let json = try #require(JSONValue.parse(text))
        let main = try #require(json["devices"]?["main-incomer"])
        #expect(main["due"]?.int == 900 && main["full"]?.int == 898 && main["partial"]?.int == 1 && main["failed"]?.int == 1)
        #expect(main["first_seq"]?.number == 1_764_547_200_000_007 && main["last_seq"]?.number == 1_764_547_200_004_499)
        #expect(main["missed"]?["not-running"]?.int == 0)
        let heat = try #require(json["devices"]?["heat-meter"])
        #expect(heat["first_seq"] == nil && heat["last_seq"] == nil, "absent when the slot had no data message")
        #expect(heat["missed"] == .object(["overrun": .number(2), "clock-step": .number(3), "not-running": .number(10)]))
        // Devices in id order, keys in the documented order.
        #expect(text.range(of: "heat-meter")!.lowerBound < text.range(of: "main-incomer")!.lowerBound)
        let keys = ["due", "full", "partial", "failed", "missed", "first_seq", "last_seq"].map { "\"\($0)\":" }
        let positions = try keys.map { try #require(text.range(of: $0, after: text.range(of: "main-incomer")!.upperBound)) }
        #expect(positions == positions.sorted())
    }

    @Test func aClockTheKernelCannotReadIsNotClaimedSynchronised() throws {
        let message = CheckpointMessage(
            slot: t0..<(t0 + .seconds(900)), agent: .init(version: "0", configHash: [], maps: [:]),
            clock: .init(state: nil, unsynchronisedSeconds: 0), devices: [:])
        let draft = message.draft(at: t0 + .seconds(900))
        #expect((draft.head + draft.body).contains(#""clock":{"synchronised":false,"unsynchronised_s":0,"max_error_us":null,"est_error_us":null}"#))
    }

    @Test func backlogAfterAStopChecksEverySlotInOrder() {
        let slots = quarter
        // Running: nothing until the slot in progress ends.
        #expect(CheckpointBacklog.pending(lastEnd: t0, firstStart: t0, now: t0 + .seconds(899), slots: slots).isEmpty)
        #expect(CheckpointBacklog.pending(lastEnd: t0, firstStart: t0, now: t0 + .seconds(900), slots: slots) == [t0..<(t0 + .seconds(900))])
        // First start ever, mid-slot: the slot it started in is the first to checkpoint.
        #expect(
            CheckpointBacklog.pending(lastEnd: nil, firstStart: t0 + .seconds(100), now: t0 + .seconds(901), slots: slots)
                == [t0..<(t0 + .seconds(900))])
        // Stopped for an hour: four slots, one by one.
        let hour = CheckpointBacklog.pending(lastEnd: t0, firstStart: t0 + .seconds(3700), now: t0 + .seconds(3700), slots: slots)
        #expect(hour.count == 4 && hour.first?.lowerBound == t0 && hour.last?.upperBound == t0 + .seconds(3600))
        // Stopped for 30 days: one summary up to the last 7 days, then 672 quarter-hours.
        let month = CheckpointBacklog.pending(lastEnd: t0, firstStart: t0 + .seconds(30 * 86_400), now: t0 + .seconds(30 * 86_400), slots: slots)
        #expect(month.count == 673)
        #expect(month[0] == t0..<(t0 + .seconds(23 * 86_400)))
        #expect(month[1].lowerBound == month[0].upperBound && month.last?.upperBound == t0 + .seconds(30 * 86_400))
        // Short slots: at most 672 one by one.
        let short = EvidenceSlots(length: .seconds(30))!
        #expect(CheckpointBacklog.pending(lastEnd: t0, firstStart: t0, now: t0 + .seconds(86_400), slots: short).count == 673)
        // The slot length changed between runs: up to the next boundary first, then whole slots.
        let hourly = EvidenceSlots(length: .seconds(3600))!
        #expect(
            CheckpointBacklog.pending(lastEnd: t0 + .seconds(900), firstStart: t0, now: t0 + .seconds(7200), slots: hourly)
                == [(t0 + .seconds(900))..<(t0 + .seconds(3600)), (t0 + .seconds(3600))..<(t0 + .seconds(7200))])
        // A clock set back behind the last checkpoint: nothing until it is passed again.
        #expect(CheckpointBacklog.pending(lastEnd: t0 + .seconds(1800), firstStart: t0, now: t0 + .seconds(100), slots: slots).isEmpty)
    }

    @Test func unsynchronisedTimeIsCountedPerSlot() {
        var u = UnsynchronisedTime()
        for s in 0...20 { u.observe(unsynchronised: false, at: t0 + .seconds(880 + Int64(s))) }  // 00:14:40..00:15:00
        for s in 1...30 { u.observe(unsynchronised: true, at: t0 + .seconds(900 + Int64(s))) }  // 00:15:01..00:15:30
        for s in 31...40 { u.observe(unsynchronised: false, at: t0 + .seconds(900 + Int64(s))) }
        #expect(u.seconds(in: t0..<(t0 + .seconds(900))) == 0)
        // From the last synchronised sample (00:15:00) to the first synchronised one again (00:15:31).
        #expect(u.seconds(in: (t0 + .seconds(900))..<(t0 + .seconds(1800))) == 31)
        // A stall of a minute counts ten seconds at most.
        u.observe(unsynchronised: true, at: t0 + .seconds(1000))
        #expect(u.seconds(in: (t0 + .seconds(900))..<(t0 + .seconds(1800))) == 41)
        u.forget(before: t0 + .seconds(1800))
        #expect(u.seconds(in: (t0 + .seconds(900))..<(t0 + .seconds(1800))) == 0)
    }

    @Test(arguments: [
        // adjtimex's return, status bits, synchronised?
        (Int32(0), Int32(0x2001), true),  // TIME_OK, STA_PLL | STA_NANO
        (5, 0x2040, false),  // TIME_ERROR with STA_UNSYNC: what a machine without an NTP daemon says
        (0, 0x0040, false),  // STA_UNSYNC alone
        (5, 0x0001, false),  // TIME_ERROR alone
        (1, 0x0011, true),  // TIME_INS (leap second ahead), STA_PLL | STA_INS
    ])
    func clockStateFromAdjtimex(_ result: Int32, _ status: Int32, _ synchronised: Bool) {
        let state = ClockState(adjtimexReturn: result, status: status, estimatedError: 120, maximumError: 16_000)
        #expect(state.synchronised == synchronised)
        #expect(state.estimatedErrorMicroseconds == 120 && state.maximumErrorMicroseconds == 16_000)
    }

    @Test func aClockStepIsToldFromTimePassing() {
        var d = ClockStepDetector()
        #expect(d.observe(wall: t0, monotonic: .seconds(100)) == .zero)
        #expect(d.observe(wall: t0 + .seconds(10), monotonic: .seconds(110)) == .zero, "time passing")
        let forward = d.observe(wall: t0 + .seconds(3620), monotonic: .seconds(120))
        #expect(forward == .seconds(3600))
        #expect(ClockStepDetector.isStep(forward, interval: .seconds(10)))
        let back = d.observe(wall: t0 + .seconds(30), monotonic: .seconds(130))
        #expect(back == .seconds(-3600) && ClockStepDetector.isStep(back, interval: .seconds(900)))
        #expect(!ClockStepDetector.isStep(.milliseconds(300), interval: .seconds(1)), "a slew, not a step")
    }
}

extension String {
    fileprivate func range(of target: String, after start: String.Index) -> String.Index? {
        var index = start
        while index < endIndex {
            if self[index...].hasPrefix(target) { return index }
            index = self.index(after: index)
        }
        return nil
    }

    fileprivate func range(of target: String) -> Range<String.Index>? {
        guard let i = range(of: target, after: startIndex) else { return nil }
        return i..<self.index(i, offsetBy: target.count)
    }
}
