import SitegateCore

/// Finds device maps by model id in an ordered list of folders; the first folder that has the file wins, so a
/// site-local folder listed first overrides the shipped maps.
public struct MapLibrary: Sendable {
    public var searchPaths: [String]

    public init(searchPaths: [String]) {
        self.searchPaths = searchPaths
    }

    public enum LoadResult: Sendable {
        case found(DeviceMap, warnings: [Diagnostic])
        case invalid([Diagnostic])
        case notFound
    }

    public func path(for model: String) -> String? {
        for folder in searchPaths {
            let candidate = "\(folder)/\(model).yaml"
            if TextFile.exists(candidate) { return candidate }
        }
        return nil
    }

    public func load(_ model: String) -> LoadResult {
        guard IDRules.isSlug(model), let path = path(for: model) else { return .notFound }
        do {
            let (map, warnings) = try DeviceMapLoader.load(path: path)
            if map.id != model {
                return .invalid([
                    Diagnostic(
                        .error, "map id '\(map.id)' does not match its file name '\(model).yaml'",
                        at: SourceLocation(file: path, line: 1, column: 1))
                ])
            }
            return .found(map, warnings: warnings)
        } catch {
            return .invalid(error.diagnostics)
        }
    }

    /// Model ids of every map file in the folders (fixtures excluded).
    public func availableModels() -> [String] {
        var seen: [String] = []
        for folder in searchPaths {
            for name in TextFile.list(folder) where name.hasSuffix(".yaml") && !name.hasSuffix(".fixture.yaml") {
                let id = String(name.dropLast(5))
                if !seen.contains(id) { seen.append(id) }
            }
        }
        return seen
    }
}
