import SitegateCore

/// Loads a site config and the device maps it names, validating everything before anything runs.
public enum SiteConfigLoader {
    static let topKeys = ["site", "mqtt", "buffer", "maps", "buses", "devices", "log", "control_socket", "metrics", "evidence", "signing"]
    static let siteKeys = ["id", "gateway", "name", "location"]

    public struct Loaded: Sendable {
        public var config: SiteConfig
        public var warnings: [Diagnostic]
    }

    public static func load(path: String) throws(ConfigurationError) -> Loaded {
        try parse(YAMLDocument.text(of: path), file: path)
    }

    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> Loaded {
        var (config, warnings) = try YAMLDocument.read(text, file: file, what: "the config file") { root, sink in
            read(root, file: file, sink: sink)
        }
        config.sourceText = text
        return Loaded(config: config, warnings: warnings)
    }

    static func read(_ root: YAMLNode, file: String, sink: DiagnosticSink) -> SiteConfig? {
        guard let top = MappingReader(root, context: "the config", sink: sink) else { return nil }
        top.rejectUnknownKeys(allowed: topKeys)
        let baseDirectory = TextFile.directory(of: file)
        let site = readSite(top)
        let mqtt = readMQTT(top, base: baseDirectory, sink: sink)
        let buffer = readBuffer(top, base: baseDirectory, sink: sink)
        let signing = readSigning(top, base: baseDirectory, sink: sink)
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
        let logLevel = readLog(top)
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
        if let evidence = readEvidence(top, sink: sink) { config.evidence = evidence }
        config.signing = signing
        if !sink.hasErrors { checkBusLoad(config, busNodes: top.list("buses") ?? [], sink: sink) }
        return config
    }


    private static func readLog(_ top: MappingReader) -> LogLevel? {
        guard let m = top.section("log", allowed: ["level"]) else { return nil }
        return m.choice("level", as: LogLevel.self)
    }

    private static func readSite(_ top: MappingReader) -> SiteIdentity? {
        guard let m = top.section("site", required: true, allowed: siteKeys) else { return nil }
        let rule = "use lowercase letters, digits and '-'"
        let id = m.identifier("id", rule: rule, isValid: IDRules.isSlug)
        let gateway = m.identifier("gateway", rule: rule, isValid: IDRules.isSlug)
        guard let id, let gateway else { return nil }
        return SiteIdentity(id: id, gateway: gateway, name: m.string("name"), location: m.string("location"))
    }
}
