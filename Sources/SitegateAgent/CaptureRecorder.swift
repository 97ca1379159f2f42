import Logging
import ServiceLifecycle
import SitegateCore
import SitegateMQTT
import SitegateThreads

/// `sitegate record`: subscribes with QoS 1 and appends every message, as received, to a capture
/// (docs/evidence.md, "Verifying a capture"). Runs until its time or count is up, or a graceful shutdown.
public struct CaptureRecorder: Service {
    public struct Settings: Sendable {
        public var client: MQTTClient.Options
        /// Subscription patterns, e.g. `gia/v1/demo-park/gw01/#`.
        public var topics: [String]
        public var duration: Duration?
        public var count: Int?

        public init(client: MQTTClient.Options, topics: [String], duration: Duration? = nil, count: Int? = nil) {
            self.client = client
            self.topics = topics
            self.duration = duration
            self.count = count
        }
    }

    let settings: Settings
    let output: CaptureFile.Writer
    let logger: Logger
    let clock: any WallClock
    /// How many messages were written; read after `run()` returned.
    public let recorded = LockedCounter()

    public init(settings: Settings, output: CaptureFile.Writer, logger: Logger, clock: any WallClock = SystemWallClock()) {
        self.settings = settings
        self.output = output
        self.logger = logger
        self.clock = clock
    }

    public func run() async throws {
        let client = try MQTTClient(options: settings.client)
        client.start()
        // Stopping the client finishes its event stream: the consumer then writes what was already received and
        // returns, so a message the broker has delivered (and libmosquitto acknowledged) is not dropped at the end.
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    defer { client.stop() }
                    try await consume(client)
                    return true
                }
                if let duration = settings.duration {
                    group.addTask {
                        do { try await Task.sleep(for: duration) } catch { return false }
                        client.stop()
                        return false
                    }
                }
                while let consumerEnded = try await group.next() {
                    if consumerEnded { group.cancelAll() }
                }
            }
        } onGracefulShutdown: {
            client.stop()
        }
    }

    private func consume(_ client: MQTTClient) async throws {
        for await event in client.events {
            switch event {
            case .connected(0):
                // A clean session forgets subscriptions; a persistent one keeps them, and subscribing again is harmless.
                for topic in settings.topics { try client.subscribe(topic, qos: 1) }
                logger.notice("recording", metadata: ["mqtt.broker": "\(settings.client.host):\(settings.client.port)", "topics": "\(settings.topics.joined(separator: " "))"])
            case .connected(let code):
                logger.error("the broker refused the connection: \(MQTTClient.connackReason(code))")
            case .disconnected(let code) where code != 0:
                logger.warning("disconnected from the broker: \(MQTTClient.disconnectReason(code)); reconnecting")
            case .connectFailed(let reason, _):
                logger.warning("cannot connect: \(reason)")
            case .message(let topic, let payload, let retain):
                try output.append(
                    CaptureRecord(arrivedAt: clock.now(), topic: topic, retain: retain, payload: payload))
                let n = recorded.increment()
                if let count = settings.count, n >= count { return }
            default:
                break
            }
        }
    }
}

/// A counter shared between the recorder's task and whoever reads it afterwards.
public final class LockedCounter: Sendable {
    private let value = LockedValue(0)
    public init() {}
    @discardableResult public func increment() -> Int { value.withLock { $0 += 1; return $0 } }
    public var current: Int { value.withLock { $0 } }
}
