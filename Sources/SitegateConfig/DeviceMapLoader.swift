import SitegateCore

/// Loads and validates one device map file (docs/devicemaps.md).
public enum DeviceMapLoader {
    static let topKeys = ["id", "manufacturer", "models", "medium", "version", "sources", "defaults", "points"]
    static let defaultKeys = ["function", "word_order", "vendor_numbering", "max_registers", "even_pairs", "min_delay"]
    static let pointKeys = [
        "id", "address", "vendor_register", "function", "type", "length", "word_order", "scale", "offset",
        "scale_register", "unit", "kind", "invalid", "obis", "description", "default", "verified", "range",
    ]

    /// Loads the map at `path`. Warnings are returned alongside; errors throw with every diagnostic.
    public static func load(path: String) throws(ConfigurationError) -> (map: DeviceMap, warnings: [Diagnostic]) {
        try parse(YAMLDocument.text(of: path), file: path)
    }

    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> (
        map: DeviceMap, warnings: [Diagnostic]
    ) {
        let (map, warnings) = try YAMLDocument.read(text, file: file, what: "the device map") { root, sink in
            read(root, file: file, sink: sink)
        }
        return (map, warnings)
    }

    static func read(_ root: YAMLNode, file: String, sink: DiagnosticSink) -> DeviceMap? {
        guard let top = MappingReader(root, context: "the device map", sink: sink) else { return nil }
        top.rejectUnknownKeys(allowed: topKeys)
        let id = top.identifier("id", rule: "use lowercase letters, digits and '-'", isValid: IDRules.isSlug)
        let manufacturer = top.string("manufacturer", required: true)
        let models = top.stringList("models", required: true)
        let medium = top.choice("medium", required: true, as: Medium.self)
        let version = top.int("version", required: true, range: 1...1_000_000)
        let sources = readSources(top, sink: sink)
        let defaults = readDefaults(top, sink: sink)
        var points: [PointDefinition] = []
        var pointNodes: [String: YAMLNode] = [:]
        if let items = top.list("points", required: true) {
            if items.isEmpty, let node = top.value("points") { sink.error("a device map needs at least one point", at: node) }
            for item in items {
                guard let point = readPoint(item, defaults: defaults, sink: sink) else { continue }
                if let earlier = pointNodes[point.id] {
                    sink.error(
                        "duplicate point id '\(point.id)' (first defined at line \(earlier.location.line))", at: item)
                    continue
                }
                pointNodes[point.id] = item
                points.append(point)
            }
        }
        checkLayout(points, nodes: pointNodes, defaults: defaults, sink: sink)
        guard let id, let manufacturer, let models, let medium, let version, let sources else { return nil }
        return DeviceMap(
            id: id, manufacturer: manufacturer, models: models, medium: medium, version: version, sources: sources,
            defaults: defaults, points: points, path: file)
    }

    private static func readSources(_ top: MappingReader, sink: DiagnosticSink) -> [MapSource]? {
        guard let items = top.list("sources", required: true) else { return nil }
        if items.isEmpty, let node = top.value("sources") {
            sink.error("a device map must cite at least one source document", at: node)
        }
        return items.compactMap { item in
            guard let m = MappingReader(item, context: "a source", sink: sink) else { return nil }
            m.rejectUnknownKeys(allowed: ["title", "version", "url", "pages"])
            guard let title = m.string("title", required: true) else { return nil }
            return MapSource(title: title, version: m.string("version"), url: m.string("url"), pages: m.string("pages"))
        }
    }

    private static func readDefaults(_ top: MappingReader, sink: DiagnosticSink) -> ProtocolDefaults {
        var defaults = ProtocolDefaults()
        guard let m = top.section("defaults", required: true, allowed: defaultKeys) else { return defaults }
        if let f = m.choice("function", required: true, as: RegisterFunction.self) { defaults.function = f }
        if let w = m.choice("word_order", as: WordOrder.self) { defaults.wordOrder = w }
        if let v = m.choice("vendor_numbering", required: true, as: VendorNumbering.self) { defaults.vendorNumbering = v }
        if let n = m.int("max_registers", required: true, range: 1...125) { defaults.maxRegisters = n }
        if let e = m.bool("even_pairs") { defaults.evenPairs = e }
        if let d = m.duration("min_delay") { defaults.minDelay = d }
        return defaults
    }

