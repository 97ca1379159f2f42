import Logging
import SitegateConfig
import SitegateCore
import SitegateMQTT

#if canImport(Glibc)
import Glibc
#endif

/// `sitegate mqtt-test`: connect with the site's settings, publish a test message and read it back.
public enum BrokerCheck {
    public struct Report: Sendable {
        public var lines: [String] = []
        public var ok = false
    }

    /// Tests every node of `mqtt.url` in turn (a cluster's nodes share settings, so each must work on its own).
    public static func run(config: SiteConfig, timeout: Duration = .seconds(10)) async -> Report {
        var report = Report()
        report.ok = true
        for node in config.mqtt.nodes.indices {
            let one = await run(config: config, node: node, timeout: timeout)
            report.lines += one.lines
            report.ok = report.ok && one.ok
        }
        return report
    }

    static func run(config: SiteConfig, node: Int, timeout: Duration) async -> Report {
        var report = Report()
        var options: MQTTClient.Options
        do { options = try MQTTClient.Options(config, logger: Logger(label: "mqtt-test")) } catch {
            report.lines.append("FAILED: \(error)")
            return report
        }
        // Never the agent's own client id: the broker would disconnect the running agent.
        options.clientID = config.mqttClientID + "-test-\(getpid())"
        options.reconnectDelay = (.seconds(1), .seconds(2))
        options.nodes = [config.mqtt.nodes[node]]
        let brokers = BrokerEndpoints(config.mqtt)
        report.lines.append("broker:      \(brokers.url(node)) (MQTT \(config.mqtt.protocolVersion), client id \(options.clientID))")
        let client: MQTTClient
        do { client = try MQTTClient(options: options) } catch {
            report.lines.append("FAILED: \(error)")
            return report
        }
        defer { client.stop() }
        let clock = ContinuousClock()
        let start = clock.now
        client.start()
        let topic = TopicLayout(prefix: config.mqtt.topicPrefix, site: config.site.id, gateway: config.site.gateway)
            .gatewayRoot + "/mqtt-test/\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let payload = "{\"test\":\"sitegate mqtt-test\",\"sent\":\(JSONText.quoted("\(SystemWallClock().now())"))}"
        // Events until the read-back arrives or the time is up; the client is stopped only after both ended.
        let outcome = await client.follow(from: Progress(), timeout: timeout) { p, event in
            p.handle(event, client: client, topic: topic, payload: payload, clock: clock, start: start, brokers: brokers)
        }.state
        report.lines += outcome.lines
        report.ok = outcome.ok
        if !outcome.ok && !outcome.failed {
            if outcome.acked {
                report.lines.append(
                    "FAILED: the broker acknowledged the test message but it did not come back within "
                        + "\(DurationNotation.format(timeout)): its ACL may forbid this account to publish (MQTT 3.1.1 "
                        + "cannot tell) or to subscribe to \(topic)")
            } else if outcome.published {
                report.lines.append("FAILED: no PUBACK for the test message: \(outcome.lastProblem ?? "the broker did not answer")")
            } else {
                report.lines.append(
                    "FAILED: \(outcome.lastProblem ?? "no answer from the broker within \(DurationNotation.format(timeout))")")
            }
        }
        return report
    }

    /// What the test saw so far; `handle` returns true when it is finished.
    struct Progress: Sendable {
        var lines: [String] = []
        var lastProblem: String?
        var publishedAt: ContinuousClock.Instant?
        var mid: Int32 = -1
        var acked = false
        var ok = false
        var failed = false
        var published: Bool { publishedAt != nil }

        /// Ends the test with a failure line.
        mutating func finish(_ line: String) -> Bool {
            lines.append(line)
            failed = true
            return true
        }

        mutating func handle(
            _ event: MQTTEvent, client: MQTTClient, topic: String, payload: String, clock: ContinuousClock,
            start: ContinuousClock.Instant, brokers: BrokerEndpoints
        ) -> Bool {
            switch event {
            case .closedWithoutAnswer:
                // A TLS handshake the listener cut short arrives as a log line first: that one is more specific.
                if let lastProblem, lastProblem.hasPrefix("TLS failure") { return finish("FAILED: \(lastProblem)") }
                return finish(
                    "FAILED: the broker closed the connection without answering (no CONNACK): likely \(brokers.likelyCausesOfNoAnswer)")
            case .connectFailed(let reason, _):
                // A TLS failure also arrives as a log line with OpenSSL's reason: keep the more specific one.
                if lastProblem == nil || !(lastProblem!.hasPrefix("TLS failure")) { lastProblem = BrokerCheck.explain(reason) }
                return finish("FAILED: \(lastProblem!)")
            case .log(_, let message):
                lastProblem = BrokerCheck.explain(message)
                if lastProblem!.hasPrefix("TLS failure") { return finish("FAILED: \(lastProblem!)") }
            case .connected(let code) where code != 0:
                let hint = [4, 5, 0x86, 0x87].contains(code) ? " (check username and password)" : ""
                return finish("FAILED: the broker refused the connection: \(MQTTClient.connackReason(code))\(hint)")
            case .connected:
                lines.append("connected:   in \((clock.now - start).milliseconds) ms")
                if let tls = client.tlsSession() {
                    lines.append("tls:         \(tls.version), cipher \(tls.cipher)")
                    lines.append("certificate: \(tls.peerSubject ?? "?"), issued by \(tls.peerIssuer ?? "?")")
                    lines.append("expires:     \(tls.peerNotAfter ?? "?")")
                } else {
                    lines.append("tls:         none (plain mqtt://: data and password travel unencrypted)")
                }
                do {
                    try client.subscribe(topic)
                    publishedAt = clock.now
                    mid = try client.publish(topic: topic, payload: payload)
                } catch {
                    lastProblem = "\(error)"
                }
            case .acknowledged(let m) where m == mid:
                acked = true
                lines.append("published:   \(topic) (PUBACK after \((clock.now - publishedAt!).milliseconds) ms)")
            case .refused(let m, let code) where m == mid:
                lines.append("FAILED: the broker refused the test message: \(MQTTClient.reasonString(code)) (not authorised to publish?)")
                failed = true
                return true
            case .message(let t, let body, _) where t == topic:
                lines.append("read back:   same message after \((clock.now - publishedAt!).milliseconds) ms round trip")
                ok = String(decoding: body, as: UTF8.self) == payload
                if !ok {
                    lines.append("FAILED: the message came back changed")
                    failed = true
                }
                return true
            default:
                break
            }
            return false
        }
    }

    /// Turns libmosquitto's and OpenSSL's words into what a technician can act on.
    static func explain(_ message: String) -> String {
        if message.contains("certificate verify failed") {
            return "TLS failure: the broker's certificate is not trusted by ca_file or the system store, or does not match the host name (\(message))"
        }
        if message.contains("unexpected eof") {
            return "TLS failure: the broker closed the connection during the TLS handshake: a plain mqtt:// port, or a broker that requires a client certificate (\(message))"
        }
        if message.contains("wrong version number") || message.contains("packet length too long") {
            return "TLS failure: the port does not speak TLS (is it a plain mqtt:// port?) (\(message))"
        }
        if message.contains("does not resolve") { return "name not resolved: \(message)" }
        if message.contains("connection refused") { return "connection refused: nothing listens on that port, or a firewall rejects it" }
        return message
    }

}
