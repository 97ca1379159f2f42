import ArgumentParser
import SitegateConfig
import SitegateCore

struct MapsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maps",
        abstract: "List, show and lint device maps.",
        subcommands: [List.self, Show.self, Lint.self]
    )

    struct Folders: ParsableArguments {
        @Option(
            name: .customLong("maps"), help: "A folder of device maps; repeat to search several, first wins.",
            completion: .directory)
        var folders: [String] = []

        static let defaultPaths = ["devicemaps/models", "/usr/share/sitegate/devicemaps/models"]
        var searchPaths: [String] { folders.isEmpty ? Self.defaultPaths : folders }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the device maps in the map folders.",
            discussion: "Example:\n  sitegate maps list --maps /usr/share/sitegate/devicemaps/models")

        @OptionGroup var folders: Folders

        func run() throws {
            let library = MapLibrary(searchPaths: folders.searchPaths)
            var rows: [[String]] = [["MODEL", "MANUFACTURER", "MEDIUM", "POINTS", "DEFAULT", "MODELS COVERED"]]
            var failed = false
            for model in library.availableModels() {
                switch library.load(model) {
                case .found(let map, _):
                    rows.append([
                        map.id, map.manufacturer, map.medium.rawValue, String(map.points.count),
                        String(map.points.filter(\.readByDefault).count), map.models.joined(separator: ", "),
                    ])
                case .invalid(let diagnostics):
                    failed = true
                    rows.append([model, "(invalid: \(diagnostics.count) errors, see sitegate maps lint)", "", "", "", ""])
                case .notFound:
                    break
                }
            }
            print(Table.render(rows))
            if failed { throw ExitCode(ConfigurationError.exitCode) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one device map's points with their addresses, types and units.",
            discussion: "Example:\n  sitegate maps show eastron-sdm630")

        @Argument(
            help: "The map id, e.g. eastron-sdm630.",
            completion: .custom { words, index, _ in
                // The folders given with --maps on the line, else the defaults.
                let given = zip(words, words.dropFirst()).filter { $0.0 == "--maps" }.map(\.1)
                let folders = given.isEmpty ? Folders.defaultPaths : given
                return ShellCompletion.mapIDs(folders: folders, prefix: ShellCompletion.currentWord(words, index: index))
            })
        var model: String

        @OptionGroup var folders: Folders

        func run() throws {
            let library = MapLibrary(searchPaths: folders.searchPaths)
            switch library.load(model) {
            case .notFound:
                throw ValidationError("no device map '\(model)' in \(folders.searchPaths.joined(separator: ", "))")
            case .invalid(let diagnostics):
                for d in diagnostics { printError(d.description) }
                throw ExitCode(ConfigurationError.exitCode)
            case .found(let map, _):
                print("\(map.id) (version \(map.version)): \(map.manufacturer) \(map.models.joined(separator: ", "))")
                print("medium: \(map.medium.rawValue); file: \(map.path)")
                let d = map.defaults
                print(
                    "defaults: \(d.function.rawValue) registers, word order \(d.wordOrder.rawValue), at most "
                        + "\(d.maxRegisters) per read\(d.evenPairs ? ", even pairs only" : ""), "
                        + "\(DurationNotation.format(d.minDelay)) between requests")
                for source in map.sources {
                    print("source: \(source.title)\(source.version.map { " \($0)" } ?? "")\(source.url.map { " <\($0)>" } ?? "")")
                }
                var rows: [[String]] = [[
                    "POINT", "ADDRESS", "VENDOR", "FN", "TYPE", "ORDER", "SCALE", "UNIT", "RANGE", "KIND", "DEFAULT",
                    "DESCRIPTION",
                ]]
                for p in map.points {
                    rows.append([
                        p.id, Hex.address(p.address), p.vendorRegister.map(String.init) ?? "", p.function.rawValue,
                        p.type.rawValue + (p.type == .string ? "[\(p.length)]" : ""), p.length > 1 ? p.wordOrder.rawValue : "",
                        p.scale == 1 ? "" : "\(p.scale)", p.unit ?? "",
                        p.plausibleRange.map { "\(Self.number($0.lowerBound))...\(Self.number($0.upperBound))" } ?? "",
                        p.kind.rawValue,
                        p.readByDefault ? "yes" : (p.verified ? "no" : "no (unverified)"), p.description,
                    ])
                }
                print(Table.render(rows))
            }
        }

        /// 289 rather than 289.0.
        static func number(_ v: Double) -> String {
            v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check device map files; prints file:line:column: error: ... and exits 78 on errors.",
            discussion: "Example:\n  sitegate maps lint devicemaps/models/*.yaml")

        @Argument(
            help: "Map files to check (fixture files are checked against their map).",
            completion: .file(extensions: ["yaml", "yml"]))
        var files: [String]

        func run() throws {
            var errors = 0
            for file in files where !file.hasSuffix(".fixture.yaml") {
                let report = MapLint.check(file: file)
                for line in report.problems { printError(line) }
                errors += report.errors
                if let map = report.map, errors == 0 { print("\(file): ok (\(map.points.count) points)") }
            }
            if errors > 0 { throw ExitCode(ConfigurationError.exitCode) }
        }
    }
}
