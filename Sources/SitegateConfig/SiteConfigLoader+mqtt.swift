import SitegateCore

// `mqtt:`: the broker URLs, TLS files, credentials and session settings.
extension SiteConfigLoader {
    static let mqttKeys = [
        "url", "topic_prefix", "client_id", "username", "password_file", "password_credential", "ca_file", "cert_file",
        "key_file", "key_credential", "tls_insecure", "keepalive", "inflight", "protocol", "health_interval",
        "reconnect_max",
    ]

    /// A secret given as a file path or as the name of a systemd credential, never inline.
    static func secret(
        _ m: MappingReader, file fileKey: String, credential credentialKey: String, base: String, sink: DiagnosticSink
    ) -> SecretSource? {
        let file = m.string(fileKey)
        let credential = m.string(credentialKey)
        if file != nil && credential != nil {
            sink.error("give either '\(fileKey)' or '\(credentialKey)', not both", at: m.keyNode(credentialKey)!)
            return nil
        }
        if let credential {
            guard !credential.isEmpty, !credential.contains("/") else {
                sink.error("'\(credentialKey)' is a credential name as in LoadCredential=, without '/'", at: m.value(credentialKey)!)
                return nil
            }
            return .credential(credential)
        }
        return file.map { .file(TextFile.resolve($0, relativeTo: base)) }
    }

    static func readMQTT(_ top: MappingReader, base: String, sink: DiagnosticSink) -> MQTTSettings? {
        guard let m = top.section("mqtt", required: true, allowed: mqttKeys) else { return nil }
        guard let endpoints = brokerURLs(m, sink: sink) else { return nil }
        let endpoint = endpoints[0]
        var settings = MQTTSettings(host: endpoint.host, port: endpoint.port, useTLS: endpoint.tls)
        settings.nodes = endpoints.map { BrokerNode(host: $0.host, port: $0.port) }
        if let prefix = m.string("topic_prefix") {
            if prefix.isEmpty || prefix.hasPrefix("/") || prefix.hasSuffix("/") || prefix.contains("+")
                || prefix.contains("#")
            {
                sink.error("'topic_prefix' must be topic levels like gia/v1, without wildcards or outer '/'", at: m.value("topic_prefix")!)
            } else {
                settings.topicPrefix = prefix
            }
        }
        settings.clientID = m.string("client_id")
        if let id = settings.clientID, id.isEmpty {
            sink.error("'client_id' must not be empty", at: m.value("client_id")!)
        }
        settings.username = m.string("username")
        settings.password = secret(m, file: "password_file", credential: "password_credential", base: base, sink: sink)
        settings.key = secret(m, file: "key_file", credential: "key_credential", base: base, sink: sink)
        settings.caFile = m.string("ca_file").map { TextFile.resolve($0, relativeTo: base) }
        settings.certFile = m.string("cert_file").map { TextFile.resolve($0, relativeTo: base) }
        settings.tlsInsecure = m.bool("tls_insecure") ?? false
        if settings.password != nil && settings.username == nil, let node = m.keyNode("password_file") ?? m.keyNode("password_credential") {
            sink.error("a password needs a 'username'", at: node)
        }
        if (settings.certFile == nil) != (settings.key == nil) {
            sink.error("a client certificate needs both 'cert_file' and 'key_file' (or 'key_credential')", at: m.node)
        }
        if !endpoint.tls {
            for key in ["ca_file", "cert_file", "key_file", "key_credential", "tls_insecure"] where m.has(key) {
                sink.error("'\(key)' applies to TLS connections: use an mqtts:// url", at: m.keyNode(key)!)
            }
        }
        if let k = m.duration("keepalive") {
            if k < .seconds(5) || k > .seconds(65535) {
                sink.error("'keepalive' must be between 5s and 65535s", at: m.value("keepalive")!)
            } else {
                settings.keepalive = k
            }
        }
        if let w = m.int("inflight", range: 1...65535) { settings.inflightWindow = w }
        if let version = m.string("protocol") {
            if ["3.1.1", "5"].contains(version) {
                settings.protocolVersion = version
            } else {
                sink.error("'protocol' must be \"3.1.1\" or \"5\", found '\(version)'", at: m.value("protocol")!)
            }
        }
        if let r = m.duration("reconnect_max") {
            if r < .seconds(1) || r > .seconds(3600) {
                sink.error("'reconnect_max' must be between 1s and 1h", at: m.value("reconnect_max")!)
            } else {
                settings.reconnectMax = r
            }
        }
        if let h = m.duration("health_interval") {
            if h < .seconds(5) {
                sink.error("'health_interval' must be at least 5s", at: m.value("health_interval")!)
            } else {
                settings.healthInterval = h
            }
        }
        return settings
    }

    /// `url`: one broker (a string), or the nodes of a cluster (a list of strings, tried in order). The nodes share
    /// TLS settings and credentials, so they must share the scheme too.
    private static func brokerURLs(_ m: MappingReader, sink: DiagnosticSink) -> [BrokerURL]? {
        guard let node = m.value("url", required: true) else { return nil }
        let rule = "must look like mqtt://host:1883 or mqtts://host:8883"
        if let text = node.scalarText {
            guard let endpoint = BrokerURL(text) else {
                sink.error("'url' \(rule), found '\(text)'", at: node)
                return nil
            }
            return [endpoint]
        }
        guard case .sequence(let items, _) = node else {
            sink.error("'url' must be a broker URL or a list of them (a cluster's nodes), found \(node.kindName)", at: node)
            return nil
        }
        guard !items.isEmpty else {
            sink.error("'url' lists no broker: give one URL or the nodes of a cluster", at: node)
            return nil
        }
        var endpoints: [BrokerURL] = []
        var failed = false
        for item in items {
            guard let text = item.scalarText, !item.isNull else {
                sink.error("entries of 'url' must be broker URLs, found \(item.isNull ? "an empty entry" : item.kindName)", at: item)
                failed = true
                continue
            }
            guard let endpoint = BrokerURL(text) else {
                sink.error("entries of 'url' \(rule), found '\(text)'", at: item)
                failed = true
                continue
            }
            if let first = endpoints.first, first.tls != endpoint.tls {
                sink.error(
                    "all nodes in 'url' must use the same scheme (they share TLS settings): '\(text)' differs from the first node's \(first.tls ? "mqtts://" : "mqtt://")",
                    at: item)
                failed = true
                continue
            }
            if endpoints.contains(where: { $0.host == endpoint.host && $0.port == endpoint.port }) {
                sink.error("'\(text)' is listed twice in 'url'", at: item)
                failed = true
                continue
            }
            endpoints.append(endpoint)
        }
        return failed || endpoints.isEmpty ? nil : endpoints
    }
}
