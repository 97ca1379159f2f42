import Logging
import SitegateBuffer
import SitegateCore
import SitegateMQTT

extension Publisher {
    /// Status, meta and health: not buffered; registered so that their acks are never taken for a poll's.
    func announce(_ announcement: PublisherStateMachine.Announcement, _ run: inout Run) async {
        let current = run.announcements
        switch announcement {
        case .online:
            publishOther(topic: current.topics.status, payload: current.online, retain: true, &run)
            for meta in current.metas { publishOther(topic: meta.topic, payload: meta.payload(), retain: true, &run) }
        case .changed:
            let kept = Set(current.metas.map(\.topic))
            for meta in run.retired?.metas ?? [] where !kept.contains(meta.topic) {
                publishOther(topic: meta.topic, payload: "", retain: true, &run)  // clears the retained message
            }
            run.retired = nil
            publishOther(topic: current.topics.status, payload: current.online, retain: true, &run)
            for meta in current.metas { publishOther(topic: meta.topic, payload: meta.payload(), retain: true, &run) }
        case .health:
            let stats = try? await outbox.stats()
            let payload = current.health(health, buffer: stats, now: clock.now())
            publishOther(topic: current.topics.health, payload: payload, retain: false, &run)
        }
    }

    func publishOther(topic: String, payload: String, retain: Bool, _ run: inout Run) {
        do {
            run.machine.registerOther(mid: try client.publish(topic: topic, payload: payload, retain: retain))
        } catch {
            logger.debug("publish failed", metadata: ["mqtt.topic": "\(topic)", "error": "\(error)"])
        }
    }

    /// Broker news: health and counters always, the log only the first time in an outage.
    func report(_ report: PublisherStateMachine.Report) {
        switch report {
        case .trying(let node, let after):
            if let after {
                logger.notice("switching broker node: trying \(brokers.url(node)) after \(brokers.url(after)) failed")
            }
            health.setBrokerNode(brokers.url(node))
        case .sessionStarted(let node, let backlogBelow):
            let url = brokers.url(node)
            logger.info("connected to the broker", metadata: ["mqtt.broker": "\(url)", "mqtt.backlog_below_seq": "\(backlogBelow)"])
            health.setBroker(connected: true, detail: "connected to \(url)")
            health.counters.brokerConnected()
        case .sessionLost(let node, let code, let inflight):
            health.counters.brokerLost()
            let reason = MQTTClient.disconnectReason(code)
            logger.warning(
                "lost the broker connection: \(reason); readings stay buffered",
                metadata: ["mqtt.broker": "\(brokers.url(node))", "mqtt.inflight": "\(inflight)"])
            health.setBroker(connected: false, detail: reason)
        case .connectionRefused(let node, let code, let firstTime):
            let reason = MQTTClient.connackReason(code)
            if firstTime {
                logger.error("the broker refused the connection: \(reason)", metadata: ["mqtt.broker": "\(brokers.url(node))"])
            }
            health.counters.brokerFailed()
            health.setBroker(connected: false, detail: "refused: \(reason)")
        case .connectFailed(let node, let reason, let wait, let detail, let firstTime):
            health.counters.brokerFailed()
            if firstTime {
                logger.warning(
                    "cannot reach the broker: \(reason); \(retry(after: wait, from: node)); readings stay buffered",
                    metadata: ["mqtt.broker": "\(brokers.url(node))"])
            }
            health.setBroker(connected: false, detail: detail)
        case .closedWithoutAnswer(let node, let wait, let firstTime):
            health.counters.brokerFailed()
            if firstTime {
                logger.error(
                    "the broker closed the connection without answering (no CONNACK): likely \(brokers.likelyCausesOfNoAnswer); \(retry(after: wait, from: node)); readings stay buffered",
                    metadata: ["mqtt.broker": "\(brokers.url(node))"])
            }
            health.setBroker(connected: false, detail: "closed without answering (no CONNACK)")
        case .libraryError(let node, let message, let firstTime, let whileDown):
            // TLS and socket errors arrive here, repeated at every retry.
            if firstTime { logger.error("broker connection: \(message)", metadata: ["mqtt.broker": "\(brokers.url(node))"]) }
            if whileDown { health.setBroker(connected: false, detail: message) }
        case .messageRefused(let seq, let reasonCode):
            logger.error(
                "the broker refused a data message: \(MQTTClient.reasonString(reasonCode)); it stays buffered (check the broker's ACL for this gateway's topics)",
                metadata: ["mqtt.reason_code": "\(reasonCode)", "buffer.seq": "\(seq)"])
        }
    }

    private func retry(after wait: Duration, from node: Int) -> String {
        brokers.retry(after: wait, next: (node + 1) % brokers.urls.count)
    }
}
