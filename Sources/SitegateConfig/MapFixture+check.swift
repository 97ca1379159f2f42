import SitegateCore

extension MapFixture {
    /// A golden case that does not hold for the map.
    public struct Mismatch: Sendable, Hashable, CustomStringConvertible {
        public var path: String
        public var message: String

        public var description: String { "\(path): error: \(message)" }
    }

    /// Each case whose point is unknown, whose register count is wrong, or that decodes to another value (numbers
    /// within the case's tolerance, else a millionth).
    public func mismatches(against map: DeviceMap, path: String) -> [Mismatch] {
        cases.compactMap { c in
            guard let point = map.point(c.point), point.length == c.registers.count else {
                return Mismatch(path: path, message: "case for '\(c.point)' names an unknown point or the wrong register count")
            }
            let decoded = RegisterDecoder.decode(c.registers, as: point)
            var ok = decoded == c.value
            if case .number(let v) = decoded, case .number(let e) = c.value {
                ok = abs(v - e) <= (c.tolerance ?? max(1e-9, abs(e) * 1e-6))
            }
            return ok ? nil : Mismatch(path: path, message: "'\(c.point)' decodes to \(decoded), the fixture expects \(c.value)")
        }
    }
}

/// `sitegate maps lint`: one map file checked as the library will load it, its id against its file name, and its
/// fixture (`<id>.fixture.yaml` next to it) against it.
public enum MapLint {
    public struct Report: Sendable {
        /// nil when the map does not load.
        public var map: DeviceMap?
        /// Every line to show, warnings included, in order.
        public var problems: [String]
        public var errors: Int
    }

    public static func check(file: String) -> Report {
        var problems: [String] = []
        var errors = 0
        let map: DeviceMap
        do {
            let (loaded, warnings) = try DeviceMapLoader.load(path: file)
            map = loaded
            problems += warnings.map(\.description)
        } catch {
            return Report(
                map: nil, problems: error.diagnostics.map(\.description),
                errors: error.diagnostics.filter { $0.severity == .error }.count)
        }
        let name = String(file.split(separator: "/").last ?? "")
        let stem = name.hasSuffix(".yaml") ? String(name.dropLast(5)) : name
        if map.id != stem {
            problems.append("\(file):1:1: error: map id '\(map.id)' does not match its file name '\(stem).yaml'")
            errors += 1
        }
        let fixturePath = String(file.dropLast(5)) + ".fixture.yaml"
        if TextFile.exists(fixturePath) {
            do {
                let mismatches = try MapFixture.load(path: fixturePath).mismatches(against: map, path: fixturePath)
                problems += mismatches.map(\.description)
                errors += mismatches.count
            } catch {
                problems += error.diagnostics.map(\.description)
                errors += error.diagnostics.count
            }
        }
        return Report(map: map, problems: problems, errors: errors)
    }
}
