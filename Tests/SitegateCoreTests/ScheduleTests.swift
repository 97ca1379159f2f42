import SitegateCore
import Testing

@Suite struct ScheduleTests {
    let t0 = UnixTime(seconds: 1_767_225_600)  // 2026-01-01T00:00:00Z

    @Test func fifteenMinutesAlignToQuarterHours() {
        let s = WallClockSchedule(interval: .seconds(900))
        #expect(s.nextTick(after: t0 + .seconds(1)) == t0 + .seconds(900))
        #expect(s.nextTick(after: t0) == t0 + .seconds(900))
        #expect(s.nextTick(after: t0 + .seconds(899)) == t0 + .seconds(900))
        #expect(s.nextTick(after: t0 + .seconds(900)) == t0 + .seconds(1800))
    }

    @Test func offsetShiftsTicks() {
        let s = WallClockSchedule(interval: .seconds(900), offset: .seconds(30))
        #expect(s.nextTick(after: t0) == t0 + .seconds(30))
        #expect(s.nextTick(after: t0 + .seconds(30)) == t0 + .seconds(930))
    }

    @Test func lateTickSkipsWithoutCatchUp() {
        let s = WallClockSchedule(interval: .seconds(10))
        // The tick due at t0 ran until t0 + 35 s: ticks at +10, +20, +30 were missed; next is +40.
        let (next, missed) = s.advance(from: t0, now: t0 + .seconds(35))
        #expect(next == t0 + .seconds(40))
        #expect(missed == 3)
        // On time: the next tick, nothing missed.
        let onTime = s.advance(from: t0, now: t0 + .milliseconds(200))
        #expect(onTime.next == t0 + .seconds(10))
        #expect(onTime.missed == 0)
    }

    @Test func timesPrintAsUTC() {
        #expect((t0 + .milliseconds(900_123)).description == "2026-01-01T00:15:00.123Z")
        #expect(UnixTime(seconds: 951_782_400).description == "2000-02-29T00:00:00.000Z")
    }

    @Test func durationsParse() {
        #expect(DurationNotation.parse("500ms") == .milliseconds(500))
        #expect(DurationNotation.parse("10s") == .seconds(10))
        #expect(DurationNotation.parse("15m") == .seconds(900))
        #expect(DurationNotation.parse("2h") == .seconds(7200))
        #expect(DurationNotation.parse("1d") == .seconds(86400))
        for bad in ["", "10", "s", "1.5s", "-1s", "10 s", "10sec", "99999999999999999999s"] {
            #expect(DurationNotation.parse(bad) == nil, "\(bad)")
        }
        #expect(ByteSizeNotation.parse("256MiB") == 268_435_456)
        #expect(ByteSizeNotation.parse("10MB") == 10_000_000)
        #expect(ByteSizeNotation.parse("12XB") == nil)
    }
}

@Suite struct BackoffTests {
    let t0 = UnixTime(seconds: 1_767_225_600)

    @Test func backsOffExponentiallyAfterThresholdAndCaps() {
        var b = Backoff(threshold: 3, cap: .seconds(60))
        #expect(b.recordFailure(at: t0, interval: .seconds(10)) == nil)
        #expect(b.recordFailure(at: t0, interval: .seconds(10)) == nil)
        #expect(b.allows(at: t0))
        #expect(b.recordFailure(at: t0, interval: .seconds(10)) == .seconds(10))
        #expect(!b.allows(at: t0 + .seconds(9)))
        #expect(b.allows(at: t0 + .seconds(10)))
        #expect(b.recordFailure(at: t0, interval: .seconds(10)) == .seconds(20))
        #expect(b.recordFailure(at: t0, interval: .seconds(10)) == .seconds(40))
        #expect(b.recordFailure(at: t0, interval: .seconds(10)) == .seconds(60), "capped")
        #expect(b.recordFailure(at: t0, interval: .seconds(10)) == .seconds(60))
        b.recordSuccess()
        #expect(b.allows(at: t0) && b.failures == 0)
    }

