import SitegateConfig
import SitegateCore
import SitegateTestSupport
import Testing

/// What `scan --write-config` writes, loaded back with the real loader.
@Suite struct DraftSiteConfigTests {
    static func draft(_ units: [DraftSiteConfig.Unit]) -> DraftSiteConfig {
        DraftSiteConfig(
            transport: .rtu(device: "/dev/serial/by-id/usb-FTDI 485", baud: 19200, parity: .even, dataBits: 8, stopBits: 1),
            units: units, mapFolders: [TestEnvironment.shippedMaps], interval: "15m",
            scannedAt: UnixTime(milliseconds: 1_767_225_600_000))
    }

    @Test func weakGuessesAndUnknownUnitsAreMarkedAndTheFileLoads() throws {
        let text = Self.draft([
            .init(unit: 1, model: "eastron-sdm630", plausible: 9, checked: 9, sample: "voltage_l1 230.1 V", alsoFits: []),
            .init(unit: 2, model: "carlogavazzi-em340", plausible: 2, checked: 7, sample: "", alsoFits: []),
            .init(unit: 3, model: "carlogavazzi-em24-din", plausible: 5, checked: 5, sample: "", alsoFits: ["x-other"]),
            .init(unit: 4, model: nil, plausible: 0, checked: 0, sample: "", alsoFits: []),
        ]).render()
        #expect(text.contains("# unit 1: eastron-sdm630, 9/9 values plausible (voltage_l1 230.1 V)\n  - id: unit-1"))
        #expect(!text.contains("# unit 1: eastron-sdm630, 9/9 values plausible (voltage_l1 230.1 V)\n  # CHECK: a weak"))
        #expect(text.contains("# unit 2: carlogavazzi-em340, 2/7 values plausible\n  # CHECK: a weak guess."))
        #expect(text.contains("# CHECK: a weak guess; fits as well: x-other."))
        #expect(text.contains("  # - id: unit-4\n"))
        // A path with a space is quoted; YAML reads JSON strings.
        #expect(text.contains(#"rtu: { device: "/dev/serial/by-id/usb-FTDI 485", baud: 19200, parity: even, "#))

        let directory = try TestEnvironment.makeTemporaryDirectory()
        try writeFile("\(directory)/draft.yaml", text)
        let loaded = try SiteConfigLoader.load(path: "\(directory)/draft.yaml").config
        #expect(loaded.devices.map(\.id) == ["unit-1", "unit-2", "unit-3"])
        #expect(loaded.devices.map(\.unit) == [1, 2, 3])
        #expect(loaded.buses.first?.transport == .rtu(device: "/dev/serial/by-id/usb-FTDI 485", baud: 19200, parity: .even, dataBits: 8, stopBits: 1))
    }
}
