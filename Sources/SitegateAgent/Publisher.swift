import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateCore
import SitegateMQTT
import SitegateSystemd
import SitegateThreads

/// Moves messages from the outbox to the broker at QoS 1, exactly as stored, and settles each only after its PUBACK.
///
/// The policy (live before backlog, the in-flight window, the drain at shutdown, which problem to log once) is
/// `PublisherStateMachine`'s; this service executes its actions: outbox reads and deletes, MQTT publishes, logs,
/// health, metrics counters and the watchdog. Messages in flight when the connection drops are re-sent by
/// libmosquitto after it reconnects, with the same message id and sequence number (at-least-once).
public final class Publisher: Service {
    enum Input: Sendable {
        case mqtt(MQTTEvent)
        case newData
        case flush
        case health
        case reload(Announcements)
    }

    /// The run loop's state: only the run loop touches it.
    struct Run {
        var machine: PublisherStateMachine
        var announcements: Announcements
        /// The announcements a reload replaced, until their removed metas are cleared.
        var retired: Announcements?
        var finished = false
        var replay = ReplayState()
        /// A flush tick is on its way.
        var flushArmed = false
    }

    let client: MQTTClient
    let outbox: Outbox
    let topics: TopicLayout
    let window: Int
    let logger: Logger
    let clock: any WallClock
    let health: HealthBoard
    let brokers: BrokerEndpoints
    let watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>
    let initialAnnouncements: Announcements
    /// Every input, in the order it came; a PUBACK each message (an `InputQueue`, not an `AsyncStream`: see there).
    private let inputs = InputQueue<Input>()
    let draining = LockedFlag()
    /// How long acknowledged polls wait to be deleted together, and the replay pacing's step.
    static let flushInterval = Duration.milliseconds(100)

    init(
        client: MQTTClient, outbox: Outbox, topics: TopicLayout, window: Int,
        health: HealthBoard, brokers: BrokerEndpoints, announcements: Announcements,
        watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>, clock: any WallClock = SystemWallClock(),
        logger: Logger
    ) {
        self.brokers = brokers
        self.initialAnnouncements = announcements
        self.client = client
        self.outbox = outbox
        self.topics = topics
        self.window = max(1, window)
        self.health = health
        self.watchdog = watchdog
        self.clock = clock
        self.logger = logger
    }

    /// A publisher for `config`'s broker and topics, as the agent builds it (also for the drain benchmarks).
    public convenience init(
        config: SiteConfig, version: String, client: MQTTClient, outbox: Outbox, health: HealthBoard,
        watchdog: LockedValue<ProgressWatchdog<ContinuousClock.Instant>>, logger: Logger
    ) {
        let announcements = Announcements(config: config, version: version, started: SystemWallClock().now())
        self.init(
            client: client, outbox: outbox, topics: announcements.topics, window: config.mqtt.inflightWindow,
            health: health, brokers: BrokerEndpoints(config.mqtt), announcements: announcements, watchdog: watchdog,
            logger: logger)
    }

    /// A reload changed the devices: new meta messages, and the removed devices' retained meta cleared.
    func reload(_ announcements: Announcements) {
        inputs.yield(.reload(announcements))
    }

    /// Called by pollers after a commit: there is something new to send. The messages themselves come from the
    /// outbox's `liveMessages`: from memory, without reading back what was just written.
    public func notifyNewData() {
        inputs.yield(.newData)
    }