    private static func readPoint(_ item: YAMLNode, defaults: ProtocolDefaults, sink: DiagnosticSink)
        -> PointDefinition?
    {
        guard let m = MappingReader(item, context: "a point", sink: sink) else { return nil }
        m.rejectUnknownKeys(allowed: pointKeys)
        let id = m.identifier(
            "id", rule: "use lowercase letters, digits and '_', starting with a letter", isValid: IDRules.isPointID)
        let address = m.int("address", required: true, range: 0...65535)
        let function = m.choice("function", as: RegisterFunction.self) ?? defaults.function
        let type = m.choice("type", required: true, as: ValueType.self)
        let wordOrder = m.choice("word_order", as: WordOrder.self) ?? defaults.wordOrder
        let kind = m.choice("kind", required: true, as: PointKind.self)
        let description = m.string("description", required: true)
        let scale = m.double("scale") ?? 1
        let offset = m.double("offset") ?? 0
        let readByDefault = m.bool("default") ?? true
        let verified = m.bool("verified") ?? true
        let vendorRegister = m.int("vendor_register", range: 0...465_536)
        let scaleRegister = m.int("scale_register", range: 0...65535)
        let unit = m.string("unit")
        let obis = m.string("obis")
        var length = type?.fixedWidth
        if type == .string {
            length = m.int("length", required: true, range: 1...125)
        } else if m.has("length"), let node = m.value("length") {
            sink.error("'length' applies only to type string", at: node)
        }
        if scale == 0, let node = m.value("scale") { sink.error("'scale' must not be 0", at: node) }
        if let type {
            if type.isNumeric, unit == nil, let id {
                sink.error("point '\(id)' of type \(type.rawValue) needs a 'unit'", at: item)
            }
            if !type.isNumeric, let node = m.value("unit") {
                sink.error("type \(type.rawValue) carries no unit; remove 'unit'", at: node)
            }
        }
        if let unit, !SenMLUnits.isKnown(unit), let node = m.value("unit") {
            var message = "unit '\(unit)' is not a SenML unit (RFC 8428 or RFC 8798 registries)"
            if let hint = suggestion(for: unit, among: SenMLUnits.primary.union(SenMLUnits.secondary)) {
                message += "; did you mean '\(hint)'?"
            }
            sink.error(message, at: node)
        }
        if let obis, !isOBIS(obis), let node = m.value("obis") {
            sink.error("'obis' '\(obis)' is not an OBIS code of the form A-B:C.D.E", at: node)
        }
        if !verified && readByDefault {
            sink.error("an unverified point must not be read by default; add 'default: false'", at: item)
        }
        let invalid = readSentinels(m, sink: sink)
        let plausibleRange = readRange(m, numeric: type?.isNumeric, sink: sink)
        if let vendorRegister, let address, let node = m.value("vendor_register") {
            let expected = defaults.vendorNumbering.wireAddress(forVendorNumber: vendorRegister, function: function)
            if expected != address {
                let shown = expected.map { "wire address \(Hex.address($0))" } ?? "no wire address"
                sink.error(
                    "vendor_register \(vendorRegister) gives \(shown) with vendor_numbering "
                        + "\(defaults.vendorNumbering.rawValue) and function \(function.rawValue), "
                        + "but address is \(Hex.address(address))", at: node)
            }
        }
        guard let id, let address, let type, let kind, let description, let length else { return nil }
        return PointDefinition(
            id: id, address: address, vendorRegister: vendorRegister, function: function, type: type, length: length,
            wordOrder: wordOrder, scale: scale, offset: offset, scaleRegister: scaleRegister, unit: unit, kind: kind,
            invalid: invalid, obis: obis, description: description, readByDefault: readByDefault, verified: verified,
            plausibleRange: plausibleRange)
    }

    /// `range: [min, max]`: two numbers in the point's unit (after scale and offset), min below max.
    private static func readRange(_ m: MappingReader, numeric: Bool?, sink: DiagnosticSink) -> ClosedRange<Double>? {
        guard let node = m.value("range") else { return nil }
        guard case .sequence(let items, _) = node, items.count == 2 else {
            sink.error("'range' must be a list of two numbers, [min, max], in the point's unit", at: node)
            return nil
        }
        var bounds: [Double] = []
        for item in items {
            guard case .scalar(let text, true, _) = item, let n = MappingReader.parseNumber(text) else {
                sink.error("entries of 'range' must be numbers, found '\(item.scalarText ?? item.kindName)'", at: item)
                return nil
            }
            bounds.append(n)
        }
        guard bounds[0] < bounds[1] else {
            let shown = items.map { $0.scalarText ?? "" }.joined(separator: ", ")
            sink.error("'range' [\(shown)] must have min below max", at: node)
            return nil
        }
        if numeric == false {
            sink.error("'range' applies only to numeric types", at: node)
            return nil
        }
        return bounds[0]...bounds[1]
    }

    private static func readSentinels(_ m: MappingReader, sink: DiagnosticSink) -> [InvalidSentinel] {
        guard let items = m.list("invalid") else { return [] }
        return items.compactMap { item in
            guard case .scalar(let text, _, _) = item else {
                sink.error("entries of 'invalid' must be nan or a raw value such as 0xFFFF", at: item)
                return nil
            }
            if text.lowercased() == "nan" { return .nan }
            if let n = MappingReader.parseUInt64(text) { return .raw(n) }
            sink.error("'\(text)' is not a sentinel: use nan or a raw value such as 0xFFFF", at: item)
            return nil
        }
    }

    /// Overlaps, addresses past 65535, points longer than one read, odd alignment under even_pairs.
    private static func checkLayout(
        _ points: [PointDefinition], nodes: [String: YAMLNode], defaults: ProtocolDefaults, sink: DiagnosticSink
    ) {
        for function in RegisterFunction.allCases {
            let sorted = points.filter { $0.function == function }.sorted { $0.address < $1.address }
            for (a, b) in zip(sorted, sorted.dropFirst()) where b.address < a.endAddress {
                sink.error(
                    "point '\(b.id)' at \(Hex.address(b.address)) overlaps '\(a.id)' (\(Hex.address(a.address))...\(Hex.address(a.endAddress - 1)))",
                    at: nodes[b.id]!)
            }
        }
        for p in points {
            let node = nodes[p.id]!
            if p.endAddress > 65536 {
                sink.error("point '\(p.id)' runs past the last register address 0xFFFF", at: node)
            }
            if p.length > defaults.maxRegisters {
                sink.error(
                    "point '\(p.id)' needs \(p.length) registers, more than max_registers \(defaults.maxRegisters)",
                    at: node)
            }
            if defaults.evenPairs, p.length > 1, p.address % 2 != 0 {
                sink.error("point '\(p.id)' starts at odd address \(Hex.address(p.address)) but the map demands even pairs", at: node)
            }
        }
    }

    static func isOBIS(_ s: String) -> Bool {
        // A-B:C.D.E with decimal groups; C may also be a letter code such as C or F.
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let ab = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        let cde = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard ab.count == 2, (2...3).contains(cde.count) else { return false }
        return (ab + cde).allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0.isASCII && ($0.isNumber || $0.isLetter) } }
    }
}
