import SitegateCore

// The bus-load check that runs once the whole config has been read.
extension SiteConfigLoader {
    /// Refuses a bus whose schedules cannot work on any network; warns when the estimate says it is tight.
    static func checkBusLoad(_ config: SiteConfig, busNodes: [YAMLNode], sink: DiagnosticSink) {
        for (bus, node) in zip(config.buses, busNodes) {
            guard let finding = BusLoad(bus: bus, config: config).finding else { continue }
            switch finding.severity {
            case .error: sink.error(finding.message, at: node)
            case .warning: sink.warning(finding.message, at: node)
            }
        }
    }
}
