/// The publisher's policy: which polls go to the broker when, and when the drain at shutdown is over. Events in,
/// actions out; no I/O (the `Publisher` service executes the actions).
///
/// Live polls (committed during the current broker session) go out first, in seq order; the backlog (what waited
/// out an outage or a restart) drains in seq order behind them. Pacing is the in-flight window: at
/// most `window` polls await their PUBACK at a time. Polls in flight when the connection drops are re-sent by the
/// MQTT client after it reconnects with the same message id, so a new session skips them in the backlog.
/// Acknowledged polls are deleted in batches (when nothing is left in flight, at a flush tick, or 512 waiting); the
/// tick runs only while `wantsFlushTick`.
public struct PublisherStateMachine: Sendable {
    public let window: Int
    var ledger = PublishLedger()
    public private(set) var connected = false
    var draining = false
    var sessionStart = UnixTime(nanoseconds: .max)
    /// Polls with a seq at or above this were committed during the current session.
    var liveFrom: Int64 = .max
    var liveCursor: Int64 = 0
    var backlogCursor: Int64 = 0
    var backlogDone = false
    var acked: [Int64] = []
    /// The outbox may hold polls not handed over yet (set by new commits and a new session).
    var dirty = true
    /// Connection problems logged since the last accepted session: each is logged once per outage.
    var loggedProblems: Set<String> = []
    /// The node being tried or in use (an index into the broker list).
    var node: Int?
    /// The library's last error line while not connected: more specific than the failure event that follows it.
    var lastLibraryError: String?
    var refusalLogged = false
    /// When each in-flight poll was committed, for the latency histogram.
    var committedAt: [Int64: UnixTime] = [:]
    /// The fill in progress, between its `.fetch`/`.publish` actions and their results.
    var fill: Fill?

    /// Acknowledged polls waiting for deletion beyond this are deleted at once, without waiting for a flush tick.
    public static let deleteBatch = 512

    public init(window: Int) {
        self.window = max(1, window)
    }

    /// Polls handed to the client that await their PUBACK.
    public var inflightCount: Int { ledger.inflightCount }

    /// Whether a `.flushTick` would do anything: delete acknowledged polls, or retry a fill that may find something
    /// (a failed read, a window that was full). An idle publisher needs no tick, and its executor sets none.
    /// While polls are in flight a fill needs no tick either: their PUBACKs refill the window (the last one at the
    /// latest), so a window that a cycle's polls filled exactly costs no wake-up a cycle.
    public var wantsFlushTick: Bool {
        !acked.isEmpty || (connected && !draining && (dirty || !backlogDone) && ledger.inflightCount == 0)
    }

    /// A status, meta or health message went out as `mid`: its ack must never be taken for a poll's.
    public mutating func registerOther(mid: Int32) {
        ledger.registerOther(mid: mid)
    }

