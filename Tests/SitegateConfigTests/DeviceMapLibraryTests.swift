import SitegateConfig
import SitegateCore
import SitegateTestSupport
import Testing

/// Every shipped map lints clean and decodes its golden fixture.
@Suite struct DeviceMapLibraryTests {
    static let library = MapLibrary(searchPaths: [TestEnvironment.shippedMaps])
    static let models = library.availableModels()

    @Test func libraryHasTheRequiredMaps() {
        #expect(Self.models.count >= 12)
        for required in ["eastron-sdm630", "eastron-sdm120", "carlogavazzi-em340", "abb-b23", "diehl-sharky775"] {
            #expect(Self.models.contains(required))
        }
    }

    @Test(arguments: models)
    func mapLoadsWithoutWarnings(model: String) throws {
        guard case .found(let map, let warnings) = Self.library.load(model) else {
            if case .invalid(let diagnostics) = Self.library.load(model) {
                Issue.record("\(diagnostics.map(\.description).joined(separator: "\n"))")
            } else {
                Issue.record("\(model) not found")
            }
            return
        }
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(!map.sources.isEmpty)
        #expect(map.points.allSatisfy { $0.verified || !$0.readByDefault })
    }

    @Test(arguments: models)
    func fixtureDecodes(model: String) throws {
        guard case .found(let map, _) = Self.library.load(model) else {
            Issue.record("\(model) does not load")
            return
        }
        let fixture = try MapFixture.load(path: "\(TestEnvironment.shippedMaps)/\(model).fixture.yaml")
        #expect(fixture.map == model)
        #expect(fixture.cases.count >= 3, "each map needs at least 3 fixture cases")
        for c in fixture.cases {
            guard let point = map.point(c.point) else {
                Issue.record("\(model): fixture names unknown point \(c.point)")
                continue
            }
            guard c.registers.count == point.length else {
                Issue.record("\(model).\(c.point): \(c.registers.count) registers given, point needs \(point.length)")
                continue
            }
            let decoded = RegisterDecoder.decode(c.registers, as: point)
            switch (decoded, c.value) {
            case (.number(let v), .number(let expected)):
                let tolerance = c.tolerance ?? max(1e-9, abs(expected) * 1e-6)
                #expect(abs(v - expected) <= tolerance, "\(model).\(c.point): \(v) != \(expected) (\(c.source))")
            default:
                #expect(decoded == c.value, "\(model).\(c.point) (\(c.source))")
            }
        }
    }

    @Test func brokenMapReportsEveryProblem() {
        let text = """
            id: broken
            manufacturer: Test
            models: [T1]
            medium: electricity
            version: 1
            sources: [{ title: "none" }]
            defaults: { function: input, vendor_numbering: modicon, max_registers: 60, even_pairs: true }
            points:
              - { id: a, address: 0x0000, vendor_register: 30002, type: f32, unit: V, kind: gauge, description: x }
              - { id: b, address: 0x0001, type: f32, unit: kWatt, kind: gauge, description: x }
              - { id: c, address: 0x0010, type: f32, kind: gauge, description: x }
              - { id: d, address: 0x0020, type: f32, unit: V, kind: gauge, description: x, verified: false }
              - { id: a, address: 0x0030, type: f32, unit: V, kind: gauge, description: x }
            """
        do {
            _ = try DeviceMapLoader.parse(text, file: "broken.yaml")
            Issue.record("expected errors")
        } catch {
            let all = error.diagnostics.map(\.description).joined(separator: "\n")
            for fragment in [
                "broken.yaml:9:48: error: vendor_register 30002 gives wire address 0x0001",
                "broken.yaml:10:48: error: unit 'kWatt' is not a SenML unit",
                "broken.yaml:10:5: error: point 'b' at 0x0001 overlaps 'a'",
                "broken.yaml:10:5: error: point 'b' starts at odd address 0x0001 but the map demands even pairs",
                "broken.yaml:11:5: error: point 'c' of type f32 needs a 'unit'",
                "broken.yaml:12:5: error: an unverified point must not be read by default",
                "broken.yaml:13:5: error: duplicate point id 'a'",
            ] {
                #expect(all.contains(fragment), "missing: \(fragment)\nin:\n\(all)")
            }
        }
    }

