import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateCore
import SitegateMQTT
import SitegateSystemd
import SitegateThreads

/// Moves polls from the outbox to the broker at QoS 1 and deletes each only after its PUBACK.
///
/// Live polls (committed during the current broker session) go out first, in sequence order; the backlog (what
/// waited out an outage or a restart) drains in sequence order behind them, marked backfill. Pacing is the in-flight
/// window: at most `window` messages await their PUBACK at a time, with no fixed rate. Messages in flight when the
/// connection drops are re-sent by libmosquitto after it reconnects, with the same message id and sequence number
/// (at-least-once).
public final class Publisher: Service {
    enum Input: Sendable {
        case mqtt(MQTTEvent)
        case newData
        case flush
        case health
        case reload(Announcements)
    }

    /// Where the publisher stands in the outbox. Only the run loop touches it.
    struct Cursor {
        var ledger = PublishLedger()
        var connected = false
        var sessionStart = UnixTime(nanoseconds: .max)
        /// Polls with a seq at or above this were committed during the current session.
        var liveFrom: Int64 = .max
        var liveCursor: Int64 = 0
        var backlogCursor: Int64 = 0
        var backlogDone = false
        var acked: [Int64] = []
        /// The database may hold polls not handed over yet (set by new commits and a new session).
        var dirty = true
        /// Connection problems logged since the last accepted session: each is logged once per outage.
        var loggedProblems: Set<String> = []
        /// The node being tried or in use (an index into `brokers.urls`).
        var node: Int?
        /// libmosquitto's last error line (OpenSSL's reason, say) while not connected: more specific than the
        /// failure event that follows it.
        var lastLibraryError: String?
        var refusalLogged = false
        /// When each in-flight poll was committed, for the publish-latency histogram.
        var committedAt: [Int64: UnixTime] = [:]
    }

    let client: MQTTClient
    let outbox: Outbox
    let topics: TopicLayout
    let encoder: SenMLEncoder
    let window: Int
    let logger: Logger
    let clock: any WallClock
    let health: HealthBoard
    let brokers: BrokerEndpoints
    private let watchdogBox = LockedValue<LockedValue<ProgressWatchdog<ContinuousClock.Instant>>?>(nil)
    var watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>> {
        watchdogBox.withLock { $0 } ?? Self.noWatchdog
    }
    private static let noWatchdog = LockedValue(ProgressWatchdog<ContinuousClock.Instant>())
    /// Replaced on a reload (devices added or removed); read and written by the run loop only.
    private let announcementBox: LockedValue<Announcements>
    var announcements: Announcements { announcementBox.withLock { $0 } }
    private let inputs: AsyncStream<Input>
    private let inputContinuation: AsyncStream<Input>.Continuation
    private let draining = LockedFlag()

    init(
        client: MQTTClient, outbox: Outbox, topics: TopicLayout, encoder: SenMLEncoder, window: Int,
        health: HealthBoard, brokers: BrokerEndpoints, announcements: Announcements,
        clock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        self.brokers = brokers
        self.announcementBox = LockedValue(announcements)
        self.client = client
        self.outbox = outbox
        self.topics = topics
        self.encoder = encoder
        self.window = max(1, window)
        self.health = health
        self.clock = clock
        self.logger = logger
        (inputs, inputContinuation) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
    }

    /// Reports progress to the agent's watchdog from now on.
    func attach(watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>) {
        watchdogBox.withLock { $0 = watchdog }
    }

    /// A reload changed the devices: new meta messages, and the removed devices' retained meta cleared.
    func reload(_ announcements: Announcements) {
        inputContinuation.yield(.reload(announcements))
    }

    /// Called by pollers after a commit: there is something new to send. (Handing the polls over in memory
    /// instead was measured: no CPU saved, 2.4 MiB more resident memory at 100 meters; the database answers.)
    public func notifyNewData() {
        inputContinuation.yield(.newData)
    }

