import SitegateConfig
import SitegateCore
import SitegateTestSupport
import Testing

/// `check` and `run` refuse only a schedule no network can serve (an RTU line's frames alone exceed the interval)
/// and warn about the rest; a map's `min_delay` is charged to RTU lines and TCP-to-RTU gateways only.
@Suite struct BusLoadCheckTests {
    static func config(bus: String, meters: Int, interval: String, deviceExtra: String = "") -> String {
        let devices = (1...meters).map {
            "  - { id: m\($0), bus: b, unit: \($0), model: eastron-sdm630, interval: \(interval)\(deviceExtra) }"
        }
        return """
            site: { id: demo, gateway: gw }
            mqtt: { url: "mqtt://127.0.0.1:1883" }
            buffer: { path: buffer.db }
            maps: [\(TestEnvironment.shippedMaps)]
            buses:
              - id: b
                \(bus)
            devices:
            \(devices.joined(separator: "\n"))

            """
    }

    static func load(_ text: String) -> Result<SiteConfigLoader.Loaded, ConfigurationError> {
        Result { () throws(ConfigurationError) in try SiteConfigLoader.parse(text, file: "/tmp/site.yaml") }
    }

    static func busWarnings(_ loaded: SiteConfigLoader.Loaded) -> [String] {
        loaded.warnings.map(\.description).filter { $0.contains("bus 'b'") }
    }

    @Test func hundredMetersBehindOneNativeTCPEndpointAtOneSecondLoadWithAWarning() throws {
        let loaded = try Self.load(Self.config(bus: "tcp: { host: 127.0.0.1, port: 1502 }", meters: 100, interval: "1s")).get()
        let warnings = Self.busWarnings(loaded)
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("estimated with 5 ms per TCP transaction") == true)
        #expect(warnings.first?.contains("sitegate status") == true)
    }

    @Test func aMapsMinDelayIsNotChargedToANativeTCPMeter() throws {
        // 20 SDM630s at 2 s: with the map's 100 ms charged this was refused; a native TCP endpoint has no RS-485 timing.
        let loaded = try Self.load(Self.config(bus: "tcp: { host: 127.0.0.1, port: 1502 }", meters: 20, interval: "2s")).get()
        #expect(Self.busWarnings(loaded).isEmpty)
        let config = loaded.config
        let load = BusLoad(bus: config.buses[0], config: config)
        #expect(load.wireUtilisation == 0)
        #expect(load.entries.allSatisfy { $0.plan.minDelay(on: config.buses[0]) == .zero })
    }

    @Test func aTCPToRTUGatewayIsChargedTheMapsMinDelayButOnlyWarned() throws {
        let bus = "tcp: { host: 127.0.0.1, port: 1502, rtu_gateway: true }"
        let loaded = try Self.load(Self.config(bus: bus, meters: 20, interval: "2s")).get()
        #expect(loaded.config.buses[0].rtuGateway)
        let warnings = Self.busWarnings(loaded)
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("may not keep up") == true)
        #expect(warnings.first?.contains("min_delay") == true)
        let load = BusLoad(bus: loaded.config.buses[0], config: loaded.config)
        #expect(load.entries.allSatisfy { $0.plan.minDelay(on: loaded.config.buses[0]) == .milliseconds(100) })
    }

    @Test func aDevicesOwnMinDelayAppliesOnAnyBus() throws {
        let loaded = try Self.load(
            Self.config(bus: "tcp: { host: 127.0.0.1, port: 1502 }", meters: 1, interval: "1s", deviceExtra: ", min_delay: 30ms")
        ).get()
        let load = BusLoad(bus: loaded.config.buses[0], config: loaded.config)
        #expect(load.entries[0].plan.minDelay(on: loaded.config.buses[0]) == .milliseconds(30))
    }

    @Test func anRTULineWhoseFramesAloneExceedTheIntervalIsRefused() throws {
        // 20 SDM630s at 9600 8E1 every second: about 150 ms of frames and silences per meter, 300% of the line.
        let bus = "rtu: { device: /dev/ttyUSB0, baud: 9600, parity: even }"
        switch Self.load(Self.config(bus: bus, meters: 20, interval: "1s")) {
        case .success: Issue.record("an RTU line that cannot carry its frames must be refused")
        case .failure(let error):
            let text = error.diagnostics.map(\.description).joined(separator: "\n")
            #expect(text.contains("/tmp/site.yaml:6:5: error: bus 'b' cannot serve its schedules: its frames alone need"))
            #expect(text.contains("split the bus"))
        }
    }

    @Test func anRTULineOverItsEstimateButWithinItsWireTimeIsOnlyWarned() throws {
        // The same line every 5 s: the frames need about 60%, the estimate with turnaround and min_delay over 100%.
        let bus = "rtu: { device: /dev/ttyUSB0, baud: 9600, parity: even }"
        let loaded = try Self.load(Self.config(bus: bus, meters: 20, interval: "5s")).get()
        let load = BusLoad(bus: loaded.config.buses[0], config: loaded.config)
        #expect(load.wireUtilisation > 0.4 && load.wireUtilisation < 1)
        #expect(load.utilisation > 1)
        let warnings = Self.busWarnings(loaded)
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("40 ms device turnaround") == true)
    }

    @Test func rtuGatewayIsATCPSetting() {
        let bus = "rtu: { device: /dev/ttyUSB0, rtu_gateway: true }"
        guard case .failure(let error) = Self.load(Self.config(bus: bus, meters: 1, interval: "10s")) else {
            Issue.record("rtu_gateway on an RTU bus must be refused")
            return
        }
        #expect(error.diagnostics.map(\.description).joined().contains("unknown key 'rtu_gateway'"))
    }
}
