import Foundation
import SitegateCore
import SitegateTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The technician's first hour on site: scan a bus, write the first config, run it; read and raw judge values;
/// the shell completes device ids; log lines suit the terminal or the journal.
@Suite(.serialized, .timeLimit(.minutes(3))) struct CommissioningTests {
    /// Three different meter models on one simulated bus, one unit each.
    static func startThreeModels(_ h: Harness) async throws -> (ChildProcess, Int) {
        let site = """
            site: { id: bench, gateway: gw01 }
            mqtt: { url: "mqtt://127.0.0.1:1" }
            buffer: { path: unused.db }
            maps: [\(TestEnvironment.shippedMaps)]
            buses: [{ id: lan, tcp: { host: 127.0.0.1, port: 1 } }]
            devices:
              - { id: a, bus: lan, unit: 1, model: eastron-sdm630, interval: 1s }
              - { id: b, bus: lan, unit: 2, model: carlogavazzi-em340, interval: 1s }
              - { id: c, bus: lan, unit: 3, model: abb-b23, interval: 1s }
            """
        try writeFile("\(h.directory)/three-models.yaml", site)
        let sim = try ChildProcess(
            [TestEnvironment.sitegateBinary, "simulate", "--config", "\(h.directory)/three-models.yaml", "--port", "0"],
            directory: h.directory, name: "simulator-three")
        let output = try await sim.waitForOutput(containing: "listening on", timeout: .seconds(10))
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("listening on") }),
            let port = Int(line.split(separator: ":").last ?? "")
        else {
            await sim.terminate()
            throw TestSupportError("simulator printed no port: \(output)")
        }
        return (sim, port)
    }

    @Test func scanWritesADraftThatChecksAndRuns() async throws {
        try await Harness.with("commission") { h in
            let (sim, port) = try await Self.startThreeModels(h)
            defer { kill(sim.pid, SIGTERM) }
            let draft = "\(h.directory)/draft.yaml"
            let scan = try await h.sitegate([
                "scan", "--tcp", "127.0.0.1:\(port)", "--units", "1-5", "--maps", TestEnvironment.shippedMaps,
                "--write-config", draft, "--interval", "1s",
            ])
            #expect(scan.status == 0, "\(scan.err)")
            #expect(scan.out.contains("wrote \(draft): 3 devices polled every 1s"), "\(scan.out)")
            let text = try readFile(draft)
            for (unit, model) in [(1, "eastron-sdm630"), (2, "carlogavazzi-em340"), (3, "abb-b23")] {
                #expect(text.contains("unit: \(unit)\n    model: \(model)\n"), "unit \(unit) as \(model) in:\n\(text)")
                #expect(text.contains("# unit \(unit): \(model), "), "the scan's confidence for unit \(unit)")
            }
            #expect(text.contains("tcp: { host: 127.0.0.1, port: \(port) }"))
            #expect(text.contains("# CHECK: the park's broker"))

            // An existing file stays as it is unless --force.
            let again = try await h.sitegate([
                "scan", "--tcp", "127.0.0.1:\(port)", "--units", "1", "--maps", TestEnvironment.shippedMaps,
                "--write-config", draft,
            ])
            #expect(again.status == 64 && again.err.contains("exists; give --force"), "\(again.err)")
            let unchanged = try readFile(draft)
            #expect(unchanged == text)

            let check = try await h.sitegate(["check", "--config", draft])
            #expect(check.status == 0 && check.out.contains("3 devices"), "\(check.out)\(check.err)")

            // Pointed at the test broker and a buffer of its own, the agent polls all three.
            let runnable = text.replacingOccurrences(of: "mqtt://127.0.0.1:1883", with: h.broker.url)
                .replacingOccurrences(of: "/var/lib/sitegate/buffer.db", with: "\(h.directory)/draft.db")
            try writeFile("\(h.directory)/runnable.yaml", runnable)
            try h.startRecorder()
            try h.startAgent(config: "\(h.directory)/runnable.yaml")
            try await h.waitForMessages(timeout: .seconds(30)) { Set($0.map(\.device)) == ["unit-1", "unit-2", "unit-3"] }

            let forced = try await h.sitegate([
                "scan", "--tcp", "127.0.0.1:\(port)", "--units", "2", "--maps", TestEnvironment.shippedMaps,
                "--write-config", draft, "--force",
            ])
            let rewritten = try readFile(draft)
            #expect(forced.status == 0 && rewritten.contains("unit: 2\n    model: carlogavazzi-em340"))
            #expect(!rewritten.contains("unit: 1\n"))
            await sim.terminate()
        }
    }

    @Test func aUnitNoMapFitsIsWrittenCommentedOut() async throws {
        try await Harness.with("commission-unknown") { h in
            let (sim, port) = try await Self.startThreeModels(h)
            defer { kill(sim.pid, SIGTERM) }
            // Only the SDM630's map to recognise with: the ABB answers nothing it can read.
            let maps = "\(h.directory)/only-sdm630"
            mkdir(maps, 0o755)
            try writeFile("\(maps)/eastron-sdm630.yaml", try readFile("\(TestEnvironment.shippedMaps)/eastron-sdm630.yaml"))
            let draft = "\(h.directory)/draft.yaml"
            let scan = try await h.sitegate([
                "scan", "--tcp", "127.0.0.1:\(port)", "--units", "1,3", "--maps", maps, "--write-config", draft,
            ])
            #expect(scan.status == 0, "\(scan.err)")
            let text = try readFile(draft)
            #expect(text.contains("# CHECK: unit 3 answers, but no map in the folders above fits it"), "\(text)")
            #expect(text.contains("  # - id: unit-3\n"))
            #expect(text.contains("interval: 15m"), "the safe default interval")
            let check = try await h.sitegate(["check", "--config", draft])
            #expect(check.status == 0 && check.out.contains("1 devices"), "\(check.out)\(check.err)")
            await sim.terminate()
        }
    }

    /// A whole-number meter (Carlo Gavazzi, i32 CDAB): raw marks the CDAB integer, and no float.
    @Test func rawMarksTheWholeNumberDecoding() async throws {
        try await Harness.with("raw-int") { h in
            let port = try await h.startSimulator(model: "carlogavazzi-em340", units: [1], frozen: true)
            let text = try await h.sitegate(["raw", "--tcp", "127.0.0.1:\(port)", "--address", "300001", "--count", "2"])
            #expect(text.status == 0, "\(text.err)")
            let rows = text.out.split(separator: "\n").filter { $0.hasPrefix("0x0000 ") }.map(String.init)
            let cdab = rows.first { $0.contains(" CDAB ") } ?? ""
            let abcd = rows.first { $0.contains(" ABCD ") } ?? ""
            #expect(cdab.contains(" *"), "the CDAB integer is marked: \(text.out)")
            #expect(!abcd.contains(" *"), "\(text.out)")
            let json = try await h.sitegate([
                "raw", "--tcp", "127.0.0.1:\(port)", "--address", "300001", "--count", "2", "--json",
            ])
            let parsed = JSONValue.parse(json.out.trimmingCharacters(in: .whitespacesAndNewlines))
            let marked = (parsed?["u32"]?.array ?? []).filter { $0["plausible_integer"]?.bool == true }
            #expect(marked.map { $0["order"]?.string } == ["CDAB"])
            let value = try #require(marked.first?["unsigned"]?.int)
            #expect((2000...2600).contains(value), "about 230 V as V×10: \(value)")
        }
    }

    /// `range` in a (site-local) map: read flags the value and warns, exit status unchanged.
    @Test func readWarnsOutsideThePlausibleRange() async throws {
        try await Harness.with("read-range") { h in
            try await h.startSimulator(units: [1], frozen: true)
            let maps = "\(h.directory)/maps"
            mkdir(maps, 0o755)
            // A map that claims voltages stay below 100 V: the simulator's 230 V are out of range.
            let shipped = try readFile("\(TestEnvironment.shippedMaps)/eastron-sdm630.yaml")
            try writeFile("\(maps)/eastron-sdm630.yaml", shipped.replacingOccurrences(of: "range: [0, 289]", with: "range: [0, 100]"))
            var config = try h.writeConfig(devices: [("meter", 1)], interval: "15m")
            try writeFile(config, try readFile(config).replacingOccurrences(of: "maps:\n", with: "maps:\n  - \(maps)\n"))
            let read = try await h.sitegate(["read", "meter", "--config", config])
            #expect(read.status == 0, "\(read.out)\(read.err)")
            #expect(read.out.contains("ok, out of range"), "\(read.out)")
            #expect(read.out.contains("warning: voltage_l1 = "), "\(read.out)")
            #expect(read.out.contains("is outside its plausible range 0.0...100.0 V"), "\(read.out)")
            #expect(!read.out.contains("warning: energy_import"), "energies are inside their range")
            let json = try await h.sitegate(["read", "meter", "--config", config, "--json"])
            let points = JSONValue.parse(json.out.trimmingCharacters(in: .whitespacesAndNewlines))?["points"]?.array ?? []
            let flagged = points.filter { $0["out_of_range"]?.bool == true }.compactMap { $0["id"]?.string }
            #expect(flagged == ["voltage_l1", "voltage_l2", "voltage_l3"])

            let show = try await h.sitegate(["maps", "show", "eastron-sdm630", "--maps", TestEnvironment.shippedMaps])
            #expect(show.out.contains("RANGE") && show.out.contains(" V      0...289 "), "\(show.out)")
            // The shipped map's ranges hold for the simulator's values: no warning.
            config = try h.writeConfig(devices: [("meter", 1)], interval: "15m", name: "shipped.yaml")
            let clean = try await h.sitegate(["read", "meter", "--config", config])
            #expect(clean.status == 0 && !clean.out.contains("warning:"), "\(clean.out)")
        }
    }

    /// Bash's completion, as the generated script runs it: device ids from the config on the line.
    @Test func bashCompletesDeviceIDsAndConfigFiles() async throws {
        try #require(TestEnvironment.hasTool("bash"))
        try await Harness.with("completion") { h in
            let config = try h.writeConfig(
                buses: "  - { id: lan, tcp: { host: 127.0.0.1, port: 1502 } }",
                devices: """
                  - { id: main-incomer, bus: lan, unit: 1, model: eastron-sdm630, interval: 15m }
                  - { id: hall-2, bus: lan, unit: 2, model: eastron-sdm630, interval: 15m }
                  - { id: main-pv, bus: lan, unit: 3, model: eastron-sdm630, interval: 15m }
                """)
            let script = try await h.sitegate(["--generate-completion-script", "bash"])
            try writeFile("\(h.directory)/sitegate.bash", script.out)
            let binDir = (TestEnvironment.sitegateBinary as NSString).deletingLastPathComponent
            // COMP_* as bash sets them for `sitegate read main<Tab> -c CONFIG` and `sitegate read -c <Tab>`.
            let driver = """
                cd \(h.directory)
                source sitegate.bash
                complete_line() {
                  COMP_WORDS=("$@"); COMP_CWORD=$CWORD; COMP_LINE="$*"; COMP_POINT=$POINT; COMPREPLY=()
                  _sitegate sitegate "${COMP_WORDS[$COMP_CWORD]}" "${COMP_WORDS[$((COMP_CWORD-1))]}"
                  printf '%s\\n' "${COMPREPLY[@]}"
                }
                CWORD=2 POINT=18 complete_line sitegate read main -c \(config)
                echo ---
                CWORD=3 POINT=17 complete_line sitegate read -c ''
                """
            try writeFile("\(h.directory)/driver.sh", driver)
            let bash = try ChildProcess(
                ["bash", "\(h.directory)/driver.sh"], directory: h.directory, name: "bash-completion",
                environment: ["PATH": "\(binDir):/usr/bin:/bin"])
            #expect(await bash.wait(timeout: .seconds(30)) == 0, "\(bash.standardError)")
            let parts = bash.standardOutput.components(separatedBy: "---\n")
            #expect(parts.first?.split(separator: "\n").map(String.init) == ["main-incomer", "main-pv"], "\(bash.standardOutput)")
            #expect(parts.last?.split(separator: "\n").contains("site.yaml") == true, "\(bash.standardOutput)")
            #expect(parts.last?.contains("sitegate.bash") == false, "only YAML files and folders")
        }
    }

    /// The journal's `<N>` prefix only when standard error is the journal (JOURNAL_STREAM names it).
    @Test func logLinesCarryThePrefixOnlyForTheJournal() async throws {
        try await Harness.with("log-prefix") { h in
            try await h.startSimulator(units: [1], frozen: true)
            let config = try h.writeConfig(devices: [("meter", 1)], interval: "15m")
            // A terminal, a file, a pipe: time and level, no prefix.
            try h.startAgent(config: config)
            _ = try await h.agent!.waitForOutput(containing: "sitegate running", inStandardError: true, timeout: .seconds(20))
            #expect(await h.agent!.terminate() == 0)
            let plain = h.agent!.standardError.split(separator: "\n").filter { $0.contains("sitegate running") }
            #expect(plain.count == 1 && plain.allSatisfy { $0.first?.isNumber == true && $0.contains(" info ") }, "\(plain)")

            // The journal: the file the agent's standard error goes to is the one JOURNAL_STREAM names.
            let stderrPath = "\(h.directory)/agent-2.stderr"
            let fd = open(stderrPath, O_CREAT | O_WRONLY, 0o644)
            try #require(fd >= 0)
            var info = stat()
            fstat(fd, &info)
            close(fd)
            try h.startAgent(config: config, environment: ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino)"])
            _ = try await h.agent!.waitForOutput(containing: "sitegate running", inStandardError: true, timeout: .seconds(20))
            #expect(await h.agent!.terminate() == 0)
            let journal = h.agent!.standardError.split(separator: "\n").filter { $0.contains("sitegate running") }
            #expect(journal.count == 1 && journal.allSatisfy { $0.hasPrefix("<6>sitegate running") }, "\(journal)")
        }
    }
}