    public func run() async throws {
        var cursor = Cursor()
        client.start()
        defer { client.stop() }
        let client = self.client
        let continuation = inputContinuation
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                for await event in client.events { continuation.yield(.mqtt(event)) }
            }
            let healthInterval = self.announcements.healthInterval
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: healthInterval) } catch { return }
                    continuation.yield(.health)
                }
            }
            group.addTask {
                // Acks are deleted in batches; this tick bounds how long a batch waits.
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .milliseconds(100)) } catch { return }
                    continuation.yield(.flush)
                }
            }
            await withGracefulShutdownHandler {
                for await input in self.inputs {
                    await self.handle(input, &cursor)
                    if self.draining.value && (cursor.ledger.inflightCount == 0 || !cursor.connected) { break }
                }
                await self.deleteAcknowledged(&cursor)
                group.cancelAll()
            } onGracefulShutdown: {
                self.draining.set()
                self.inputContinuation.yield(.flush)
            }
            // A clean stop sends no last will: say offline ourselves.
            _ = try? client.publish(topic: self.announcements.topics.status, payload: self.announcements.offline, retain: true)
        }
    }

    private func handle(_ input: Input, _ c: inout Cursor) async {
        var mayFill = false
        switch input {
        case .mqtt(.connecting(let node)):
            // Once per node and outage: while every node is down the client cycles through them all.
            if let previous = c.node, previous != node {
                logOnce("switch|\(node)", &c) {
                    logger.notice("switching broker node: trying \(brokers.url(node)) after \(brokers.url(previous)) failed")
                }
            }
            c.node = node
            health.setBrokerNode(brokers.url(node))
        case .mqtt(.connected(let code)):
            guard code == 0 else {
                let reason = MQTTClient.connackReason(code)
                let url = brokers.url(c.node ?? 0)
                logOnce("refused|\(url)|\(code)", &c) {
                    logger.error("the broker refused the connection: \(reason)", metadata: ["mqtt.broker": "\(url)"])
                }
                health.counters.brokerFailed()
                health.setBroker(connected: false, detail: "refused: \(reason)")
                return
            }
            await startSession(&c)
            mayFill = true
        case .mqtt(.disconnected(let code)):
            // Only the end of an accepted session is news here; an attempt that never got its CONNACK is reported
            // by .closedWithoutAnswer or the refusal.
            if c.connected {
                health.counters.brokerLost()
                let reason = MQTTClient.disconnectReason(code)
                logger.warning(
                    "lost the broker connection: \(reason); readings stay buffered",
                    metadata: ["mqtt.broker": "\(brokers.url(c.node ?? 0))", "mqtt.inflight": "\(c.ledger.inflightCount)"])
                health.setBroker(connected: false, detail: reason)
            }
            c.connected = false
        case .mqtt(.connectFailed(let reason, let wait)):
            health.counters.brokerFailed()
            let node = c.node ?? 0
            let retry = brokers.retry(after: wait, next: (node + 1) % brokers.urls.count)
            logOnce("failed|\(node)|\(reason)", &c) {
                logger.warning(
                    "cannot reach the broker: \(reason); \(retry); readings stay buffered",
                    metadata: ["mqtt.broker": "\(brokers.url(node))"])
            }
            health.setBroker(connected: false, detail: c.lastLibraryError ?? reason)
            c.lastLibraryError = nil
        case .mqtt(.closedWithoutAnswer(let wait)):
            health.counters.brokerFailed()
            let node = c.node ?? 0
            let retry = brokers.retry(after: wait, next: (node + 1) % brokers.urls.count)
            logOnce("closed|\(node)", &c) {
                logger.error(
                    "the broker closed the connection without answering (no CONNACK): likely \(brokers.likelyCausesOfNoAnswer); \(retry); readings stay buffered",
                    metadata: ["mqtt.broker": "\(brokers.url(node))"])
            }
            health.setBroker(connected: false, detail: "closed without answering (no CONNACK)")
            c.lastLibraryError = nil
        case .mqtt(.acknowledged(let mid)):
            if let seq = c.ledger.acknowledge(mid: mid) {
                c.acked.append(seq)
                recordLatency(seq, &c)
                watchdog.withLock { $0.progressed("publisher", now: .now) }
                if health.firstTime("ack") {
                    logger.info("first poll acknowledged by the broker", metadata: ["startup.ms": "\(ProcessUptime.milliseconds() ?? -1)"])
                }
            }
            // Refill in chunks rather than one query per ack.
            mayFill = window - c.ledger.inflightCount >= max(1, window / 4)
        case .mqtt(.refused(let mid, let reasonCode)):
            // MQTT 5: the broker would not take the message (an ACL, a quota). It stays buffered and is offered
            // again in the next session.
            let refused = c.ledger.refuse(mid: mid)
            if let seq = refused { c.committedAt[seq] = nil }
            if let seq = refused, !c.refusalLogged {
                c.refusalLogged = true
                logger.error(
                    "the broker refused a data message: \(MQTTClient.reasonString(reasonCode)); it stays buffered (check the broker's ACL for this gateway's topics)",
                    metadata: ["mqtt.reason_code": "\(reasonCode)", "buffer.seq": "\(seq)"])
            }
            mayFill = true
        case .reload(let new):
            let old = announcements
            announcementBox.withLock { $0 = new }
            if c.connected {
                let kept = Set(new.metas.map(\.topic))
                for meta in old.metas where !kept.contains(meta.topic) {
                    publishOther(topic: meta.topic, payload: "", retain: true, &c)  // clears the retained message
                }
                publishOther(topic: new.topics.status, payload: new.online, retain: true, &c)
                for meta in new.metas { publishOther(topic: meta.topic, payload: meta.payload, retain: true, &c) }
            }
        case .health:
            // Buffer statistics scan the outbox: only when there is a broker to tell.
            if c.connected {
                let stats = try? await outbox.stats()
                publishOther(topic: announcements.topics.health, payload: announcements.health(health, buffer: stats, now: clock.now()), retain: false, &c)
            }
        case .mqtt(.message):
            break
        case .mqtt(.log(_, let message)):
            // TLS and socket errors arrive here, repeated at every retry: log each distinct one once per outage.
            let url = brokers.url(c.node ?? 0)
            logOnce("log|\(url)|\(message)", &c) {
                logger.error("broker connection: \(message)", metadata: ["mqtt.broker": "\(url)"])
            }
            if !c.connected {
                c.lastLibraryError = message
                health.setBroker(connected: false, detail: message)
            }
        case .newData:
            c.dirty = true
            mayFill = true
        case .flush:
            await deleteAcknowledged(&c)
            // Idle ticks read nothing: only when the database may hold something not yet handed over.
            mayFill = c.dirty || !c.backlogDone
        }
        if c.acked.count >= 512 { await deleteAcknowledged(&c) }
        if mayFill && c.connected && !draining.value { await fill(&c) }
        // The publisher owes progress only while connected with work in hand; an outage is not a hang.
        let idle = !c.connected || (c.ledger.inflightCount == 0 && c.backlogDone && !c.dirty)
        watchdog.withLock { $0.setIdle("publisher", idle, now: .now) }
    }

    /// A new broker session: what is in the outbox now is backlog; what is committed from now on is live.
    private func startSession(_ c: inout Cursor) async {
        c.connected = true
        c.loggedProblems.removeAll()
        c.lastLibraryError = nil
        c.sessionStart = clock.now()
        let lastSeq = (try? await outbox.stats().lastSeq) ?? 0
        c.liveFrom = lastSeq + 1
        c.liveCursor = lastSeq
        c.dirty = true
        // Rescan the backlog from the start: polls the broker refused last session are offered again.
        c.backlogCursor = 0
        c.backlogDone = false
        c.refusalLogged = false
        let url = brokers.url(c.node ?? 0)
        logger.info("connected to the broker", metadata: ["mqtt.broker": "\(url)", "mqtt.backlog_below_seq": "\(c.liveFrom)"])
        health.setBroker(connected: true, detail: "connected to \(url)")
        health.counters.brokerConnected()
        publishOther(topic: announcements.topics.status, payload: announcements.online, retain: true, &c)
        for meta in announcements.metas { publishOther(topic: meta.topic, payload: meta.payload, retain: true, &c) }
    }

    /// Logs a connection problem the first time it occurs in an outage (the client retries every few seconds).
    private func logOnce(_ key: String, _ c: inout Cursor, _ log: () -> Void) {
        if c.loggedProblems.insert(key).inserted { log() }
    }

    /// Status, meta and health: not buffered; registered so that their acks are never taken for a poll's.
    private func publishOther(topic: String, payload: String, retain: Bool, _ c: inout Cursor) {
        do {
            let mid = try client.publish(topic: topic, payload: payload, retain: retain)
            c.ledger.registerOther(mid: mid)
        } catch {
            logger.debug("publish failed", metadata: ["mqtt.topic": "\(topic)", "error": "\(error)"])
        }
    }

    /// Hands polls to libmosquitto until the window is full: live ones first, then the backlog, each in seq order.
    private func fill(_ c: inout Cursor) async {
        do {
            var room = window - c.ledger.inflightCount
            // Live polls first, in seq order.
            if room > 0 && c.dirty {
                let live = try await outbox.polls(after: max(c.liveCursor, c.liveFrom - 1), limit: room)
                for stored in live {
                    guard publish(stored, &c) else { return }
                    c.liveCursor = stored.seq
                }
                if live.count < room { c.dirty = false }
                room = window - c.ledger.inflightCount
            }
            while room > 0 && !c.backlogDone {
                // In-flight polls of an earlier session are skipped: libmosquitto re-sends those itself.
                let batch = try await outbox.polls(
                    after: c.backlogCursor, before: c.liveFrom, limit: room + c.ledger.inflightCount)
                if batch.isEmpty {
                    c.backlogDone = true
                    break
                }
                for stored in batch {
                    if room == 0 { break }
                    if !c.ledger.isInflight(seq: stored.seq) {
                        guard publish(stored, &c) else { return }
                        room -= 1
                    }
                    c.backlogCursor = stored.seq
                }
            }
        } catch {
            logger.error("cannot read the buffer", metadata: ["error": "\(error)"])
        }
    }

    /// Publishes one poll; false when libmosquitto refused it (it stays buffered and is tried again later).
    private func publish(_ stored: StoredPoll, _ c: inout Cursor) -> Bool {
        let payload = encoder.encode(stored, backfill: stored.committedAt < c.sessionStart)
        do {
            let mid = try client.publish(topic: topics.data(device: stored.poll.deviceID), payload: payload)
            c.committedAt[stored.seq] = stored.committedAt
            if let done = c.ledger.register(mid: mid, seq: stored.seq) {
                c.acked.append(done)
                recordLatency(done, &c)
            }
            return true
        } catch {
            logger.debug("publish failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// From commit to PUBACK: what a backend waits for a reading, outages included.
    private func recordLatency(_ seq: Int64, _ c: inout Cursor) {
        if let committed = c.committedAt.removeValue(forKey: seq) {
            health.counters.published(latency: clock.now() - committed)
        }
    }

    private func deleteAcknowledged(_ c: inout Cursor) async {
        guard !c.acked.isEmpty else { return }
        do {
            try await outbox.acknowledge(c.acked)
            health.recordPublished(c.acked.count)
            c.acked.removeAll(keepingCapacity: true)
        } catch {
            logger.error("cannot delete acknowledged polls from the buffer", metadata: ["error": "\(error)"])
        }
    }
}

extension Publisher {
    /// A publisher for the drain benchmark: no status, meta or (in practice) health messages.
    public static func forBenchmark(client: MQTTClient, outbox: Outbox, logger: Logger) -> Publisher {
        let topics = TopicLayout(prefix: "gia/v1", site: "bench", gateway: "gw01")
        return Publisher(
            client: client, outbox: outbox, topics: topics, encoder: SenMLEncoder(siteID: "bench", gatewayID: "gw01"),
            window: 100, health: HealthBoard(), brokers: BrokerEndpoints(urls: ["bench"]),
            announcements: Announcements(
                topics: topics, online: "{}", offline: "{}", metas: [], healthInterval: .seconds(3600),
                started: SystemWallClock().now()),
            logger: logger)
    }
}
