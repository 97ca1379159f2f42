import SitegateCore
import Testing

@Suite struct PublisherStateMachineTests {
    @Test func aNewSessionAnnouncesThenDrainsTheBacklogAsBackfill() {
        var d = PublisherDriver(window: 10, backlog: 3)
        d.send(.connecting(node: 0))
        d.connect()
        #expect(d.actions.contains(.announce(.online)))
        #expect(d.reports.contains(.sessionStarted(node: 0, backlogBelow: 4)))
        #expect(d.seqs == [1, 2, 3])
        #expect(d.published.allSatisfy { $0.backfill })
        #expect(d.fetches.first == .live(after: 3, limit: 10))
    }

    @Test func livePollsGoOutBeforeTheBacklog() {
        var d = PublisherDriver(window: 3, backlog: 5)
        d.connect()
        #expect(d.seqs == [1, 2, 3])
        d.commit()
        d.commit()
        d.send(.newData)  // the window is full: nothing more
        #expect(d.seqs == [1, 2, 3])
        for seq: Int64 in [1, 2, 3, 6, 7] { d.ack(seq: seq) }
        #expect(d.seqs == [1, 2, 3, 6, 7, 4, 5])
        #expect(d.published.map(\.backfill) == [true, true, true, false, false, true, true])
    }

    @Test func theWindowRefillsInChunksOfAQuarter() {
        var d = PublisherDriver(window: 8, backlog: 20)
        d.connect()
        #expect(d.seqs.count == 8)
        let fetchesBefore = d.fetches.count
        d.ack(seq: 1)
        #expect(d.seqs.count == 8 && d.fetches.count == fetchesBefore, "one free slot of 8 reads nothing")
        d.ack(seq: 2)
        #expect(d.seqs == Array(1...10))
        #expect(d.machine.inflightCount == 8)
    }

    @Test(arguments: [false, true])
    func anAckBeforeOrAfterItsIdCompletesThePoll(early: Bool) {
        var d = PublisherDriver(window: 4, backlog: 1)
        if early { d.ackEarly = [1] }
        d.connect()
        if !early { d.ack(seq: 1) }
        #expect(d.machine.inflightCount == 0)
        #expect(d.actions.contains(.recordLatency(committedAt: [UnixTime(seconds: 10)])))
        d.send(.flushTick)
        #expect(d.deleted == [1])
        #expect(d.outbox.isEmpty)
        #expect(d.idle == true)
    }

    @Test func aBatchOfAcksIsOnePassWithEveryLatencyAndEverySeq() {
        var d = PublisherDriver(window: 8, backlog: 5)
        d.connect()
        #expect(d.published.map(\.seq) == [1, 2, 3, 4, 5])
        d.machine.registerOther(mid: 50)
        let mids = d.published.map(\.mid)
        // A status message's ack and an unknown mid in the middle of the burst are skipped, not taken for polls.
        d.send(.acknowledged(mids: [mids[0], mids[1], 50, mids[2], 999, mids[3], mids[4]]))
        #expect(d.machine.inflightCount == 0)
        let latencies = d.actions.compactMap { if case .recordLatency(let c) = $0 { c } else { nil } }
        #expect(latencies == [Array(repeating: UnixTime(seconds: 10), count: 5)])
        #expect(d.actions.filter { $0 == .pollAcknowledged }.count == 1)
        d.send(.flushTick)
        #expect(d.deleted == [1, 2, 3, 4, 5])
        #expect(d.idle == true)
    }

    @Test func aBatchOfOnlyOtherAcksIsNoPollProgress() {
        var d = PublisherDriver(window: 4)
        d.connect()
        d.machine.registerOther(mid: 50)
        d.machine.registerOther(mid: 51)
        d.send(.acknowledged(mids: [50, 51]))
        #expect(!d.actions.contains(.pollAcknowledged))
        #expect(!d.actions.contains { if case .recordLatency = $0 { true } else { false } })
    }

    @Test func statusAndMetaAcksAreNotTakenForPolls() {
        var d = PublisherDriver(window: 4)
        d.connect()
        d.machine.registerOther(mid: 50)
        d.send(.acknowledged(mids: [50]))
        d.commit()
        d.send(.newData)
        #expect(d.published.map(\.mid) == [1])
        #expect(!d.actions.contains(.pollAcknowledged))
    }