    /// `range: [min, max]`: read into the point, and every malformed form reported at its line and column.
    @Test func rangeIsReadAndValidated() throws {
        let header = """
            id: ranged
            manufacturer: Test
            models: [T1]
            medium: electricity
            version: 1
            sources: [{ title: "none" }]
            defaults: { function: input, vendor_numbering: wire, max_registers: 60 }
            points:

            """
        let good = try DeviceMapLoader.parse(
            header + "  - { id: v, address: 0, type: f32, unit: V, kind: gauge, range: [0, 289.5], description: x }\n"
                + "  - { id: e, address: 2, type: u32, unit: kWh, kind: counter, range: [-1e3, 0x10], description: x }\n",
            file: "ranged.yaml")
        #expect(good.map.point("v")?.plausibleRange == 0...289.5)
        #expect(good.map.point("e")?.plausibleRange == -1000...16)
        let bad = header + """
              - { id: a, address: 0, type: f32, unit: V, kind: gauge, range: 289, description: x }
              - { id: b, address: 2, type: f32, unit: V, kind: gauge, range: [0, 1, 2], description: x }
              - { id: c, address: 4, type: f32, unit: V, kind: gauge, range: [0, high], description: x }
              - { id: d, address: 6, type: f32, unit: V, kind: gauge, range: [300, 100], description: x }
              - { id: s, address: 8, type: string, length: 2, kind: state, range: [0, 1], description: x }
            """
        do {
            _ = try DeviceMapLoader.parse(bad, file: "ranged.yaml")
            Issue.record("expected errors")
        } catch {
            let all = error.diagnostics.map(\.description).joined(separator: "\n")
            for fragment in [
                "ranged.yaml:9:66: error: 'range' must be a list of two numbers, [min, max], in the point's unit",
                "ranged.yaml:10:66: error: 'range' must be a list of two numbers",
                "ranged.yaml:11:70: error: entries of 'range' must be numbers, found 'high'",
                "ranged.yaml:12:66: error: 'range' [300, 100] must have min below max",
                "ranged.yaml:13:71: error: 'range' applies only to numeric types",
            ] {
                #expect(all.contains(fragment), "missing: \(fragment)\nin:\n\(all)")
            }
        }
    }
}

/// Which config the completion of a device id reads, however the command line names it.
@Suite struct ShellCompletionTests {
    @Test(arguments: [
        (["sitegate", "read", "x", "-c", "a.yaml"], "a.yaml"),
        (["sitegate", "read", "-c", "a.yaml", "x"], "a.yaml"),
        (["sitegate", "read", "--config", "b.yaml", ""], "b.yaml"),
        (["sitegate", "read", "--config=c.yaml", ""], "c.yaml"),
        (["sitegate", "read", "-cd.yaml", ""], "d.yaml"),
        (["sitegate", "read", ""], "/etc/sitegate/site.yaml"),
        (["sitegate", "read", "-c", ""], "/etc/sitegate/site.yaml"),
    ])
    func theConfigOnTheLine(words: [String], expected: String) {
        #expect(ShellCompletion.configPath(in: words) == expected)
    }

    @Test func deviceIDsFromAConfigEvenWithErrorsElsewhere() throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        let path = "\(directory)/site.yaml"
        try writeFile(path, """
            site: { id: x }
            devices:
              - { id: grid-incomer, bus: nowhere, unit: 1, model: nothing }
              - id: pv-roof
              - { id: grid-export }
            """)
        #expect(ShellCompletion.deviceIDs(words: ["sitegate", "read", "", "-c", path], prefix: "") == ["grid-incomer", "pv-roof", "grid-export"])
        #expect(ShellCompletion.deviceIDs(words: ["sitegate", "read", "gr", "-c", path], prefix: "gr") == ["grid-incomer", "grid-export"])
        #expect(ShellCompletion.deviceIDs(words: ["sitegate", "read", "", "-c", "\(directory)/missing.yaml"], prefix: "").isEmpty)
        try writeFile(path, "devices: [unclosed")
        #expect(ShellCompletion.deviceIDs(words: ["sitegate", "read", "", "-c", path], prefix: "").isEmpty)
        #expect(ShellCompletion.currentWord(["sitegate", "read", "gr", "-c", path], index: 2) == "gr")
        #expect(ShellCompletion.currentWord(["sitegate"], index: 3) == "")
    }
}
