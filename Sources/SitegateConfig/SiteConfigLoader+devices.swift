import SitegateCore

// `devices:`: each meter, its map, its address on a bus and its poll groups.
extension SiteConfigLoader {
    static let deviceKeys = [
        "id", "bus", "unit", "model", "interval", "offset", "points", "groups", "serial", "word_order", "min_delay",
    ]
    static let groupKeys = ["name", "interval", "offset", "points"]

    static func readDevices(
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