    public mutating func handle(_ event: Event) -> [Action] {
        var actions: [Action] = []
        var mayFill = false
        switch event {
        case .fetched, .fetchFailed, .published, .publishFailed:
            return continueFill(after: event)
        case .deleteFailed(let seqs):
            acked = seqs + acked
            return []
        case .stopRequested:
            draining = true
            return []
        case .connecting(let node):
            // Once per node and outage: while every node is down the client cycles through them all.
            var after: Int?
            if let previous = self.node, previous != node, firstTime("switch|\(node)") { after = previous }
            self.node = node
            actions.append(.report(.trying(node: node, after: after)))
        case .connectionRefused(let code):
            let node = self.node ?? 0
            let once = firstTime("refused|\(node)|\(code)")
            return [.report(.connectionRefused(node: node, code: code, firstTime: once))] + finishIfDrained()
        case .connected(let lastSeq, let now):
            actions += startSession(lastSeq: lastSeq, at: now)
            mayFill = true
        case .disconnected(let code):
            // Only the end of an accepted session is news; an attempt that never got its CONNACK is reported by
            // .closedWithoutAnswer or the refusal.
            if connected {
                actions.append(.report(.sessionLost(node: node ?? 0, code: code, inflight: ledger.inflightCount)))
            }
            connected = false
        case .connectFailed(let reason, let wait):
            let node = self.node ?? 0
            let once = firstTime("failed|\(node)|\(reason)")
            actions.append(
                .report(
                    .connectFailed(
                        node: node, reason: reason, retryIn: wait, detail: lastLibraryError ?? reason, firstTime: once)))
            lastLibraryError = nil
        case .closedWithoutAnswer(let wait):
            let node = self.node ?? 0
            actions.append(.report(.closedWithoutAnswer(node: node, retryIn: wait, firstTime: firstTime("closed|\(node)"))))
            lastLibraryError = nil
        case .libraryLog(let message):
            let node = self.node ?? 0
            let once = firstTime("log|\(node)|\(message)")
            actions.append(.report(.libraryError(node: node, message: message, firstTime: once, whileDown: !connected)))
            if !connected { lastLibraryError = message }
        case .acknowledged(let mids):
            var latencies: [UnixTime] = []
            var polls = false
            for mid in mids {
                guard let seq = ledger.acknowledge(mid: mid) else { continue }
                acked.append(seq)
                polls = true
                if let committed = committedAt.removeValue(forKey: seq) { latencies.append(committed) }
            }
            if !latencies.isEmpty { actions.append(.recordLatency(committedAt: latencies)) }
            if polls { actions.append(.pollAcknowledged) }
            // Refill in chunks rather than one query per ack.
            mayFill = window - ledger.inflightCount >= max(1, window / 4)
        case .messageRefused(let mid, let reasonCode):
            // MQTT 5: the broker would not take the message (an ACL, a quota). It stays buffered and is offered
            // again in the next session.
            if let seq = ledger.refuse(mid: mid) {
                committedAt[seq] = nil
                if !refusalLogged {
                    refusalLogged = true
                    actions.append(.report(.messageRefused(seq: seq, reasonCode: reasonCode)))
                }
            }
            mayFill = true
        case .reloaded:
            if connected { actions.append(.announce(.changed)) }
        case .healthTick:
            // Buffer statistics scan the outbox: only when there is a broker to tell.
            if connected { actions.append(.announce(.health)) }
        case .newData:
            dirty = true
            mayFill = true
        case .flushTick:
            actions += takeAcknowledged()
            // Idle ticks read nothing: only when the outbox may hold something not yet handed over.
            mayFill = dirty || !backlogDone
        }
        // Deleted in batches: at a tick, when many wait, or when the last PUBACK of a burst came (nothing is in
        // flight: waiting for a tick would only cost a wake-up).
        if acked.count >= Self.deleteBatch || (ledger.inflightCount == 0 && fill == nil) {
            actions += takeAcknowledged()
        }
        // An event between a fill's action and its result (the executor never sends one): that fill settles.
        if fill != nil { return actions }
        if mayFill && connected && !draining {
            actions += startFill()
        } else {
            actions += settle()
        }
        return actions
    }

    /// A new broker session: what is in the outbox now is backlog; what is committed from now on is live.
    private mutating func startSession(lastSeq: Int64, at now: UnixTime) -> [Action] {
        connected = true
        loggedProblems.removeAll()
        lastLibraryError = nil
        sessionStart = now
        liveFrom = lastSeq + 1
        liveCursor = lastSeq
        dirty = true
        // Rescan the backlog from the start: polls the broker refused last session are offered again.
        backlogCursor = 0
        backlogDone = false
        refusalLogged = false
        return [.report(.sessionStarted(node: node ?? 0, backlogBelow: liveFrom)), .announce(.online)]
    }

    /// Whether a connection problem is news in this outage (and remembers that it no longer is).
    private mutating func firstTime(_ key: String) -> Bool {
        loggedProblems.insert(key).inserted
    }

    /// A poll is acknowledged: its latency, when its commit time is known.
    mutating func done(_ seq: Int64) -> [Action] {
        guard let committed = committedAt.removeValue(forKey: seq) else { return [] }
        return [.recordLatency(committedAt: [committed])]
    }

    mutating func takeAcknowledged() -> [Action] {
        guard !acked.isEmpty else { return [] }
        defer { acked.removeAll(keepingCapacity: true) }
        return [.deleteAcknowledged(acked)]
    }

    /// The end of an event's work: the watchdog's view, and the end of a drain.
    mutating func settle() -> [Action] {
        let idle = !connected || (ledger.inflightCount == 0 && backlogDone && !dirty)
        return [.setWatchdogIdle(idle)] + finishIfDrained()
    }

    /// A drain is over when nothing is in flight, or when the broker is gone (libmosquitto keeps the rest).
    private mutating func finishIfDrained() -> [Action] {
        guard draining && (ledger.inflightCount == 0 || !connected) else { return [] }
        return takeAcknowledged() + [.finish]
    }
}