    @Test func afterFailoverTheClientResendsInFlightPollsAndTheBacklogSkipsThem() {
        var d = PublisherDriver(window: 4, backlog: 6)
        d.send(.connecting(node: 0))
        d.connect()
        #expect(d.seqs == [1, 2, 3, 4])
        d.send(.disconnected(code: 7))
        #expect(d.reports.contains(.sessionLost(node: 0, code: 7, inflight: 4)))
        #expect(d.idle == true, "an outage is not a hang")
        d.send(.connecting(node: 1))
        #expect(d.reports.last == .trying(node: 1, after: 0))
        d.connect()
        // 1...4 are still in flight (libmosquitto re-sends them itself): only 5 and 6 are new; the window is full.
        #expect(d.seqs == [1, 2, 3, 4])
        // The acks of the earlier session's messages still count.
        d.ack(seq: 1)
        d.ack(seq: 2)
        #expect(d.seqs == [1, 2, 3, 4, 5, 6])
        d.send(.flushTick)
        #expect(d.deleted == [1, 2])
    }

    @Test func aRefusedMessageIsLoggedOnceAndOfferedAgainNextSession() {
        var d = PublisherDriver(window: 4, backlog: 3)
        d.connect()
        d.send(.messageRefused(mid: 1, reasonCode: 0x87))
        d.send(.messageRefused(mid: 2, reasonCode: 0x87))
        let refusals = d.reports.filter { report in
            guard case .messageRefused = report else { return false }
            return true
        }
        #expect(refusals == [.messageRefused(seq: 1, reasonCode: 0x87)])
        #expect(d.seqs == [1, 2, 3], "not again in this session")
        d.ack(seq: 3)
        d.send(.flushTick)
        #expect(d.deleted == [3])
        d.send(.disconnected(code: 7))
        d.connect()
        #expect(d.seqs == [1, 2, 3, 1, 2])
    }

    @Test func theDrainWaitsForEveryPuback() {
        var d = PublisherDriver(window: 4, backlog: 6)
        d.connect()
        d.send(.stopRequested)
        d.send(.flushTick)
        d.commit()
        d.send(.newData)
        d.ack(seq: 1)
        #expect(!d.finished)
        #expect(d.seqs == [1, 2, 3, 4], "nothing new is published while draining")
        for seq: Int64 in [2, 3] { d.ack(seq: seq) }
        #expect(!d.finished)
        d.ack(seq: 4)
        #expect(d.finished)
        #expect(d.deleted == [1, 2, 3, 4])
    }

    @Test func aDisconnectDuringTheDrainEndsIt() {
        var d = PublisherDriver(window: 4, backlog: 6)
        d.connect()
        d.ack(seq: 1)
        d.send(.stopRequested)
        d.send(.disconnected(code: 7))
        #expect(d.finished)
        #expect(d.deleted == [1], "what was acknowledged is deleted before the end")
    }

    @Test func aStopWithNothingInFlightFinishesAtTheNextEvent() {
        var d = PublisherDriver(window: 4)
        d.send(.stopRequested)
        #expect(!d.finished)
        d.send(.flushTick)
        #expect(d.finished)
    }