    public func run() async throws {
        var run = Run(machine: PublisherStateMachine(window: window), announcements: initialAnnouncements)
        let client = self.client
        let inputs = self.inputs
        // MQTT events (a PUBACK each message) join the other inputs straight from the network thread: no task in
        // between to wake for them. Each is handled as it comes: taking a burst of PUBACKs in one
        // pass made the publisher refill its window only after all of them, and a backlog drained at a quarter of
        // the rate (measured; docs/performance.md, "CPU, fourth pass").
        client.deliverEvents { inputs.yield(.mqtt($0)) }
        client.start()
        defer { client.stop() }
        try await withThrowingDiscardingTaskGroup { group in
            let healthInterval = run.announcements.healthInterval
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: healthInterval) } catch { return }
                    inputs.yield(.health)
                }
            }
            // Acks are deleted in batches, and replays paced; this tick bounds how long a batch waits. It is armed
            // only while something waits for it: an idle publisher wakes nobody ten times a second.
            let (flushArms, flushArm) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            group.addTask {
                for await _ in flushArms {
                    do { try await Task.sleep(for: Self.flushInterval) } catch { return }
                    inputs.yield(.flush)
                }
            }
            await withGracefulShutdownHandler {
                var stopping = false
                while let input = await inputs.next() {
                    if case .flush = input { run.flushArmed = false }
                    // The shutdown handler runs on another task: the machine hears of it before the next input.
                    if !stopping && self.draining.value {
                        stopping = true
                        await self.perform(run.machine.handle(.stopRequested), &run)
                    }
                    if await !self.handleReplay(input, &run), let event = await self.event(for: input, &run) {
                        await self.perform(run.machine.handle(event), &run)
                        if run.finished { break }
                    }
                    if !run.flushArmed && (run.machine.wantsFlushTick || !run.replay.jobs.isEmpty) {
                        run.flushArmed = true
                        flushArm.yield()
                    }
                }
                flushArm.finish()
                group.cancelAll()
            } onGracefulShutdown: {
                self.draining.set()
                self.inputs.yield(.flush)
            }
            // A clean stop sends no last will: say offline ourselves.
            _ = try? client.publish(topic: run.announcements.topics.status, payload: run.announcements.offline, retain: true)
        }
    }

    /// The machine's event for an input; what the machine needs to know (the outbox's last seq) is read here.
    private func event(for input: Input, _ run: inout Run) async -> PublisherStateMachine.Event? {
        switch input {
        case .newData: return .newData
        case .flush: return .flushTick
        case .health: return .healthTick
        case .reload(let new):
            run.retired = run.announcements
            run.announcements = new
            return .reloaded
        case .mqtt(let event):
            switch event {
            case .connecting(let node): return .connecting(node: node)
            case .connected(let code) where code != 0: return .connectionRefused(code: code)
            case .connected:
                outbox.followLive(true)
                let now = clock.now()
                return .connected(lastSeq: (try? await outbox.stats().lastSeq) ?? 0, at: now)
            case .disconnected(let code):
                outbox.followLive(false)
                return .disconnected(code: code)
            case .connectFailed(let reason, let wait): return .connectFailed(reason: reason, retryIn: wait)
            case .closedWithoutAnswer(let wait): return .closedWithoutAnswer(retryIn: wait)
            case .acknowledged(let mid): return .acknowledged(mids: [mid])
            case .refused(let mid, let code): return .messageRefused(mid: mid, reasonCode: code)
            case .log(_, let message): return .libraryLog(message: message)
            case .message: return nil
            }
        }
    }

    /// Executes the machine's actions in order; an action's result event is handled before the next action.
    private func perform(_ actions: [PublisherStateMachine.Action], _ run: inout Run) async {
        var stack = Array(actions.reversed())
        while let action = stack.popLast() {
            let more: [PublisherStateMachine.Action]
            switch action {
            case .fetch(let fetch):
                more = run.machine.handle(await self.fetch(fetch))
            case .publish(let stored, _):
                more = run.machine.handle(publish(stored))
            case .deleteAcknowledged(let seqs):
                do {
                    try await outbox.acknowledge(seqs)
                    health.recordPublished(seqs.count)
                    more = []
                } catch {
                    logger.error("cannot delete acknowledged polls from the buffer", metadata: ["error": "\(error)"])
                    more = run.machine.handle(.deleteFailed(seqs))
                }
            case .announce(let announcement):
                await announce(announcement, &run)
                more = []
            case .report(let report):
                self.report(report)
                more = []
            case .pollAcknowledged:
                watchdog.withLock { $0.progressed("publisher", now: .now) }
                if health.firstTime("ack") {
                    logger.info("first poll acknowledged by the broker", metadata: ["startup.ms": "\(ProcessUptime.milliseconds() ?? -1)"])
                }
                more = []
            case .recordLatency(let committedAt):
                // From commit to PUBACK: what a backend waits for a reading, outages included.
                let now = clock.now()
                health.counters.published(latencies: committedAt.map { now - $0 })
                more = []
            case .setWatchdogIdle(let idle):
                watchdog.withLock { $0.setIdle("publisher", idle, now: .now) }
                more = []
            case .finish:
                run.finished = true
                more = []
            }
            stack.append(contentsOf: more.reversed())
        }
    }

    private func fetch(_ fetch: PublisherStateMachine.Fetch) async -> PublisherStateMachine.Event {
        do {
            switch fetch {
            case .live(let after, let limit): return .fetched(try await outbox.liveMessages(after: after, limit: limit))
            case .backlog(let after, let before, let limit):
                return .fetched(try await outbox.messages(after: after, before: before, limit: limit))
            }
        } catch {
            logger.error("cannot read the buffer", metadata: ["error": "\(error)"])
            return .fetchFailed
        }
    }

    /// Hands one poll to libmosquitto; a refusal leaves it buffered, to be tried again later.
    private func publish(_ stored: StoredMessage) -> PublisherStateMachine.Event {
        let topic = stored.deviceID.map(topics.data(device:)) ?? topics.evidence
        do {
            return .published(mid: try client.publish(topic: topic, bytes: stored.payload))
        } catch {
            logger.debug("publish failed", metadata: ["error": "\(error)"])
            return .publishFailed
        }
    }
}
