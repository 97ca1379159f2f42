import Foundation
import SitegateCore
import SitegateTestSupport
import Testing

/// The technician's commands, run as processes against the simulator, a broker and a running agent.
@Suite(.serialized, .timeLimit(.minutes(3))) struct CLITests {
    static func json(_ text: String) -> JSONValue? { JSONValue.parse(text.trimmingCharacters(in: .whitespacesAndNewlines)) }

    /// `raw` and mbpoll, an independent Modbus client, read the same registers and agree.
    @Test func rawAgreesWithMbpoll() async throws {
        try #require(TestEnvironment.hasTool("mbpoll"))
        try await Harness.with("raw") { h in
            let port = try await h.startSimulator(units: [1], frozen: true)
            let raw = try await h.sitegate([
                "raw", "--tcp", "127.0.0.1:\(port)", "--unit", "1", "--address", "30001", "--count", "6", "--json",
            ])
            #expect(raw.status == 0, "\(raw.err)")
            let ours = try #require(Self.json(raw.out))
            #expect(ours["address"]?.int == 0 && ours["function"]?.int == 4, "30001 is input register 0")
            let registerValues = ours["registers"]?.array?.compactMap { $0.int }
            let registers = try #require(registerValues)
            let floats = (ours["u32"]?.array ?? []).filter { $0["order"]?.string == "ABCD" }.compactMap { $0["float"]?.number }

            let hex = try await h.sitegate(["--version"])  // a cheap call to keep the harness's numbering simple
            _ = hex
            let mbHex = try ChildProcess(
                ["mbpoll", "-m", "tcp", "-p", String(port), "-a", "1", "-t", "3:hex", "-r", "1", "-c", "6", "-1", "127.0.0.1"],
                directory: h.directory, name: "mbpoll-hex")
            #expect(await mbHex.wait(timeout: .seconds(10)) == 0)
            let theirWords = mbHex.standardOutput.split(separator: "\n").filter { $0.hasPrefix("[") }
                .compactMap { UInt16($0.split(separator: "\t").last!.trimmingCharacters(in: .whitespaces).dropFirst(2), radix: 16) }
            #expect(theirWords.map(Int.init) == registers)

            let mbFloat = try ChildProcess(
                ["mbpoll", "-m", "tcp", "-p", String(port), "-a", "1", "-t", "3:float", "-B", "-r", "1", "-c", "3", "-1", "127.0.0.1"],
                directory: h.directory, name: "mbpoll-float")
            #expect(await mbFloat.wait(timeout: .seconds(10)) == 0)
            let theirFloats = mbFloat.standardOutput.split(separator: "\n").filter { $0.hasPrefix("[") }
                .compactMap { Double($0.split(separator: "\t").last!.trimmingCharacters(in: .whitespaces)) }
            #expect(theirFloats.count == 3 && floats.count == 3)
            for (a, b) in zip(floats, theirFloats) { #expect(abs(a - b) < 0.001, "\(a) vs mbpoll \(b)") }

            let text = try await h.sitegate(["raw", "--tcp", "127.0.0.1:\(port)", "--address", "30001", "--count", "2"])
            #expect(text.out.contains("register 30001 = input register at wire address 0 (0x0000)"))
            #expect(text.out.contains("ABCD") && text.out.contains(" *"))
            let bad = try await h.sitegate(["raw", "--tcp", "127.0.0.1:\(port)", "--address", "30001", "--function", "3"])
            #expect(bad.status == 64 && bad.err.contains("is a input register"))
        }
    }

    @Test func scanFindsAndRecognisesMeters() async throws {
        try await Harness.with("scan") { h in
            let port = try await h.startSimulator(units: [3, 7], frozen: true)
            let scan = try await h.sitegate([
                "scan", "--tcp", "127.0.0.1:\(port)", "--units", "1-10", "--maps", TestEnvironment.shippedMaps,
            ])
            #expect(scan.status == 0, "\(scan.err)")
            let lines = scan.out.split(separator: "\n").filter { $0.first?.isNumber == true }
            #expect(lines.map { String($0.split(separator: " ")[0]) } == ["3", "7"])
            #expect(lines.allSatisfy { $0.contains("eastron-sdm630") })
            #expect(scan.err.contains("10/10 unit ids"))
            let none = try await h.sitegate(["scan", "--tcp", "127.0.0.1:\(port)", "--units", "20-22", "--maps", TestEnvironment.shippedMaps])
            #expect(none.status == 2 && none.out.contains("no device answered"))
        }
    }

    @Test func statusReadAndBufferAgainstARunningAgent() async throws {
        try await Harness.with("status") { h in
            try await h.startSimulator(units: [1, 2, 9], frozen: true, extra: ["--silent-units", "9"])
            let config = try h.writeConfig(
                buses: "  - { id: lan, tcp: { host: 127.0.0.1, port: \(h.simulatorPort) }, response_timeout: 300ms }",
                devices: """
                  - { id: main-incomer, bus: lan, unit: 1, model: eastron-sdm630, interval: 1s }
                  - { id: hall, bus: lan, unit: 2, model: eastron-sdm630, interval: 1s }
                  - { id: dead, bus: lan, unit: 9, model: eastron-sdm630, interval: 1s }
                """)
            // No agent yet: status says so with exit 3; read goes straight to the bus.
            let noAgent = try await h.sitegate(["status", "--config", config])
            #expect(noAgent.status == 3 && noAgent.err.contains("no running agent answers"))
            let direct = try await h.sitegate(["read", "hall", "--config", config])
            #expect(direct.status == 0 && direct.err.contains("read the bus directly"), "\(direct.err)")
            #expect(direct.out.contains("voltage_l1") && direct.out.contains(" ok"))

            try h.startRecorder()
            try h.startAgent(config: config)
            // The dead meter has data messages too: its failed polls.
            try await h.waitForMessages(timeout: .seconds(30)) { Set($0.map(\.device)).isSuperset(of: ["main-incomer", "hall"]) }
            try await Task.sleep(for: .seconds(1))

            let status = try await h.sitegate(["status", "--config", config, "--json"])
            #expect(status.status == 2, "a dead device needs attention")
            let s = try #require(Self.json(status.out))
            #expect(s["broker"]?["connected"]?.bool == true)
            let states = Dictionary(uniqueKeysWithValues: (s["devices"]?.array ?? []).map { ($0["id"]!.string!, $0["state"]!.string!) })
            #expect(states == ["main-incomer": "ok", "hall": "ok", "dead": "failing"])
            let table = try await h.sitegate(["status", "--config", config])
            #expect(table.out.contains("broker mqtt://127.0.0.1:\(h.broker.port): connected"))
            #expect(table.out.contains("dead: no response (timeout)"))

            // watch redraws until interrupted.
            let watch = try ChildProcess(
                [TestEnvironment.sitegateBinary, "watch", "--config", config, "--interval", "1s"], directory: h.directory,
                name: "watch")
            try await Task.sleep(for: .milliseconds(2500))
            await watch.terminate()
            #expect(watch.standardOutput.components(separatedBy: "refreshing every 1s").count >= 3, "at least two frames")
            #expect(watch.standardOutput.contains("main-incomer"))

            let viaAgent = try await h.sitegate(["read", "main-incomer", "--config", config, "--json"])
            #expect(viaAgent.status == 0)
            let r = try #require(Self.json(viaAgent.out))
            #expect(r["points"]?.array?.count == 15)
            #expect(r["points"]?.array?.allSatisfy { $0["status"]?.string == "ok" } == true)
            let deadRead = try await h.sitegate(["read", "dead", "--config", config])
            #expect(deadRead.status == 2 && deadRead.out.contains("no answer"))

            let bundle = try await h.sitegate(["support-bundle", "--config", config, "--output", "\(h.directory)/support.tar.gz"])
            #expect(bundle.status == 0, "\(bundle.err)")
            let listing = try ChildProcess(["tar", "tzf", "\(h.directory)/support.tar.gz"], directory: h.directory, name: "tar")
            _ = await listing.wait(timeout: .seconds(10))
            for file in ["./site.yaml", "./check.txt", "./versions.txt", "./status.json", "./buffer.txt", "./maps/eastron-sdm630.yaml"] {
                #expect(listing.standardOutput.contains(file), "\(file) in the bundle")
            }

            #expect(await h.agent!.terminate() == 0)
            // The broker goes away; the agent buffers; the buffer commands see it.
            await h.broker.stop()
            try h.startAgent(config: config)
            try await Task.sleep(for: .seconds(3))
            #expect(await h.agent!.terminate() == 0)
            let stats = try await h.sitegate(["buffer", "stats", "--config", config, "--json"])
            let depthValue = Self.json(stats.out)?["depth"]?.int
            let depth = try #require(depthValue)
            #expect(depth >= 4)
            let export = try await h.sitegate(["buffer", "export", "--config", config, "--format", "senml"])
            #expect(export.out.split(separator: "\n").count == depth)
            #expect(export.err.contains("exported \(depth) messages"))
            let check = try await h.sitegate(["buffer", "check", "--config", config])
            #expect(check.status == 0 && check.out.contains("ok"))
            let purge = try await h.sitegate(["buffer", "purge", "--config", config, "--yes"])
            #expect(purge.out.contains("deleted \(depth) messages"))
            let after = try await h.sitegate(["buffer", "stats", "--config", config])
            #expect(after.out.contains("unsent messages: 0") && after.out.contains("dropped unsent:  \(depth) messages"))
        }
    }

    @Test func planAndMapsCommands() async throws {
        try await Harness.with("planmaps") { h in
            let park = "\(TestEnvironment.packageRoot)/devicemaps/sites/park-example.yaml"
            let plan = try await h.sitegate(["plan", "--config", park])
            #expect(plan.status == 0)
            #expect(plan.out.contains("bus rs485-a (rtu /dev/ttyUSB0 9600 8N1)"))
            #expect(plan.out.contains("input 0x0000+18, input 0x0034+2"))
            // At park scale: each bus's line only, or one bus's table.
            let summary = try await h.sitegate(["plan", "--config", park, "--summary"])
            let busLines = summary.out.split(separator: "\n").filter { $0.hasPrefix("bus ") }
            #expect(summary.status == 0 && busLines.count == 3 && !summary.out.contains("DEVICE"), "\(summary.out)")
            #expect(summary.out.contains("bus rs485-a (rtu /dev/ttyUSB0 9600 8N1)") && summary.out.contains(" devices"))
            let one = try await h.sitegate(["plan", "--config", park, "--bus", "rs485-b"])
            #expect(one.status == 0 && one.out.hasPrefix("bus rs485-b ") && !one.out.contains("bus rs485-a"))
            #expect(one.out.contains("DEVICE"))
            let unknown = try await h.sitegate(["plan", "--config", park, "--bus", "nope"])
            #expect(unknown.status == 64 && unknown.err.contains("no bus 'nope'") && unknown.err.contains("rs485-a"))
            let list = try await h.sitegate(["maps", "list", "--maps", TestEnvironment.shippedMaps])
            #expect(list.status == 0 && list.out.contains("eastron-sdm630"))
            let show = try await h.sitegate(["maps", "show", "carlogavazzi-em340", "--maps", TestEnvironment.shippedMaps])
            #expect(show.out.contains("energy_import") && show.out.contains("CDAB"))
            let files = TextFileList.yamlFiles(in: TestEnvironment.shippedMaps)
            let lint = try await h.sitegate(["maps", "lint"] + files)
            #expect(lint.status == 0, "\(lint.err)")
            try writeFile("\(h.directory)/broken.yaml", "id: broken\npoints: 3\n")
            let bad = try await h.sitegate(["maps", "lint", "\(h.directory)/broken.yaml"])
            #expect(bad.status == 78 && bad.err.contains("broken.yaml:1:1: error: missing key 'manufacturer'"))
        }
    }
}

enum TextFileList {
    static func yamlFiles(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
            .map { "\(dir)/\($0)" }
    }
}