    @Test func connectionProblemsAreReportedOncePerOutage() {
        var d = PublisherDriver(window: 4)
        d.send(.connecting(node: 0))
        d.send(.libraryLog(message: "TLS error"))
        d.send(.connectFailed(reason: "refused", retryIn: .zero))
        d.send(.connecting(node: 1))
        d.send(.closedWithoutAnswer(retryIn: .seconds(1)))
        d.send(.connecting(node: 0))
        d.send(.libraryLog(message: "TLS error"))
        d.send(.connectFailed(reason: "refused", retryIn: .zero))
        d.send(.connecting(node: 1))
        d.send(.connectionRefused(code: 5))
        d.send(.connectionRefused(code: 5))
        #expect(
            d.reports == [
                .trying(node: 0, after: nil),
                .libraryError(node: 0, message: "TLS error", firstTime: true, whileDown: true),
                .connectFailed(node: 0, reason: "refused", retryIn: .zero, detail: "TLS error", firstTime: true),
                .trying(node: 1, after: 0),
                .closedWithoutAnswer(node: 1, retryIn: .seconds(1), firstTime: true),
                .trying(node: 0, after: 1),
                .libraryError(node: 0, message: "TLS error", firstTime: false, whileDown: true),
                .connectFailed(node: 0, reason: "refused", retryIn: .zero, detail: "TLS error", firstTime: false),
                .trying(node: 1, after: nil),
                .connectionRefused(node: 1, code: 5, firstTime: true),
                .connectionRefused(node: 1, code: 5, firstTime: false),
            ])
        // An accepted session starts a new outage count.
        d.connect()
        d.send(.disconnected(code: 7))
        d.send(.connectFailed(reason: "refused", retryIn: .zero))
        #expect(d.reports.last == .connectFailed(node: 1, reason: "refused", retryIn: .zero, detail: "refused", firstTime: true))
    }

    @Test func aPublishTheClientRefusesIsRetriedLater() {
        var d = PublisherDriver(window: 4, backlog: 2)
        d.failPublishes = true
        d.connect()
        #expect(d.seqs.isEmpty)
        #expect(d.idle == false, "work in hand while connected")
        d.failPublishes = false
        d.send(.flushTick)
        #expect(d.seqs == [1, 2])
    }

    @Test func manyAcksAreDeletedWithoutWaitingForTheTick() {
        let n = PublisherStateMachine.deleteBatch
        var d = PublisherDriver(window: n, backlog: n)
        d.connect()
        for seq in 1...Int64(n) { d.ack(seq: seq) }
        #expect(d.deleted.count == n)
    }

    @Test func aFailedDeleteIsRetriedAtTheNextTick() {
        var d = PublisherDriver(window: 4, backlog: 2)
        d.connect()
        d.ack(seq: 1)
        d.ack(seq: 2)
        #expect(d.deleted == [1, 2], "nothing left in flight: handed over at once")
        var m = d.machine
        _ = m.handle(.deleteFailed([1, 2]))
        #expect(m.wantsFlushTick, "the failed delete waits for a tick")
        #expect(m.handle(.flushTick).contains(.deleteAcknowledged([1, 2])))
    }

    @Test func aReloadAnnouncesOnlyToAConnectedBroker() {
        var d = PublisherDriver(window: 4)
        d.send(.reloaded)
        d.send(.healthTick)
        #expect(!d.actions.contains(.announce(.changed)) && !d.actions.contains(.announce(.health)))
        d.connect()
        d.send(.reloaded)
        d.send(.healthTick)
        #expect(d.actions.contains(.announce(.changed)) && d.actions.contains(.announce(.health)))
    }

    /// The executor arms a flush tick only while the machine wants one: an idle publisher between cycles asks for
    /// none, acknowledgements waiting or a fill to retry do.
    @Test func aTickIsWantedOnlyWhileItHasWorkToDo() {
        var d = PublisherDriver(window: 4)
        #expect(!d.machine.wantsFlushTick, "not connected, nothing acknowledged")
        d.connect()
        #expect(!d.machine.wantsFlushTick, "connected, the outbox read empty: idle")
        d.commit()
        d.commit()
        d.send(.newData)
        #expect(d.seqs == [1, 2] && !d.machine.wantsFlushTick, "published, awaiting PUBACKs: the acks will wake it")
        d.ack(seq: 1)
        #expect(d.machine.wantsFlushTick, "an acknowledgement waits to be deleted")
        d.ack(seq: 2)
        #expect(d.deleted == [1, 2] && !d.machine.wantsFlushTick, "the burst's last PUBACK: deleted at once, idle again")
        d.send(.flushTick)
        #expect(d.deleted == [1, 2])

        // A client that will not take a publish: the fill is retried at a tick, so one is wanted.
        var e = PublisherDriver(window: 4)
        e.connect()
        e.failPublishes = true
        e.commit()
        e.send(.newData)
        #expect(e.seqs.isEmpty && e.machine.wantsFlushTick)
        e.failPublishes = false
        e.send(.flushTick)
        #expect(e.seqs == [1])
        e.send(.disconnected(code: 7))
        #expect(!e.machine.wantsFlushTick, "nothing to do without a broker")

        // Polls that fill the window exactly (the outbox may hold more): their PUBACKs refill it, no tick needed.
        var f = PublisherDriver(window: 2)
        f.connect()
        f.commit()
        f.commit()
        f.send(.newData)
        #expect(f.seqs == [1, 2] && !f.machine.wantsFlushTick, "a full window: the acks will refill it")
        f.commit()
        f.send(.newData)
        #expect(f.seqs == [1, 2] && !f.machine.wantsFlushTick, "new data behind a full window waits for an ack")
        f.ack(seq: 1)
        #expect(f.seqs == [1, 2, 3], "the PUBACK made room and the waiting poll went out")
        f.ack(seq: 2)
        f.ack(seq: 3)
        #expect(f.deleted == [1, 2, 3] && !f.machine.wantsFlushTick, "all acknowledged, the outbox read empty: idle")
    }
}
