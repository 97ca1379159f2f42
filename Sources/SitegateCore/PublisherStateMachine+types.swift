extension PublisherStateMachine {
    /// What happened: the broker connection's events, the run loop's ticks, and the results of the actions the
    /// executor was asked to perform (`fetched`, `published`, ...).
    public enum Event: Sendable, Hashable {
        /// The client is about to try node `node` of the broker list.
        case connecting(node: Int)
        /// The broker accepted a session; `lastSeq` is the outbox's newest seq at that moment.
        case connected(lastSeq: Int64, at: UnixTime)
        /// A CONNACK that refused the connection.
        case connectionRefused(code: Int32)
        case disconnected(code: Int32)
        case connectFailed(reason: String, retryIn: Duration)
        case closedWithoutAnswer(retryIn: Duration)
        /// An error line from the MQTT library (TLS and socket errors, repeated at every retry).
        case libraryLog(message: String)
        /// PUBACKs for `mids`: those read in one turn of the network loop, handled in one pass.
        case acknowledged(mids: [Int32])
        /// MQTT 5: the broker refused message `mid`.
        case messageRefused(mid: Int32, reasonCode: Int32)
        /// A poller committed new polls.
        case newData
        /// The periodic tick that bounds how long acknowledged polls wait to be deleted.
        case flushTick
        case healthTick
        /// A reload replaced the announcements (status, meta).
        case reloaded
        /// Graceful shutdown began: publish nothing new, finish when nothing is in flight or the broker is gone.
        case stopRequested
        /// The result of the last `.fetch`.
        case fetched([StoredMessage])
        case fetchFailed
        /// The last `.publish` was handed to the client as message `mid`.
        case published(mid: Int32)
        /// The client would not take the last `.publish` (it stays buffered).
        case publishFailed
        /// The last `.deleteAcknowledged` failed: those seqs are deleted later.
        case deleteFailed([Int64])
    }

    /// Which polls to read from the outbox next.
    public enum Fetch: Sendable, Hashable {
        /// Polls committed during this session, in seq order.
        case live(after: Int64, limit: Int)
        /// Polls that waited out an outage or a restart, in seq order, below the session's first live seq.
        case backlog(after: Int64, before: Int64, limit: Int)
    }

    /// Status, meta and health messages (not buffered).
    public enum Announcement: Sendable, Hashable {
        /// status online and every device's meta, retained.
        case online
        /// The devices changed: removed devices' meta cleared, status and meta published again.
        case changed
        case health
    }

    /// Broker news for the log, health and counters. `firstTime` is false for a problem already logged in this
    /// outage (the client retries every few seconds): count it, do not log it again.
    public enum Report: Sendable, Hashable {
        /// Trying `node`; `after` is the node that failed before, when this switch is news.
        case trying(node: Int, after: Int?)
        case sessionStarted(node: Int, backlogBelow: Int64)
        case sessionLost(node: Int, code: Int32, inflight: Int)
        case connectionRefused(node: Int, code: Int32, firstTime: Bool)
        /// `detail` is the library's last error line when there was one (more specific than `reason`).
        case connectFailed(node: Int, reason: String, retryIn: Duration, detail: String, firstTime: Bool)
        case closedWithoutAnswer(node: Int, retryIn: Duration, firstTime: Bool)
        /// `whileDown`: the line describes why the broker is not connected.
        case libraryError(node: Int, message: String, firstTime: Bool, whileDown: Bool)
        /// The first data message the broker refused in this session.
        case messageRefused(seq: Int64, reasonCode: Int32)
    }

    /// What the executor does, in order. A `.fetch` or `.publish` is answered with its result event; the actions
    /// that event returns come before any later action.
    public enum Action: Sendable, Hashable {
        case fetch(Fetch)
        /// `backlog`: committed before the current broker session (it waited out an outage or a restart). Not in the
        /// payload (the bytes are sealed at commit); counted for health.
        case publish(StoredMessage, backlog: Bool)
        case deleteAcknowledged([Int64])
        case announce(Announcement)
        case report(Report)
        /// A PUBACK for a poll arrived: progress for the watchdog.
        case pollAcknowledged
        /// Polls committed at `committedAt` are done: commit-to-PUBACK latencies for the histogram.
        case recordLatency(committedAt: [UnixTime])
        /// Whether the publisher owes progress to the watchdog (it does only while connected with work in hand).
        case setWatchdogIdle(Bool)
        /// The drain is over: stop the run loop.
        case finish
    }
}
