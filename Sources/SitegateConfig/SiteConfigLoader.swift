import SitegateCore

/// Loads a site config and the device maps it names, validating everything before anything runs.
public enum SiteConfigLoader {
    static let topKeys = ["site", "mqtt", "buffer", "maps", "buses", "devices", "log", "control_socket", "metrics"]
    static let siteKeys = ["id", "gateway", "name", "location"]
    static let mqttKeys = [
        "url", "topic_prefix", "client_id", "username", "password_file", "password_credential", "ca_file", "cert_file",
        "key_file", "key_credential", "tls_insecure", "keepalive", "inflight", "protocol", "health_interval",
        "reconnect_max",
    ]
    static let bufferKeys = ["path", "durability", "max_size", "max_age", "when_full"]
    static let busKeys = ["id", "tcp", "rtu", "response_timeout", "byte_timeout", "delay"]
    static let tcpKeys = ["host", "port"]
    static let rtuKeys = ["device", "baud", "parity", "data_bits", "stop_bits", "rs485"]
    static let deviceKeys = [
        "id", "bus", "unit", "model", "interval", "offset", "points", "groups", "serial", "word_order", "min_delay",
    ]
    static let groupKeys = ["name", "interval", "offset", "points"]

    public struct Loaded: Sendable {
        public var config: SiteConfig
        public var warnings: [Diagnostic]
    }

