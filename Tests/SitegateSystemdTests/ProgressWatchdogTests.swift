import SitegateSystemd
import Testing

/// A clock reading the test sets by hand: seconds since the test began.
struct TestInstant: InstantProtocol {
    var offset: Duration
    static func seconds(_ s: Int) -> TestInstant { TestInstant(offset: .seconds(s)) }
    func advanced(by duration: Duration) -> TestInstant { TestInstant(offset: offset + duration) }
    func duration(to other: TestInstant) -> Duration { other.offset - offset }
    static func < (a: TestInstant, b: TestInstant) -> Bool { a.offset < b.offset }
}

@Suite struct ProgressWatchdogTests {
    typealias Watchdog = ProgressWatchdog<TestInstant>
    static func at(_ s: Int) -> TestInstant { .seconds(s) }

    @Test func withNothingRegisteredLivenessIsEnough() {
        #expect(Watchdog().shouldPing(now: Self.at(1_000_000)))
    }

    @Test func aPollerMustReportWithinItsAllowance() {
        var w = Watchdog()
        w.register("bus:plant-lan", allowance: .seconds(21), now: Self.at(0))
        #expect(w.shouldPing(now: Self.at(21)), "exactly the allowance is still in time")
        #expect(!w.shouldPing(now: Self.at(22)))
        #expect(
            w.stalls(now: Self.at(22)) == [
                .init(component: "bus:plant-lan", silentFor: .seconds(22), allowance: .seconds(21))
            ])
        w.progressed("bus:plant-lan", now: Self.at(22))
        #expect(w.shouldPing(now: Self.at(30)))
        #expect(!w.shouldPing(now: Self.at(44)))
    }

    @Test func oneStalledComponentWithholdsThePingForAll() {
        var w = Watchdog()
        w.register("bus:a", allowance: .seconds(10), now: Self.at(0))
        w.register("bus:b", allowance: .seconds(10), now: Self.at(0))
        w.register("publisher", allowance: .seconds(90), now: Self.at(0), idle: true)
        for t in stride(from: 5, through: 60, by: 5) {
            w.progressed("bus:a", now: Self.at(t))
        }
        #expect(!w.shouldPing(now: Self.at(60)))
        #expect(w.stalls(now: Self.at(60)).map(\.component) == ["bus:b"])
        #expect(w.stalls(now: Self.at(60)).first?.description == "bus:b silent for 60.0 seconds (allowed 10.0 seconds)")
        w.unregister("bus:b")
        #expect(w.shouldPing(now: Self.at(60)))
        #expect(w.registered == ["bus:a", "publisher"])
    }

    @Test func reportsOutOfOrderNeverMoveTimeBack() {
        var w = Watchdog()
        w.register("bus:a", allowance: .seconds(10), now: Self.at(0))
        w.progressed("bus:a", now: Self.at(50))
        w.progressed("bus:a", now: Self.at(45))  // a thread that read the clock earlier reports later
        #expect(w.shouldPing(now: Self.at(60)))
    }

    @Test func reportsFromUnknownComponentsAreIgnored() {
        var w = Watchdog()
        w.progressed("bus:gone", now: Self.at(5))
        w.setIdle("bus:gone", false, now: Self.at(5))
        #expect(w.registered.isEmpty)
        #expect(w.shouldPing(now: Self.at(1000)))
    }

    @Test func anIdlePublisherOwesNothing() {
        var w = Watchdog()
        w.register("publisher", allowance: .seconds(90), now: Self.at(0), idle: true)
        #expect(w.shouldPing(now: Self.at(86_400)), "a day without anything to send")
    }

    @Test func aBusyPublisherCountsFromWhenItTurnedBusy() {
        var w = Watchdog()
        w.register("publisher", allowance: .seconds(90), now: Self.at(0), idle: true)
        w.progressed("publisher", now: Self.at(10))  // last ack long ago
        w.setIdle("publisher", false, now: Self.at(10_000))  // a backlog appears, broker connected
        #expect(w.shouldPing(now: Self.at(10_090)))
        #expect(!w.shouldPing(now: Self.at(10_091)))
        w.progressed("publisher", now: Self.at(10_095))  // an ack
        #expect(w.shouldPing(now: Self.at(10_100)))
    }

    @Test func aBrokerOutageIsNotAHang() {
        var w = Watchdog()
        w.register("publisher", allowance: .seconds(90), now: Self.at(0))
        w.setIdle("publisher", true, now: Self.at(30))  // disconnected: backlog grows, nothing can be acked
        #expect(w.shouldPing(now: Self.at(7200)))
        w.setIdle("publisher", false, now: Self.at(7200))  // reconnected with a backlog
        #expect(w.shouldPing(now: Self.at(7250)))
        #expect(!w.shouldPing(now: Self.at(7291)), "connected, backlog, no ack for longer than allowed")
    }

    @Test func repeatedBusyReportsDoNotRestartTheClock() {
        var w = Watchdog()
        w.register("publisher", allowance: .seconds(90), now: Self.at(0), idle: true)
        w.setIdle("publisher", false, now: Self.at(100))
        w.setIdle("publisher", false, now: Self.at(150))  // still busy: the publisher reports after every input
        #expect(!w.shouldPing(now: Self.at(191)))
    }

    enum PublisherEvent: String, CaseIterable, Sendable { case ack, busy, idle }

    /// Every order of ack, busy and idle at t = 10, 20, 30: the verdict at the end follows from the last state.
    @Test(arguments: [
        [PublisherEvent.ack, .busy, .idle], [.ack, .idle, .busy], [.busy, .ack, .idle], [.busy, .idle, .ack],
        [.idle, .ack, .busy], [.idle, .busy, .ack],
    ])
    func publisherEventsInEveryOrder(_ order: [PublisherEvent]) {
        var w = Watchdog()
        w.register("publisher", allowance: .seconds(90), now: Self.at(0), idle: true)
        for (index, event) in order.enumerated() {
            let t = Self.at(10 * (index + 1))
            switch event {
            case .ack: w.progressed("publisher", now: t)
            case .busy: w.setIdle("publisher", false, now: t)
            case .idle: w.setIdle("publisher", true, now: t)
            }
        }
        let busyAtEnd = order.lastIndex(of: .busy)! > order.lastIndex(of: .idle)!
        #expect(w.shouldPing(now: Self.at(100)), "within 90 s of the last event")
        #expect(w.shouldPing(now: Self.at(1000)) == !busyAtEnd)
    }

    @Test func allowances() {
        #expect(WatchdogAllowance.poller(longestInterval: .seconds(10), responseTimeout: .seconds(1)) == .seconds(21))
        #expect(
            WatchdogAllowance.poller(longestInterval: .seconds(900), responseTimeout: .milliseconds(500))
                == .milliseconds(1_800_500))
        // Ten silent meters of three reads each, 1 s timeout: one cycle can take 30 s.
        #expect(
            WatchdogAllowance.poller(
                longestInterval: .seconds(10), responseTimeout: .seconds(1), transactionsPerCycle: 30)
                == .seconds(50))
        #expect(
            WatchdogAllowance.poller(
                longestInterval: .seconds(10), responseTimeout: .seconds(1), transactionsPerCycle: 0)
                == .seconds(21))
        #expect(WatchdogAllowance.publisher(keepalive: .seconds(30)) == .seconds(90))
    }

    @Test func worksWithContinuousClock() {
        var w = ProgressWatchdog<ContinuousClock.Instant>()
        let t0 = ContinuousClock.now
        w.register("bus:a", allowance: .seconds(5), now: t0)
        #expect(w.shouldPing(now: t0 + .seconds(5)))
        #expect(!w.shouldPing(now: t0 + .seconds(6)))
    }
}
