import Logging
import ServiceLifecycle
import SitegateBuffer
import SitegateCore
import SitegateMQTT

/// Moves polls from the outbox to the broker at QoS 1 and deletes each only after its PUBACK.
///
/// Polls go out in sequence order, at most `window` awaiting acknowledgement at a time. Polls committed before the
/// current broker session began are marked backfill. Messages in flight when the connection drops are re-sent by
/// libmosquitto with the same message id after it reconnects (at-least-once, same sequence number).
public final class Publisher: Service {
    enum Input: Sendable {
        case mqtt(MQTTEvent)
        case newData
        case flush
    }

    let client: MQTTClient
    let outbox: Outbox
    let topics: TopicLayout
    let encoder: SenMLEncoder
    let window: Int
    let logger: Logger
    let clock: any WallClock
    private let inputs: AsyncStream<Input>
    private let inputContinuation: AsyncStream<Input>.Continuation

    public init(
        client: MQTTClient, outbox: Outbox, topics: TopicLayout, encoder: SenMLEncoder, window: Int,
        clock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        self.client = client
        self.outbox = outbox
        self.topics = topics
        self.encoder = encoder
        self.window = max(1, window)
        self.clock = clock
        self.logger = logger
        (inputs, inputContinuation) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
    }

    /// Called by pollers after a commit: there may be something new to send.
    public func notifyNewData() {
        inputContinuation.yield(.newData)
    }

    public func run() async throws {
        var ledger = PublishLedger()
        var connected = false
        var sessionStart = UnixTime(nanoseconds: .max)
        var cursor: Int64 = 0  // highest seq handed to libmosquitto
        var acked: [Int64] = []

        try client.start()
        defer { client.stop() }
        let client = self.client
        let continuation = inputContinuation
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                for await event in client.events { continuation.yield(.mqtt(event)) }
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
                    switch input {
                    case .mqtt(.connected(let code)):
                        if code == 0 {
                            connected = true
                            sessionStart = self.clock.now()
                            self.logger.info("connected to the broker")
                        } else {
                            self.logger.error("the broker refused the connection: \(MQTTClient.connackReason(code))")
                        }
                    case .mqtt(.disconnected(let code)):
                        if connected {
                            self.logger.warning(
                                "lost the broker connection: \(MQTTClient.disconnectReason(code))",
                                metadata: ["mqtt.inflight": "\(ledger.inflightCount)"])
                        }
                        connected = false
                    case .mqtt(.acknowledged(let mid)):
                        if let seq = ledger.acknowledge(mid: mid) { acked.append(seq) }
                    case .mqtt(.message):
                        break
                    case .newData:
                        break
                    case .flush:
                        if !acked.isEmpty {
                            await self.delete(&acked)
                        }
                    }
                    if acked.count >= 256 { await self.delete(&acked) }
                    if connected && ledger.inflightCount < self.window {
                        cursor = await self.fill(&ledger, acked: &acked, cursor: cursor, sessionStart: sessionStart)
                    }
                    if self.isDraining && (ledger.inflightCount == 0 || !connected) { break }
                }
                await self.delete(&acked)
                group.cancelAll()
            } onGracefulShutdown: {
                self.beginDrain()
            }
        }
    }

    private let draining = LockedFlag()
    private var isDraining: Bool { draining.value }

    /// On shutdown: stop taking new work, wait (bounded by the service group's timeout) for what is in flight.
    private func beginDrain() {
        draining.set()
        inputContinuation.yield(.flush)
    }

    /// Publishes stored polls after `cursor` until the window is full; returns the new cursor.
    private func fill(_ ledger: inout PublishLedger, acked: inout [Int64], cursor: Int64, sessionStart: UnixTime)
        async -> Int64
    {
        var cursor = cursor
        while ledger.inflightCount < window && !isDraining {
            let batch: [StoredPoll]
            do {
                batch = try await outbox.polls(after: cursor, limit: window - ledger.inflightCount)
            } catch {
                logger.error("cannot read the buffer", metadata: ["error": "\(error)"])
                return cursor
            }
            if batch.isEmpty { return cursor }
            for stored in batch {
                let payload = encoder.encode(stored, backfill: stored.committedAt < sessionStart)
                do {
                    let mid = try client.publish(topic: topics.data(device: stored.poll.deviceID), payload: payload)
                    if let done = ledger.register(mid: mid, seq: stored.seq) { acked.append(done) }
                    cursor = stored.seq
                } catch {
                    // Not handed over: it stays in the buffer and is tried again on the next pass.
                    logger.debug("publish failed", metadata: ["error": "\(error)"])
                    return cursor
                }
            }
        }
        return cursor
    }

    private func delete(_ acked: inout [Int64]) async {
        guard !acked.isEmpty else { return }
        do {
            try await outbox.acknowledge(acked)
            acked.removeAll(keepingCapacity: true)
        } catch {
            logger.error("cannot delete acknowledged polls from the buffer", metadata: ["error": "\(error)"])
        }
    }
}
