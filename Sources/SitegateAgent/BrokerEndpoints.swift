import SitegateCore

/// The configured brokers as the agent names them in logs, status and health, and what their failures likely mean.
struct BrokerEndpoints: Sendable {
    /// One URL per node of `mqtt.url`, in the configured order.
    let urls: [String]
    let protocolVersion: String
    let useTLS: Bool

    init(_ mqtt: MQTTSettings) {
        urls = mqtt.nodes.indices.map { mqtt.url(ofNode: $0) }
        protocolVersion = mqtt.protocolVersion
        useTLS = mqtt.useTLS
    }

    init(urls: [String], protocolVersion: String = "3.1.1", useTLS: Bool = false) {
        self.urls = urls
        self.protocolVersion = protocolVersion
        self.useTLS = useTLS
    }

    func url(_ node: Int) -> String { urls.indices.contains(node) ? urls[node] : "node \(node + 1)" }

    /// Why a listener would close the connection without a CONNACK, most likely first for these settings.
    var likelyCausesOfNoAnswer: String {
        var causes: [String] = []
        if protocolVersion == "5" {
            causes.append("the broker does not support MQTT 5 (RabbitMQ 3.x, for one, speaks 3.1.1 only: set protocol: \"3.1.1\")")
        }
        if !useTLS { causes.append("the port expects TLS (use mqtts://)") }
        causes.append("the port is not an MQTT listener")
        causes.append("the broker rejects this client without saying why (see its log)")
        return causes.joined(separator: "; or ")
    }

    /// "retrying in 4 s" (one broker); "trying mqtt://b:1883 next" or "trying mqtt://b:1883 in 4 s" (a list).
    func retry(after wait: Duration, next: Int) -> String {
        guard urls.count > 1 else { return "retrying in \(DurationNotation.rounded(wait))" }
        return wait == .zero ? "trying \(url(next)) next" : "trying \(url(next)) in \(DurationNotation.rounded(wait))"
    }
}
