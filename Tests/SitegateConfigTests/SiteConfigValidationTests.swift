import SitegateConfig
import SitegateCore
import SitegateTestSupport
import Testing

/// Every broken config must produce the right `file:line:column` message; a good one must load.
@Suite struct SiteConfigValidationTests {
    static let maps = TestEnvironment.shippedMaps

    /// A valid config; each case replaces one line (or appends lines) to break it.
    static let valid = """
        site:
          id: demo-park
          gateway: gw01
        mqtt:
          url: mqtt://127.0.0.1:1883
          topic_prefix: gia/v1
        buffer:
          path: buffer.db
        maps:
          - \(maps)
        buses:
          - id: plant-lan
            tcp: { host: 127.0.0.1, port: 1502 }
          - id: rs485-a
            rtu: { device: /dev/ttyUSB0, baud: 9600, parity: even }
        devices:
          - id: main-incomer
            bus: plant-lan
            unit: 1
            model: eastron-sdm630
            interval: 10s

        """

    static func loadText(_ text: String) -> Result<SiteConfigLoader.Loaded, ConfigurationError> {
        Result { () throws(ConfigurationError) in try SiteConfigLoader.parse(text, file: "/tmp/site.yaml") }
    }

    @Test func validConfigLoads() throws {
        let loaded = try Self.loadText(Self.valid).get()
        #expect(loaded.config.devices.count == 1)
        #expect(loaded.config.buffer.path == "/tmp/buffer.db")
        #expect(loaded.config.mqtt.port == 1883)
        #expect(loaded.config.devices[0].groups[0].pointIDs.count == 15)
        #expect(loaded.config.buses[1].transport == .rtu(device: "/dev/ttyUSB0", baud: 9600, parity: .even, dataBits: 8, stopBits: 1))
    }

    @Test func metricsListenerLoads() throws {
        let text = Self.valid.replacingFirst("buffer:\n", with: "metrics:\n  listen: 127.0.0.1:9464\nbuffer:\n")
        let loaded = try Self.loadText(text).get()
        #expect(loaded.config.metricsListener == MetricsListener("127.0.0.1:9464"))
        #expect(try Self.loadText(Self.valid).get().config.metricsListener == nil)
    }

