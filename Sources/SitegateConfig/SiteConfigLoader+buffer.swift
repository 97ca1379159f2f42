import SitegateCore

// `buffer:`: where the outbox lives and its size and age bounds.
extension SiteConfigLoader {
    static let bufferKeys = ["path", "durability", "max_size", "max_age", "when_full", "retain", "retain_size"]

    static func readBuffer(_ top: MappingReader, base: String, sink: DiagnosticSink) -> BufferSettings? {
        guard let m = top.section("buffer", required: true, allowed: bufferKeys) else { return nil }
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
        if let node = m.value("retain") {
            // `0` turns the archive off; otherwise a duration such as 7d.
            if node.scalarText == "0" {
                settings.retain = .zero
            } else if let retain = m.duration("retain") {
                settings.retain = retain
            }
        }
        if let node = m.value("retain_size") {
            if let text = node.scalarText, let bytes = ByteSizeNotation.parse(text), bytes <= settings.maxBytes {
                settings.retainBytes = bytes
            } else {
                sink.error(
                    "'retain_size' must be a size such as 32MiB, at most max_size (\(settings.maxBytes >> 20)MiB), found '\(node.scalarText ?? node.kindName)'",
                    at: node)
            }
        }
        return settings
    }
}
