import Foundation
import SitegateConfig
import SitegateCore
import SitegateTestSupport
import Testing

/// `sitegate maps lint`'s checks in-process: the id against the file name, and the golden fixture against the map.
@Suite struct MapLintTests {
    static let shipped = TestEnvironment.shippedMaps

    @Test func shippedMapsLintClean() {
        let report = MapLint.check(file: "\(Self.shipped)/eastron-sdm120.yaml")
        #expect(report.errors == 0 && report.problems.isEmpty, "\(report.problems)")
        #expect(report.map?.id == "eastron-sdm120")
    }

    @Test func fixtureMismatchesAreNamed() throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("lint")
        let map = try String(contentsOfFile: "\(Self.shipped)/eastron-sdm120.yaml", encoding: .utf8)
        try map.write(toFile: "\(dir)/eastron-sdm120.yaml", atomically: true, encoding: .utf8)
        try """
            map: eastron-sdm120
            cases:
              - { point: voltage, registers: [0x4366, 0x3334], value: 230.2, tolerance: 0.0001, source: "vendor" }
              - { point: voltage, registers: [0x4366, 0x3334], value: 231, source: "wrong on purpose" }
              - { point: nothing_here, registers: [0x0000], value: 1, source: "no such point" }
              - { point: voltage, registers: [0x4366], value: 230.2, source: "one word short" }
            """.write(toFile: "\(dir)/eastron-sdm120.fixture.yaml", atomically: true, encoding: .utf8)
        let report = MapLint.check(file: "\(dir)/eastron-sdm120.yaml")
        #expect(report.errors == 3, "\(report.problems)")
        #expect(report.problems.contains { $0.contains("'voltage' decodes to") && $0.contains("expects") })
        #expect(report.problems.filter { $0.contains("names an unknown point or the wrong register count") }.count == 2)
        #expect(report.problems.allSatisfy { $0.hasPrefix("\(dir)/eastron-sdm120.fixture.yaml: error: ") })
    }

    @Test func idMustMatchTheFileName() throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("lint-name")
        let map = try String(contentsOfFile: "\(Self.shipped)/eastron-sdm120.yaml", encoding: .utf8)
        try map.write(toFile: "\(dir)/renamed.yaml", atomically: true, encoding: .utf8)
        let report = MapLint.check(file: "\(dir)/renamed.yaml")
        #expect(report.errors == 1)
        #expect(report.problems == ["\(dir)/renamed.yaml:1:1: error: map id 'eastron-sdm120' does not match its file name 'renamed.yaml'"])
    }

    @Test func aMapThatDoesNotLoadCountsItsErrors() throws {
        let dir = try TestEnvironment.makeTemporaryDirectory("lint-bad")
        try "id: x\n".write(toFile: "\(dir)/x.yaml", atomically: true, encoding: .utf8)
        let report = MapLint.check(file: "\(dir)/x.yaml")
        #expect(report.map == nil && report.errors > 0 && report.problems.allSatisfy { $0.hasPrefix("\(dir)/x.yaml:") })
    }
}
