import Logging
import SitegateConfig
import SitegateCore
import SitegateMQTT

extension SiteConfig {
    /// The MQTT client id: the configured one, or `sitegate-{site}-{gateway}`.
    public var mqttClientID: String {
        mqtt.clientID ?? "sitegate-\(site.id)-\(site.gateway)"
    }
}

extension MQTTClient.Options {
    /// The client's settings from the site's (the agent's and `sitegate mqtt-test`'s), with secrets read now (never
    /// logged). `logger` hears that TLS verification is off.
    public init(_ config: SiteConfig, logger: Logger) throws {
        let mqtt = config.mqtt
        var tls: MQTTClient.TLS? = nil
        if mqtt.useTLS {
            for (key, file) in [("ca_file", mqtt.caFile), ("cert_file", mqtt.certFile)] {
                if let file, (try? TextFile.read(file)) == nil {
                    throw Secrets.MissingSecret(description: "\(key) \(file) cannot be read")
                }
            }
            tls = MQTTClient.TLS(
                caFile: mqtt.caFile, certFile: mqtt.certFile, keyFile: try mqtt.key.map(Secrets.path(of:)),
                insecure: mqtt.tlsInsecure)
            if mqtt.tlsInsecure {
                logger.warning("tls_insecure is set: the broker's certificate is NOT verified; anyone in the path can read and alter the data")
            }
        }
        self.init(
            clientID: config.mqttClientID, host: mqtt.host, port: mqtt.port,
            // The live window plus the replays' own share: a replay never takes a slot live data needs.
            keepaliveSeconds: Int(mqtt.keepalive.milliseconds / 1000),
            maxInflight: mqtt.inflightWindow + Publisher.replayLimits.inflight,
            protocolVersion: mqtt.protocolVersion == "5" ? .v5 : .v311,
            reconnectDelay: (.seconds(1), mqtt.reconnectMax), tls: tls, username: mqtt.username,
            password: try mqtt.password.map(Secrets.read))
        nodes = mqtt.nodes
    }
}