    public static func load(path: String) throws(ConfigurationError) -> Loaded {
        let text: String
        do { text = try TextFile.read(path) } catch {
            throw ConfigurationError(diagnostics: [
                Diagnostic(.error, error.reason, at: SourceLocation(file: path, line: 1, column: 1))
            ])
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> Loaded {
        guard let root = try YAMLParser.parse(text, file: file) else {
            throw ConfigurationError(diagnostics: [
                Diagnostic(.error, "the config file is empty", at: SourceLocation(file: file, line: 1, column: 1))
            ])
        }
        let sink = DiagnosticSink()
        let config = read(root, file: file, sink: sink)
        if sink.hasErrors || config == nil {
            throw ConfigurationError(diagnostics: sink.sorted)
        }
        return Loaded(config: config!, warnings: sink.sorted)
    }

    static func read(_ root: YAMLNode, file: String, sink: DiagnosticSink) -> SiteConfig? {
        guard let top = MappingReader(root, context: "the config", sink: sink) else { return nil }
        top.rejectUnknownKeys(allowed: topKeys)
        let baseDirectory = TextFile.directory(of: file)
        let site = readSite(top, sink: sink)
        let mqtt = readMQTT(top, base: baseDirectory, sink: sink)
        let buffer = readBuffer(top, base: baseDirectory, sink: sink)
        var searchPaths: [String] = []
        for item in top.list("maps", required: true) ?? [] {
            guard let text = item.scalarText else {
                sink.error("entries of 'maps' must be folder paths, found \(item.kindName)", at: item)
                continue
            }
            let path = TextFile.resolve(text, relativeTo: baseDirectory)
            if !TextFile.isDirectory(path) { sink.error("map folder '\(path)' does not exist", at: item) }
            searchPaths.append(path)
        }
        let logLevel = readLog(top, sink: sink)
        let buses = readBuses(top, sink: sink)
        let library = MapLibrary(searchPaths: searchPaths)
        var maps: [String: DeviceMap] = [:]
        let devices = readDevices(top, buses: buses, library: library, maps: &maps, sink: sink)
        guard let site, let mqtt, let buffer else { return nil }
        var config = SiteConfig(
            site: site, mqtt: mqtt, buffer: buffer, mapSearchPaths: searchPaths, buses: buses, devices: devices,
            maps: maps, path: file)
        config.logLevel = logLevel
        if let socket = top.string("control_socket") { config.controlSocket = TextFile.resolve(socket, relativeTo: baseDirectory) }
        config.metricsListener = readMetrics(top, sink: sink)
        if !sink.hasErrors { checkBusLoad(config, busNodes: top.list("buses") ?? [], sink: sink) }
        return config
    }

    /// An interval shorter than the bus can serve is an error (above 100% of bus time), a tight one a warning.
    private static func checkBusLoad(_ config: SiteConfig, busNodes: [YAMLNode], sink: DiagnosticSink) {
        for (bus, node) in zip(config.buses, busNodes) {
            let load = BusLoad(bus: bus, config: config)
            let percent = Int((load.utilisation * 100).rounded())
            let busiest = load.entries.max { $0.pollTime < $1.pollTime }
            let detail = busiest.map {
                "; e.g. device '\($0.deviceID)' needs \(Int(($0.pollTime * 1000).rounded())) ms per poll every "
                    + DurationNotation.format($0.interval)
            } ?? ""
            if load.utilisation > 1 {
                sink.error(
                    "bus '\(bus.id)' cannot serve its schedules: they need about \(percent)% of its time\(detail); "
                        + "lengthen intervals, read fewer points or split the bus (see sitegate plan)", at: node)
            } else if load.utilisation > 0.8 {
                sink.warning(
                    "bus '\(bus.id)' is \(percent)% busy with its schedules\(detail); a slow or dead device will make "
                        + "ticks late", at: node)
            }
        }
    }

    private static func readLog(_ top: MappingReader, sink: DiagnosticSink) -> LogLevel? {
        guard let node = top.value("log"), let m = MappingReader(node, context: "log", sink: sink) else { return nil }
        m.rejectUnknownKeys(allowed: ["level"])
        return m.choice("level", as: LogLevel.self)
    }

    private static func readSite(_ top: MappingReader, sink: DiagnosticSink) -> SiteIdentity? {
        guard let node = top.value("site", required: true), let m = MappingReader(node, context: "site", sink: sink)
        else { return nil }
        m.rejectUnknownKeys(allowed: siteKeys)
        let rule = "use lowercase letters, digits and '-'"
        let id = m.identifier("id", rule: rule, isValid: IDRules.isSlug)
        let gateway = m.identifier("gateway", rule: rule, isValid: IDRules.isSlug)
        guard let id, let gateway else { return nil }
        return SiteIdentity(id: id, gateway: gateway, name: m.string("name"), location: m.string("location"))
    }

    /// A secret given as a file path or as the name of a systemd credential, never inline.
    private static func secret(
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

    private static func readMQTT(_ top: MappingReader, base: String, sink: DiagnosticSink) -> MQTTSettings? {
        guard let node = top.value("mqtt", required: true), let m = MappingReader(node, context: "mqtt", sink: sink)
        else { return nil }
        m.rejectUnknownKeys(allowed: mqttKeys)
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
            sink.error("a client certificate needs both 'cert_file' and 'key_file' (or 'key_credential')", at: node)
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

    private static func readBuffer(_ top: MappingReader, base: String, sink: DiagnosticSink) -> BufferSettings? {
        guard let node = top.value("buffer", required: true),
            let m = MappingReader(node, context: "buffer", sink: sink)
        else { return nil }
        m.rejectUnknownKeys(allowed: bufferKeys)
        guard let path = m.string("path", required: true) else { return nil }
        var settings = BufferSettings(path: TextFile.resolve(path, relativeTo: base))
        if let d = m.choice("durability", as: Durability.self) { settings.durability = d }
        if let node = m.value("max_size") {
            if let text = node.scalarText, let bytes = ByteSizeNotation.parse(text), bytes >= 1 << 20 {
                settings.maxBytes = bytes
            } else {
                sink.error("'max_size' must be a size of at least 1MiB such as 64MiB or 2GiB, found '\(node.scalarText ?? node.kindName)'", at: node)
            }
        }
        if let age = m.duration("max_age") {
            if age < .seconds(3600) {
                sink.error("'max_age' must be at least 1h", at: m.value("max_age")!)
            } else {
                settings.maxAge = age
            }
        }
        if let policy = m.choice("when_full", as: BufferFullPolicy.self) { settings.whenFull = policy }
        return settings
    }

    private static func readBuses(_ top: MappingReader, sink: DiagnosticSink) -> [BusConfig] {
        var buses: [BusConfig] = []
        for item in top.list("buses", required: true) ?? [] {
            guard let m = MappingReader(item, context: "a bus", sink: sink) else { continue }
            m.rejectUnknownKeys(allowed: busKeys)
            let id = m.identifier("id", rule: "use lowercase letters, digits, '-' and '_'", isValid: IDRules.isName)
            var transport: BusTransport? = nil
            var rs485 = false
            switch (m.value("tcp"), m.value("rtu")) {
            case (let tcp?, nil):
                if let t = MappingReader(tcp, context: "tcp", sink: sink) {
                    t.rejectUnknownKeys(allowed: tcpKeys)
                    let host = t.string("host", required: true)
                    let port = t.int("port", range: 1...65535) ?? 502
                    if let host { transport = .tcp(host: host, port: port) }
                }
            case (nil, let rtu?):
                if let r = MappingReader(rtu, context: "rtu", sink: sink) {
                    r.rejectUnknownKeys(allowed: rtuKeys)
                    let device = r.string("device", required: true)
                    let baud = r.int("baud", range: 300...4_000_000) ?? 9600
                    let parity = r.choice("parity", as: Parity.self) ?? .none
                    let dataBits = r.int("data_bits", range: 5...8) ?? 8
                    let stopBits = r.int("stop_bits", range: 1...2) ?? 1
                    rs485 = r.bool("rs485") ?? false
                    if let device {
                        transport = .rtu(device: device, baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits)
                    }
                }
            case (_?, _?):
                sink.error("a bus is either 'tcp' or 'rtu', not both", at: item)
            case (nil, nil):
                sink.error("a bus needs 'tcp' (host, port) or 'rtu' (device, baud, ...)", at: item)
            }
            if let id, buses.contains(where: { $0.id == id }) {
                sink.error("duplicate bus id '\(id)'", at: m.value("id")!)
                continue
            }
            guard let id, let transport else { continue }
            var bus = BusConfig(id: id, transport: transport)
            bus.rs485 = rs485
            if let t = m.duration("response_timeout") { bus.responseTimeout = t }
            if let t = m.duration("byte_timeout") { bus.byteTimeout = t }
            if let d = m.duration("delay") { bus.delayBetweenRequests = d }
            buses.append(bus)
        }
        return buses
    }

    private static func readDevices(
        _ top: MappingReader, buses: [BusConfig], library: MapLibrary, maps: inout [String: DeviceMap],
        sink: DiagnosticSink
    ) -> [DeviceConfig] {
        var devices: [DeviceConfig] = []
        var addresses: [String: String] = [:]  // "bus/unit" -> device id
        var failedModels: [String: String] = [:]  // model -> the message its first use got
        for item in top.list("devices", required: true) ?? [] {
            guard let m = MappingReader(item, context: "a device", sink: sink) else { continue }
            m.rejectUnknownKeys(allowed: deviceKeys)
            let id = m.identifier("id", rule: "use lowercase letters, digits, '-' and '_'", isValid: IDRules.isName)
            let busID = m.string("bus", required: true)
            let model = m.string("model", required: true)
            var bus: BusConfig? = nil
            if let busID {
                bus = buses.first { $0.id == busID }
                if bus == nil {
                    var message = "device '\(id ?? "?")' is on unknown bus '\(busID)'"
                    if let hint = suggestion(for: busID, among: buses.map(\.id)) { message += "; did you mean '\(hint)'?" }
                    sink.error(message, at: m.value("bus")!)
                }
            }
            var unitRange = 1...247
            if case .tcp = bus?.transport { unitRange = 0...255 }
            let unit = m.int("unit", required: true, range: unitRange)
            if let id, devices.contains(where: { $0.id == id }) {
                sink.error("duplicate device id '\(id)'", at: m.value("id")!)
            }
            if let busID, let unit, bus != nil {
                let key = "\(busID)/\(unit)"
                if let other = addresses[key] {
                    sink.error("unit \(unit) on bus '\(busID)' is already used by device '\(other)'", at: m.value("unit")!)
                } else if let id {
                    addresses[key] = id
                }
            }
            var map: DeviceMap? = nil
            if let model {
                if let cached = maps[model] {
                    map = cached
                } else if let message = failedModels[model] {
                    sink.error(message, at: m.value("model")!)
                } else {
                    switch library.load(model) {
                    case .found(let loaded, let warnings):
                        map = loaded
                        maps[model] = loaded
                        sink.append(contentsOf: warnings)
                    case .invalid(let diagnostics):
                        let message = "device map '\(model)' has errors (listed with its file)"
                        failedModels[model] = message
                        sink.error(message, at: m.value("model")!)
                        sink.append(contentsOf: diagnostics)
                    case .notFound:
                        var message = "unknown model '\(model)': no \(model).yaml in the map folders"
                        if let hint = suggestion(for: model, among: library.availableModels()) {
                            message += "; did you mean '\(hint)'?"
                        }
                        failedModels[model] = message
                        sink.error(message, at: m.value("model")!)
                    }
                }
            }
            let groups = readGroups(m, deviceID: id ?? "?", map: map, sink: sink)
            let wordOrder = m.choice("word_order", as: WordOrder.self)
            let minDelay = m.duration("min_delay")
            guard let id, let busID, bus != nil, let unit, let model, map != nil, let groups else { continue }
            devices.append(
                DeviceConfig(
                    id: id, busID: busID, unit: unit, model: model, groups: groups, serialNumber: m.string("serial"),
                    wordOrder: wordOrder, minDelay: minDelay))
        }
        return devices
    }

    /// Either one `interval` (with an optional `points` subset) or a list of `groups`, each with its own interval.
    private static func readGroups(_ m: MappingReader, deviceID: String, map: DeviceMap?, sink: DiagnosticSink)
        -> [PollGroup]?
    {
        let defaultPoints = map?.points.filter(\.readByDefault).map(\.id) ?? []
        func checkPoints(_ ids: [String], node: YAMLNode?) -> [String]? {
            guard let map else { return ids }
            var ok = true
            for (index, pid) in ids.enumerated() where map.point(pid) == nil {
                ok = false
                var message = "device '\(deviceID)': map '\(map.id)' has no point '\(pid)'"
                if let hint = suggestion(for: pid, among: map.points.map(\.id)) { message += "; did you mean '\(hint)'?" }
                let at: YAMLNode? = {
                    if case .sequence(let items, _)? = node, index < items.count { return items[index] }
                    return node
                }()
                if let at { sink.error(message, at: at) }
            }
            for (index, pid) in ids.enumerated() {
                guard let point = map.point(pid), !point.verified else { continue }
                if case .sequence(let items, _)? = node, index < items.count {
                    sink.warning(
                        "device '\(deviceID)': point '\(pid)' of map '\(map.id)' is not verified against a vendor "
                            + "document; check its values against the meter's display", at: items[index])
                }
            }
            return ok ? ids : nil
        }
        func checkInterval(_ d: Duration?, key: String, in reader: MappingReader) -> Duration? {
            guard let d else { return nil }
            if d < .milliseconds(100) {
                sink.error("'\(key)' \(DurationNotation.format(d)) is shorter than the 100ms minimum", at: reader.value(key)!)
                return nil
            }
            return d
        }
        if let groupNodes = m.list("groups") {
            for key in ["interval", "points", "offset"] where m.has(key) {
                sink.error(
                    key == "interval"
                        ? "use either 'interval' or 'groups', not both"
                        : "with 'groups', put '\(key)' in each group, not on the device", at: m.keyNode(key)!)
            }
            if groupNodes.isEmpty, let node = m.value("groups") { sink.error("'groups' must not be empty", at: node) }
            var groups: [PollGroup] = []
            for (index, node) in groupNodes.enumerated() {
                guard let g = MappingReader(node, context: "a point group", sink: sink) else { continue }
                g.rejectUnknownKeys(allowed: groupKeys)
                let interval = checkInterval(g.duration("interval", required: true), key: "interval", in: g)
                let points = g.stringList("points", required: true).flatMap { checkPoints($0, node: g.value("points")) }
                let name = g.string("name") ?? "group\(index + 1)"
                guard let interval, let points else { continue }
                groups.append(PollGroup(name: name, interval: interval, offset: g.duration("offset") ?? .zero, pointIDs: points))
            }
            return groups.count == groupNodes.count ? groups : nil
        }
        let interval = checkInterval(m.duration("interval", required: true), key: "interval", in: m)
        var points = defaultPoints
        if let subset = m.stringList("points") {
            guard let checked = checkPoints(subset, node: m.value("points")) else { return nil }
            points = checked
        }
        if points.isEmpty, let map, let node = m.value("model") {
            sink.error(
                "device '\(deviceID)' reads nothing: map '\(map.id)' has no points read by default; list them under 'points'",
                at: node)
            return nil
        }
        guard let interval else { return nil }
        return [PollGroup(name: "default", interval: interval, offset: m.duration("offset") ?? .zero, pointIDs: points)]
    }
}

/// `mqtt://host:port` or `mqtts://host:port`; the port defaults to 1883 or 8883.
public struct BrokerURL: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var tls: Bool

    public init?(_ text: String) {
        let rest: Substring
        if text.hasPrefix("mqtt://") {
            tls = false
            rest = text.dropFirst(7)
        } else if text.hasPrefix("mqtts://") {
            tls = true
            rest = text.dropFirst(8)
        } else {
            return nil
        }
        let hostPort = rest.hasSuffix("/") ? rest.dropLast() : rest
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { return nil }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.isEmpty {
                port = tls ? 8883 : 1883
            } else {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
        } else {
            host = String(hostPort)
            port = tls ? 8883 : 1883
        }
        if host.isEmpty || host.contains("/") || host.contains("@") { return nil }
    }
}