    /// `evidence.slot` loads; a config without `evidence` (every config before it) gets 15-minute slots.
    @Test func evidenceSlotLoads() throws {
        let text = Self.valid.replacingFirst("buffer:\n", with: "evidence: { slot: 30s }\nbuffer:\n")
        #expect(try Self.loadText(text).get().config.evidence.slots.length == .seconds(30))
        let old = try Self.loadText(Self.valid).get().config
        #expect(old.evidence.slots.length == .seconds(900))
        #expect(old.sourceText == Self.valid, "the text its config_hash is computed from")
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var replace: String
        var with: String
        var expected: String  // "line:column: error: message fragment"
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "unknown top-level key", replace: "buffer:\n", with: "bufer:\n",
             expected: "7:1: error: unknown key 'bufer' in the config; did you mean 'buffer'?"),
        Case(name: "missing site id", replace: "  id: demo-park\n", with: "",
             expected: "2:3: error: missing key 'id' in site"),
        Case(name: "bad site id", replace: "id: demo-park", with: "id: Demo_Park",
             expected: "2:7: error: 'id' 'Demo_Park' is not valid"),
        Case(name: "unknown site key", replace: "  gateway: gw01\n", with: "  gateway: gw01\n  gatway: x\n",
             expected: "4:3: error: unknown key 'gatway' in site; did you mean 'gateway'?"),
        Case(name: "empty broker list", replace: "  url: mqtt://127.0.0.1:1883", with: "  url: []",
             expected: "5:8: error: 'url' lists no broker"),
        Case(name: "broker list with a non-string entry", replace: "  url: mqtt://127.0.0.1:1883",
             with: "  url:\n    - mqtt://a:1883\n    - { host: b }",
             expected: "7:7: error: entries of 'url' must be broker URLs, found a mapping"),
        Case(name: "broker list with an empty entry", replace: "  url: mqtt://127.0.0.1:1883",
             with: "  url:\n    - mqtt://a:1883\n    -",
             expected: "error: entries of 'url' must be broker URLs, found an empty entry"),
        Case(name: "broker list with mixed schemes", replace: "  url: mqtt://127.0.0.1:1883",
             with: "  url:\n    - mqtts://a:8883\n    - mqtt://b:1883",
             expected: "7:7: error: all nodes in 'url' must use the same scheme (they share TLS settings)"),
        Case(name: "broker list with a bad url", replace: "  url: mqtt://127.0.0.1:1883",
             with: "  url: [mqtt://a:1883, \"b:1883\"]",
             expected: "5:24: error: entries of 'url' must look like mqtt://host:1883"),
        Case(name: "broker listed twice", replace: "  url: mqtt://127.0.0.1:1883",
             with: "  url: [mqtt://a:1883, mqtt://a]",
             expected: "5:24: error: 'mqtt://a' is listed twice in 'url'"),
        Case(name: "broker url as a mapping", replace: "  url: mqtt://127.0.0.1:1883", with: "  url: { host: a }",
             expected: "5:8: error: 'url' must be a broker URL or a list of them"),
        Case(name: "bad broker url", replace: "mqtt://127.0.0.1:1883", with: "http://broker",
             expected: "5:8: error: 'url' must look like mqtt://host:1883"),
        Case(name: "bad broker port", replace: "mqtt://127.0.0.1:1883", with: "mqtt://127.0.0.1:99999",
             expected: "5:8: error: 'url' must look like"),
        Case(name: "wildcard in topic prefix", replace: "gia/v1", with: "gia/#",
             expected: "6:17: error: 'topic_prefix' must be topic levels"),
        Case(name: "missing buffer path", replace: "  path: buffer.db\n", with: "  durability: full\n",
             expected: "8:3: error: missing key 'path' in buffer"),
        Case(name: "bad durability", replace: "  path: buffer.db\n", with: "  path: buffer.db\n  durability: sometimes\n",
             expected: "9:15: error: 'durability' must be one of full, normal"),
        Case(name: "missing map folder", replace: "  - \(maps)\n", with: "  - /nonexistent/maps\n",
             expected: "10:5: error: map folder '/nonexistent/maps' does not exist"),
        Case(name: "bus with both transports", replace: "    tcp: { host: 127.0.0.1, port: 1502 }\n",
             with: "    tcp: { host: 127.0.0.1, port: 1502 }\n    rtu: { device: /dev/ttyUSB1 }\n",
             expected: "12:5: error: a bus is either 'tcp' or 'rtu', not both"),
        Case(name: "bus with no transport", replace: "    tcp: { host: 127.0.0.1, port: 1502 }\n", with: "",
             expected: "12:5: error: a bus needs 'tcp' (host, port) or 'rtu'"),
        Case(name: "tcp port out of range", replace: "port: 1502", with: "port: 70000",
             expected: "13:35: error: 'port' is 70000, outside 1...65535"),
        Case(name: "bad parity", replace: "parity: even", with: "parity: evem",
             expected: "15:54: error: 'parity' must be one of none, even, odd; found 'evem'; did you mean 'even'?"),
        Case(name: "duplicate bus id", replace: "  - id: rs485-a\n", with: "  - id: plant-lan\n",
             expected: "14:9: error: duplicate bus id 'plant-lan'"),
        Case(name: "device on unknown bus", replace: "    bus: plant-lan\n", with: "    bus: plant-lam\n",
             expected: "18:10: error: device 'main-incomer' is on unknown bus 'plant-lam'; did you mean 'plant-lan'?"),
        Case(name: "unit id out of range on RTU", replace: "    bus: plant-lan\n    unit: 1\n", with: "    bus: rs485-a\n    unit: 248\n",
             expected: "19:11: error: 'unit' is 248, outside 1...247"),
        Case(name: "unknown model", replace: "model: eastron-sdm630", with: "model: eastron-sdm603",
             expected: "20:12: error: unknown model 'eastron-sdm603': no eastron-sdm603.yaml in the map folders; did you mean 'eastron-sdm630'?"),
        Case(name: "interval is not a duration", replace: "interval: 10s", with: "interval: 10 seconds",
             expected: "21:15: error: 'interval' must be a duration such as 500ms"),
        Case(name: "interval too short", replace: "interval: 10s", with: "interval: 50ms",
             expected: "21:15: error: 'interval' 50ms is shorter than the 100ms minimum"),
        Case(name: "unknown point in subset", replace: "    interval: 10s\n", with: "    interval: 10s\n    points: [voltage_l1, voltage_l4]\n",
             expected: "22:26: error: device 'main-incomer': map 'eastron-sdm630' has no point 'voltage_l4'; did you mean 'voltage_l1'?"),
        Case(name: "unknown device key", replace: "    unit: 1\n", with: "    unit: 1\n    slave: 1\n",
             expected: "20:5: error: unknown key 'slave' in a device"),
        Case(name: "interval and groups together", replace: "    interval: 10s\n",
             with: "    interval: 10s\n    groups:\n      - { interval: 15m, points: [energy_import] }\n",
             expected: "21:5: error: use either 'interval' or 'groups', not both"),
        Case(name: "unit is not a number", replace: "unit: 1", with: "unit: one",
             expected: "19:11: error: 'unit' must be a whole number, found 'one'"),
        Case(name: "duplicate device unit on a bus",
             replace: "    interval: 10s\n",
             with: "    interval: 10s\n  - id: second\n    bus: plant-lan\n    unit: 1\n    model: eastron-sdm630\n    interval: 10s\n",
             expected: "24:11: error: unit 1 on bus 'plant-lan' is already used by device 'main-incomer'"),
        Case(name: "duplicate device id",
             replace: "    interval: 10s\n",
             with: "    interval: 10s\n  - id: main-incomer\n    bus: plant-lan\n    unit: 2\n    model: eastron-sdm630\n    interval: 10s\n",
             expected: "22:9: error: duplicate device id 'main-incomer'"),
        Case(name: "duplicate key", replace: "  gateway: gw01\n", with: "  gateway: gw01\n  gateway: gw02\n",
             expected: "4:3: error: duplicate key 'gateway' in site"),
        Case(name: "devices is not a list", replace: "devices:\n", with: "devices: none\nx:\n",
             expected: "16:10: error: 'devices' must be a list, found a scalar"),
        Case(name: "YAML syntax error", replace: "    tcp: { host: 127.0.0.1, port: 1502 }\n", with: "    tcp: { host: 127.0.0.1, port: 1502\n",
             expected: "error: YAML:"),
        Case(name: "keepalive too short", replace: "  topic_prefix: gia/v1\n", with: "  topic_prefix: gia/v1\n  keepalive: 2s\n",
             expected: "7:14: error: 'keepalive' must be between 5s and 65535s"),
        Case(name: "points beside groups", replace: "    interval: 10s\n",
             with: "    points: [power]\n    groups:\n      - { interval: 15m, points: [energy_import] }\n",
             expected: "21:5: error: with 'groups', put 'points' in each group, not on the device"),
        Case(name: "device reads nothing", replace: "model: eastron-sdm630", with: "model: eastron-sdm72dm-v2",
             expected: "20:12: error: device 'main-incomer' reads nothing: map 'eastron-sdm72dm-v2' has no points read by default"),
        Case(name: "bad log level", replace: "buffer:\n", with: "log: { level: loud }\nbuffer:\n",
             expected: "7:15: error: 'level' must be one of trace, debug, info"),
        Case(name: "buffer too small", replace: "  path: buffer.db\n", with: "  path: buffer.db\n  max_size: 10KiB\n",
             expected: "9:13: error: 'max_size' must be a size of at least 1MiB"),
        Case(name: "bad full policy", replace: "  path: buffer.db\n", with: "  path: buffer.db\n  when_full: drop_newest\n",
             expected: "9:14: error: 'when_full' must be one of drop_oldest, pause"),
        Case(name: "YAML alias", replace: "  gateway: gw01\n", with: "  gateway: &g gw01\n  name: *g\n",
             expected: "3:12: error: YAML anchors (&name) are not supported"),
        Case(name: "metrics on the network", replace: "buffer:\n", with: "metrics: { listen: 0.0.0.0:9464 }\nbuffer:\n",
             expected: "7:20: error: 'listen' must be a loopback address and port such as 127.0.0.1:9464"),
        Case(name: "metrics without listen", replace: "buffer:\n", with: "metrics: {}\nbuffer:\n",
             expected: "7:10: error: missing key 'listen' in metrics"),
        Case(name: "slot that does not divide a day", replace: "buffer:\n", with: "evidence: { slot: 7m }\nbuffer:\n",
             expected: "7:19: error: 'slot' must be a whole number of seconds that divides 24h"),
        Case(name: "slot below a second", replace: "buffer:\n", with: "evidence: { slot: 500ms }\nbuffer:\n",
             expected: "7:19: error: 'slot' must be a whole number of seconds that divides 24h"),
        Case(name: "unknown evidence key", replace: "buffer:\n", with: "evidence: { slots: 15m }\nbuffer:\n",
             expected: "7:13: error: unknown key 'slots' in evidence; did you mean 'slot'?"),
        Case(name: "unknown metrics key", replace: "buffer:\n", with: "metrics: { listen: 127.0.0.1:9464, path: /m }\nbuffer:\n",
             expected: "7:36: error: unknown key 'path' in metrics"),
    ]

    /// A list of nodes loads in order; a single string loads exactly as before (one node).
    @Test func brokerListLoads() throws {
        let list = Self.valid.replacingFirst(
            "  url: mqtt://127.0.0.1:1883", with: "  url:\n    - mqtts://node-a.example:8883\n    - mqtts://[fd00::2]")
        let mqtt = try Self.loadText(list).get().config.mqtt
        #expect(mqtt.nodes == [BrokerNode(host: "node-a.example", port: 8883), BrokerNode(host: "fd00::2", port: 8883)])
        #expect(mqtt.useTLS && mqtt.host == "node-a.example")
        #expect(mqtt.url(ofNode: 1) == "mqtts://[fd00::2]:8883")
        let single = try Self.loadText(Self.valid).get().config.mqtt
        #expect(single.nodes == [BrokerNode(host: "127.0.0.1", port: 1883)])
    }

    @Test(arguments: cases)
    func invalidConfigIsReported(c: Case) throws {
        #expect(Self.valid.contains(c.replace), "the case's anchor text must be in the valid config")
        let text = Self.valid.replacingFirst(c.replace, with: c.with)
        switch Self.loadText(text) {
        case .success:
            Issue.record("expected an error containing '\(c.expected)'")
        case .failure(let error):
            let lines = error.diagnostics.map(\.description)
            #expect(
                lines.contains { $0.hasPrefix("/tmp/site.yaml:") && $0.contains(c.expected) },
                "got:\n\(lines.joined(separator: "\n"))")
        }
    }

    @Test func everyProblemIsReportedAtOnce() {
        let text = Self.valid.replacingFirst("gateway: gw01", with: "gateway: GW").replacingFirst("unit: 1", with: "unit: 0x1FF")
            .replacingFirst("interval: 10s", with: "interval: soon")
        guard case .failure(let error) = Self.loadText(text) else {
            Issue.record("expected errors")
            return
        }
        #expect(error.diagnostics.count == 3)
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return String(self[..<range.lowerBound]) + replacement + String(self[range.upperBound...])
    }

    private func range(of target: String) -> Range<String.Index>? {
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(target) { return index..<self.index(index, offsetBy: target.count) }
            index = self.index(after: index)
        }
        return nil
    }
}
