import SitegateCore
import Testing

/// The run-time bus figures: totals since start, utilisation and missed ticks over the last complete minute.
@Suite struct BusActivityTests {
    let t0 = UnixTime(seconds: 1_700_000_000)

    @Test func utilisationIsBusyTimeOverWallTimeBeforeTheFirstWindowCloses() {
        var a = BusActivity(start: t0)
        // 10 cycles of 200 ms, one a second, 4 transactions each.
        for i in 0..<10 {
            let start = t0 + .seconds(i)
            a.recordCycle(start: start, end: start + .milliseconds(200), transactions: 4, timeouts: 0)
        }
        let f = a.figures(at: t0 + .seconds(10))
        #expect(f.transactions == 40)
        #expect(abs(f.utilisation - 0.2) < 1e-9)
        #expect(abs((f.transactionMilliseconds ?? 0) - 50) < 1e-9)
        #expect(!f.overloaded)
        #expect(f.advice == nil)
    }

    @Test func missedTicksMakeABusOverloadedWithAdviceUntilAQuietMinutePasses() {
        var a = BusActivity(start: t0)
        a.recordCycle(start: t0, end: t0 + .milliseconds(1500), transactions: 3, timeouts: 2)
        a.recordMissedTicks(1, at: t0 + .milliseconds(1500))
        let busy = a.figures(at: t0 + .seconds(30))
        #expect(busy.overloaded)
        #expect(busy.missedTicks == 1 && busy.recentMissedTicks == 1 && busy.timeouts == 2)
        #expect(busy.advice?.contains("split the bus or lengthen intervals") == true)
        #expect(busy.advice?.contains("2 timeouts") == true)
        // Still counted in the first complete window, then forgotten by the recent figures, never by the totals.
        #expect(a.figures(at: t0 + .seconds(90)).recentMissedTicks == 1)
        let later = a.figures(at: t0 + .seconds(150))
        #expect(!later.overloaded)
        #expect(later.missedTicks == 1 && later.recentMissedTicks == 0)
        #expect(later.transactionMilliseconds == nil)
    }

    @Test func aBusBusyNineTenthsOfTheTimeIsOverloaded() {
        var a = BusActivity(start: t0, window: .seconds(10))
        for i in 0..<20 {
            let start = t0 + .seconds(i)
            a.recordCycle(start: start, end: start + .milliseconds(950), transactions: 1, timeouts: 0)
        }
        let f = a.figures(at: t0 + .milliseconds(20_500))
        #expect(abs(f.utilisation - 0.95) < 1e-9)
        #expect(f.overloaded)
        #expect(abs(f.busySeconds - 19) < 1e-9)
    }
}
