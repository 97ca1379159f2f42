import SitegateTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// scripts/install.sh into a scratch DESTDIR, with the debug binary standing in for the release one (the release
/// build takes minutes; `make package-test` checks the real package).
@Suite(.serialized, .timeLimit(.minutes(1))) struct InstallScriptTests {
    static func install(prefix: String, into destdir: String, unitDir: String? = nil) async throws -> String {
        let binary = TestEnvironment.sitegateBinary
        try #require(access(binary, X_OK) == 0, "build first, or set SITEGATE_BIN (make test does): \(binary)")
        let child = try ChildProcess(
            ["\(TestEnvironment.packageRoot)/scripts/install.sh"], directory: destdir, name: "install",
            environment: ["PREFIX": prefix, "DESTDIR": "\(destdir)/root", "SITEGATE_RELEASE_BIN": binary]
                .merging(unitDir.map { ["UNITDIR": $0] } ?? [:]) { $1 })
        let status = await child.wait(timeout: .seconds(30))
        #expect(status == 0, "install.sh failed:\n\(child.standardError)")
        return child.standardOutput
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    @Test func packagePrefixLayout() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-install")
        _ = try await Self.install(prefix: "/usr", into: work)
        let root = "\(work)/root"
        for path in [
            "/usr/bin/sitegate", "/usr/lib/systemd/system/sitegate.service", "/usr/lib/sysusers.d/sitegate.conf",
            "/usr/share/sitegate/devicemaps/models/eastron-sdm630.yaml",
            "/usr/share/sitegate/devicemaps/sites/park-example.yaml", "/usr/share/doc/sitegate/README.md",
            "/etc/sitegate/site.yaml",
        ] {
            #expect(Self.exists(root + path), "\(path) is missing")
        }
        #expect(!Self.exists("\(root)/etc/sitegate/credentials"), "placeholders are made on the target, not staged")
        let unit = try readFile("\(root)/usr/lib/systemd/system/sitegate.service")
        #expect(unit.contains("\nExecStart=/usr/bin/sitegate run --config /etc/sitegate/site.yaml\n"))
        let config = try readFile("\(root)/etc/sitegate/site.yaml")
        #expect(config.contains("  - /usr/share/sitegate/devicemaps/models\n"))
        #expect(config.contains("path: /var/lib/sitegate/buffer.db"))
        #expect(!config.contains("@"), "every placeholder substituted")
    }

    @Test func localPrefixMovesTheBinaryAndTheUnitsPath() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-install")
        _ = try await Self.install(prefix: "/usr/local", into: work)
        let root = "\(work)/root"
        #expect(Self.exists("\(root)/usr/local/bin/sitegate"))
        #expect(Self.exists("\(root)/usr/local/lib/sysusers.d/sitegate.conf"))
        let unit = try readFile("\(root)/usr/local/lib/systemd/system/sitegate.service")
        #expect(unit.contains("\nExecStart=/usr/local/bin/sitegate run --config /etc/sitegate/site.yaml\n"))
        #expect(unit.contains("\nDocumentation=file:/usr/local/share/doc/sitegate/operations.md\n"))
        #expect(
            try readFile("\(root)/etc/sitegate/site.yaml").contains("  - /usr/local/share/sitegate/devicemaps/models\n")
        )
    }

    /// The package's layout: Debian 12's dh_installsystemd takes units from /lib/systemd/system.
    @Test func unitDirMovesOnlyTheUnit() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-install")
        _ = try await Self.install(prefix: "/usr", into: work, unitDir: "/lib/systemd/system")
        let root = "\(work)/root"
        #expect(Self.exists("\(root)/lib/systemd/system/sitegate.service"))
        #expect(!Self.exists("\(root)/usr/lib/systemd/system/sitegate.service"))
        #expect(Self.exists("\(root)/usr/lib/sysusers.d/sitegate.conf"))
    }

    @Test func anExistingConfigIsNeverReplaced() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-install")
        _ = try await Self.install(prefix: "/usr", into: work)
        let config = "\(work)/root/etc/sitegate/site.yaml"
        try writeFile(config, "# the technician's config\n")
        let output = try await Self.install(prefix: "/usr", into: work)
        #expect(try readFile(config) == "# the technician's config\n")
        #expect(output.contains("keeping the existing"))
    }

    /// The example with this repository's maps and a signing key of its own in `work` (the package makes
    /// /etc/sitegate/signing.key on install).
    static func example(_ template: String, in work: String) async throws -> String {
        let key = try ChildProcess(
            [TestEnvironment.sitegateBinary, "keys", "generate", "--output", "\(work)/signing.key"], directory: work,
            name: "keys")
        try #require(await key.wait(timeout: .seconds(30)) == 0, "\(key.standardError)")
        #expect(template.contains("  key: /etc/sitegate/signing.key\n"), "the example signs with the package's key")
        return template.replacing("@MAPSDIR@", with: TestEnvironment.shippedMaps).replacing("@DOCDIR@", with: work)
            .replacing("/etc/sitegate/signing.key", with: "\(work)/signing.key")
    }

    /// The example config passes `sitegate check` against the shipped maps where they are in this repository.
    @Test func theExampleConfigChecks() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-install")
        let template = try readFile("\(TestEnvironment.packageRoot)/packaging/site.yaml.in")
        try writeFile("\(work)/site.yaml", try await Self.example(template, in: work))
        let child = try ChildProcess(
            [TestEnvironment.sitegateBinary, "check", "--config", "\(work)/site.yaml"], directory: work, name: "check")
        let status = await child.wait(timeout: .seconds(30))
        #expect(status == 0, "\(child.standardOutput)\(child.standardError)")
        #expect(child.standardOutput.contains(": ok: site example-park, gateway gw01"))
    }

    /// The example ships with no bus (the package starts the agent on install); the bus and device shown in its
    /// comments are valid once uncommented.
    @Test func theCommentedExampleBusChecks() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-install")
        let template = try readFile("\(TestEnvironment.packageRoot)/packaging/site.yaml.in")
        #expect(template.contains("\nbuses: []\ndevices: []\n"))
        let uncommented = template.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0 != "buses: []" && $0 != "devices: []" }
            .map { $0.hasPrefix("#   ") ? String($0.dropFirst(4)) : String($0) }
            .joined(separator: "\n")
        try writeFile("\(work)/site.yaml", try await Self.example(uncommented, in: work))
        let child = try ChildProcess(
            [TestEnvironment.sitegateBinary, "check", "--config", "\(work)/site.yaml"], directory: work, name: "check")
        let status = await child.wait(timeout: .seconds(30))
        #expect(status == 0, "\(child.standardOutput)\(child.standardError)")
        #expect(child.standardOutput.contains("1 buses, 1 devices"), "\(child.standardOutput)")
    }
}
