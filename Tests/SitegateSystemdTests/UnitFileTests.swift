import SitegateTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// systemd/sitegate.service and systemd/sitegate.sysusers under systemd's own tools.
@Suite(
    .enabled(
        if: TestEnvironment.hasTool("systemd-analyze"),
        "systemd-analyze is not installed (apt-get install systemd): the unit file is not checked"),
    .timeLimit(.minutes(1))
)
struct UnitFileTests {
    static let unitPath = "\(TestEnvironment.packageRoot)/systemd/sitegate.service"
    static let sysusersPath = "\(TestEnvironment.packageRoot)/systemd/sitegate.sysusers"
    static let maximumExposure = 2.0

    struct ToolResult {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs a tool to completion with its output in files of `directory`.
    static func run(_ arguments: [String], in directory: String) async throws -> ToolResult {
        let name = arguments[0].split(separator: "/").last.map(String.init) ?? "tool"
        let child = try ChildProcess(arguments, directory: directory, name: name)
        guard let status = await child.wait(timeout: .seconds(30)) else {
            await child.terminate()
            throw TestSupportError("\(arguments.joined(separator: " ")) did not finish")
        }
        return ToolResult(status: status, output: child.standardOutput, errors: child.standardError)
    }

    /// `KEY=value` lines of the unit, in order, comments dropped.
    static func settings() throws -> [(key: String, value: String)] {
        try readFile(unitPath).split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), !line.hasPrefix("["), let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }
    }

    /// `--threshold` (tenths of the exposure level) makes systemd-analyze fail above the figure: its exit status is
    /// the stable form; the summary line's arrows and smiley change with the terminal and the locale.
    static func security(threshold: Int, in directory: String) async throws -> ToolResult {
        try await run(
            ["systemd-analyze", "security", "--offline=true", "--no-pager", "--threshold=\(threshold)", unitPath],
            in: directory)
    }

    @Test func exposureIsAtMostTwo() async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory("sitegate-unit")
        let result = try await Self.security(threshold: Int(Self.maximumExposure * 10), in: directory)
        #expect(result.errors.isEmpty, "systemd ignored part of the unit:\n\(result.errors)")
        #expect(result.status == 0, "exposure above \(Self.maximumExposure):\n\(result.output)")
        // The same unit against a threshold no unit can meet: proves the figure is compared at all.
        let strict = try await Self.security(threshold: 0, in: directory)
        #expect(strict.status != 0, "systemd-analyze ignored --threshold=0:\n\(strict.output)")
    }

    /// verify checks that ExecStart's binary exists, so a copy of the unit runs the one just built.
    @Test func verifiesCleanly() async throws {
        let binary = TestEnvironment.sitegateBinary
        try #require(
            access(binary, X_OK) == 0, "build first, or set SITEGATE_BIN (make test does): \(binary) is missing")
        let directory = try TestEnvironment.makeTemporaryDirectory("sitegate-unit")
        let unit = try readFile(Self.unitPath)
        #expect(unit.contains("ExecStart=/usr/bin/sitegate "))
        try writeFile(
            "\(directory)/sitegate.service",
            unit.replacing("ExecStart=/usr/bin/sitegate ", with: "ExecStart=\(binary) "))
        let result = try await Self.run(
            ["systemd-analyze", "verify", "--man=no", "\(directory)/sitegate.service"], in: directory)
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(result.errors.isEmpty && result.output.isEmpty, "\(result.output)\(result.errors)")
    }

    /// The settings the docs, the Makefile and the package rely on.
    @Test func keepsItsContract() throws {
        let settings = try Self.settings()
        func values(_ key: String) -> [String] { settings.filter { $0.key == key }.map(\.value) }
        #expect(values("Type") == ["notify"])
        #expect(values("NotifyAccess") == ["main"])
        #expect(values("ExecStart") == ["/usr/bin/sitegate run --config /etc/sitegate/site.yaml"])
        #expect(values("ExecReload") == ["/bin/sh -c 'kill -HUP \"$MAINPID\"'"])
        #expect(values("Restart") == ["on-failure"])
        #expect(values("WatchdogSec") == ["60s"])
        #expect(values("TimeoutStopSec") == ["30s"])
        #expect(values("User") == ["sitegate"])
        #expect(values("SupplementaryGroups") == ["dialout"])
        #expect(values("StateDirectory") == ["sitegate"])
        #expect(values("ConfigurationDirectory") == ["sitegate"])
        #expect(values("RuntimeDirectory") == ["sitegate"])
        #expect(values("CapabilityBoundingSet") == [""])
        #expect(values("UMask") == ["0077"])
        #expect(
            values("LoadCredential") == [
                "mqtt-password:/etc/sitegate/credentials/mqtt-password",
                "mqtt-client-key:/etc/sitegate/credentials/mqtt-client-key",
            ])
        #expect(Set(values("DeviceAllow")) == ["char-ttyUSB rw", "char-ttyACM rw", "char-ttyAMA rw", "char-ttyS rw"])
        #expect(values("RestrictAddressFamilies") == ["AF_UNIX AF_INET AF_INET6"])
    }

    /// systemd-sysusers in a scratch root: the user, its group, and its dialout membership.
    @Test(.enabled(if: TestEnvironment.hasTool("systemd-sysusers"), "systemd-sysusers is not installed"))
    func sysusersCreatesTheUser() async throws {
        let root = try TestEnvironment.makeTemporaryDirectory("sitegate-sysusers")
        #expect(mkdir("\(root)/etc", 0o755) == 0)
        let result = try await Self.run(["systemd-sysusers", "--root=\(root)", Self.sysusersPath], in: root)
        #expect(result.status == 0, "\(result.errors)")
        let passwd = try readFile("\(root)/etc/passwd").split(separator: "\n")
        let user = try #require(passwd.first { $0.hasPrefix("sitegate:") }, "\(passwd)")
        let fields = user.split(separator: ":", omittingEmptySubsequences: false)
        #expect(fields.count == 7)
        #expect(fields.dropFirst(5).joined(separator: ":") == "/var/lib/sitegate:/usr/sbin/nologin")
        #expect((Int(fields[2]) ?? 0) < 1000, "a system user")
        let groups = try readFile("\(root)/etc/group").split(separator: "\n")
        #expect(groups.contains { $0.hasPrefix("sitegate:") })
        let dialout = try #require(groups.first { $0.hasPrefix("dialout:") })
        #expect(
            dialout.split(separator: ":", omittingEmptySubsequences: false).last?.split(separator: ",").contains(
                "sitegate") == true)
    }
}
