import SitegateCore

extension SiteConfigLoader {
    static let metricsKeys = ["listen"]

    /// `metrics: { listen: 127.0.0.1:9464 }`: the optional loopback HTTP listener for Prometheus.
    static func readMetrics(_ top: MappingReader, sink: DiagnosticSink) -> MetricsListener? {
        guard let m = top.section("metrics", allowed: metricsKeys) else { return nil }
        guard let text = m.string("listen", required: true) else { return nil }
        guard let listener = MetricsListener(text) else {
            sink.error(
                "'listen' must be a loopback address and port such as 127.0.0.1:9464 or [::1]:9464, found '\(text)' "
                    + "(metrics are served to this box only; a scraper elsewhere reads them through a local agent)",
                at: m.value("listen")!)
            return nil
        }
        return listener
    }
}