    @Test func capNeverShortensAnInterval() {
        var b = Backoff(threshold: 1, cap: .seconds(60))
        #expect(b.recordFailure(at: t0, interval: .seconds(900)) == .seconds(900))
    }
}

/// The failover policy for broker lists.
@Suite struct BrokerRotationTests {
    @Test func movesOnAtOnceAndWaitsOnlyAfterAFullRound() {
        var r = BrokerRotation(nodeCount: 3, minDelay: .seconds(1), maxDelay: .seconds(8))
        #expect(r.current == 0)
        #expect(r.failed(jitter: 1) == .zero && r.current == 1)
        #expect(r.failed(jitter: 1) == .zero && r.current == 2)
        #expect(r.failed(jitter: 1) == .seconds(1) && r.current == 0, "every node failed: back off")
        #expect(r.failed(jitter: 1) == .zero)
        #expect(r.failed(jitter: 1) == .zero)
        #expect(r.failed(jitter: 0.5) == .seconds(1), "second round: 2 s, jittered to half")
        for _ in 0..<30 { _ = r.failed(jitter: 1) }
        #expect(r.failed(jitter: 1) <= .seconds(8), "capped")
    }

    @Test func anAcceptedSessionStaysAndResetsTheBackoff() {
        var r = BrokerRotation(nodeCount: 2, minDelay: .seconds(1), maxDelay: .seconds(60))
        _ = r.failed(jitter: 1)
        _ = r.failed(jitter: 1)
        _ = r.failed(jitter: 1)
        #expect(r.current == 1)
        r.accepted()
        // Node 2 works, then is lost: straight to node 1, no wait.
        #expect(r.failed(jitter: 1) == .zero && r.current == 0)
        #expect(r.failed(jitter: 1) == .seconds(1) && r.current == 1)
    }

    @Test func oneNodeIsPlainBackoff() {
        var r = BrokerRotation(nodeCount: 1, minDelay: .seconds(1), maxDelay: .seconds(4))
        #expect([r.failed(jitter: 1), r.failed(jitter: 1), r.failed(jitter: 1), r.failed(jitter: 1)]
            == [.seconds(1), .seconds(2), .seconds(4), .seconds(4)])
        #expect(r.current == 0)
    }

    @Test func roundedDurationsForLogs() {
        #expect(DurationNotation.rounded(.milliseconds(591)) == "591 ms")
        #expect(DurationNotation.rounded(.seconds(4.183928)) == "4 s")
        #expect(DurationNotation.rounded(.seconds(59.6)) == "60 s")
        #expect(DurationNotation.rounded(.seconds(150)) == "3 min")
    }
}

/// systemd's STATUS= line and what makes a new one worth sending.
@Suite struct StatusLineTests {
    @Test func backlogBandsByDecade() {
        #expect([0, 1, 99, 100, 999, 1000, 123_456].map { StatusLine.band($0) } == [0, 1, 1, 2, 2, 3, 5])
    }

    @Test func exactBacklogIsShownButOnlyItsBandIsNews() {
        let a = StatusLine(devicesOK: 2, devicesTotal: 2, backlog: 12, broker: "connected to mqtt://b:1883", drops: 0, stalled: [])
        let b = StatusLine(devicesOK: 2, devicesTotal: 2, backlog: 57, broker: "connected to mqtt://b:1883", drops: 0, stalled: [])
        let c = StatusLine(devicesOK: 2, devicesTotal: 2, backlog: 120, broker: "connected to mqtt://b:1883", drops: 0, stalled: [])
        #expect(a.text == "2/2 devices answering, backlog 12, broker connected to mqtt://b:1883")
        #expect(a.key == b.key && a.key != c.key)
        let stalled = StatusLine(devicesOK: 1, devicesTotal: 2, backlog: 0, broker: "connected to mqtt://b:1883", drops: 3, stalled: ["bus:lan"])
        #expect(stalled.text == "1/2 devices answering, backlog 0, broker connected to mqtt://b:1883, 3 dropped; STALLED: bus:lan")
    }
}
