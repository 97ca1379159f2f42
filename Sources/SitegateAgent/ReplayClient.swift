import Logging
import SitegateConfig
import SitegateCore
import SitegateMQTT

#if canImport(Glibc)
import Glibc
#endif

/// The backend's side of a replay (`sitegate replay`, `sitegate audit --repair`): asks the gateway for archived
/// messages through the broker and collects what comes back (docs/evidence.md, "Replay").
public enum ReplayClient {
    /// A message as received: topic, exact bytes, arrival time.
    public struct Received: Sendable {
        public var topic: String
        public var payload: [UInt8]
        public var arrivedAt: UnixTime
        public var retained: Bool
    }

    public struct Outcome: Sendable {
        /// `accepted` (what the gateway holds) and then `done` or `error`.
        public var answers: [ReplayAnswer] = []
        /// Everything that arrived on the gateway's data and evidence topics meanwhile, replayed or live.
        public var received: [Received] = []
        public var problem: String?

        public var accepted: ReplayAnswer? { answers.first { $0.status == .accepted } }
        public var finished: ReplayAnswer? { answers.first { $0.status != .accepted } }
    }

    public static func run(config: SiteConfig, request: ReplayRequest, timeout: Duration) async -> Outcome {
        var outcome = Outcome()
        var options: MQTTClient.Options
        do { options = try MQTTClient.Options(config, logger: Logger(label: "replay")) } catch {
            outcome.problem = "\(error)"
            return outcome
        }
        // Never the agent's own client id: the broker would disconnect the running agent.
        options.clientID = config.mqttClientID + "-replay-\(getpid())"
        options.reconnectDelay = (.seconds(1), .seconds(2))
        let client: MQTTClient
        do { client = try MQTTClient(options: options) } catch {
            outcome.problem = "\(error)"
            return outcome
        }
        defer { client.stop() }
        let topics = TopicLayout(prefix: config.mqtt.topicPrefix, site: config.site.id, gateway: config.site.gateway)
        let answerTopic = topics.replayAnswer(id: request.id)
        client.start()
        // The handler says true when the exchange is over: an answer that ends it, or a failure.
        let (result, timedOut) = await client.follow(from: outcome, timeout: timeout) { outcome, event in
            switch event {
            case .connected(0):
                do {
                    for pattern in [answerTopic, topics.gatewayRoot + "/+/data", topics.evidence] {
                        try client.subscribe(pattern)
                    }
                    // Subscriptions are granted in order: the request goes after them.
                    _ = try client.publish(topic: topics.replayRequest, payload: request.json)
                } catch {
                    outcome.problem = "\(error)"
                    return true
                }
            case .connected(let code):
                outcome.problem = "the broker refused the connection (\(MQTTClient.connackReason(code)))"
                return true
            case .message(let topic, let payload, _) where topic == answerTopic:
                guard let answer = ReplayAnswer(json: String(decoding: payload, as: UTF8.self)) else { return false }
                outcome.answers.append(answer)
                // The gateway answers `done` after the broker acknowledged every replayed message, and a
                // broker delivers one client's messages in the order it received them: all are here.
                return answer.status != .accepted
            case .message(let topic, let payload, let retain):
                outcome.received.append(
                    Received(topic: topic, payload: payload, arrivedAt: SystemWallClock().now(), retained: retain))
            default:
                break
            }
            return false
        }
        outcome = result
        if timedOut && outcome.finished == nil {
            outcome.problem = outcome.problem ?? "no answer within \(DurationNotation.format(timeout))"
        }
        return outcome
    }
}

/// What `sitegate replay` prints: the gateway's answers and what arrived.
public struct ReplayReport: Sendable {
    public var lines: [String] = []

    public init(request: ReplayRequest, outcome: ReplayClient.Outcome) {
        lines.append("request \(request.id): \(request.ranges.count) sequence numbers (\(request.ranges.text))")
        if let accepted = outcome.accepted {
            lines.append("republished:     \(accepted.served.count)\(Self.list(accepted.served))")
            lines.append("still unsent:    \(accepted.pending.count) (they go out in the normal order)\(Self.list(accepted.pending))")
            lines.append("gone for good:   \(accepted.missing.count)\(Self.list(accepted.missing))")
        }
        let wanted = outcome.accepted?.served ?? SeqRanges()
        var got = Set<Int64>()
        for message in outcome.received {
            if let seq = SeqOfMessage.seq(in: message.payload), wanted.contains(seq) { got.insert(seq) }
        }
        lines.append("received:        \(got.count) of the republished messages")
        switch outcome.finished?.status {
        case .done?: lines.append("done")
        case .error?: lines.append("refused: \(outcome.finished?.error ?? "")")
        default: lines.append("FAILED: \(outcome.problem ?? "no answer")")
        }
    }

    private static func list(_ ranges: SeqRanges) -> String {
        ranges.isEmpty ? "" : " (\(ranges.text.prefix(200)))"
    }
}

/// The `seq` of a data or evidence message, read without parsing the whole payload.
public enum SeqOfMessage {
    public static func seq(in payload: [UInt8]) -> Int64? {
        let marker = Array("\"seq\":".utf8)
        guard let r = payload.prefix(2048).firstRange(of: marker) else { return nil }
        let digits = payload[r.upperBound...].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return Int64(String(decoding: digits, as: UTF8.self))
    }
}
