import SitegateConfig
import SitegateCore
import SitegateCrypto
import SitegateTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `signing:` in the site config, and the keys the agent reads from it at start (`SigningKeys.load`).
@Suite struct SigningConfigTests {
    /// A config in `directory` (relative key paths resolve against it) with `signing` appended.
    static func load(_ signing: String, in directory: String) -> Result<SiteConfigLoader.Loaded, ConfigurationError> {
        let text = """
            site: { id: demo-park, gateway: gw01 }
            mqtt: { url: "mqtt://127.0.0.1:1883" }
            buffer: { path: buffer.db }
            maps: [\(TestEnvironment.shippedMaps)]
            buses: []
            devices: []
            \(signing)
            """
        return Result { () throws(ConfigurationError) in try SiteConfigLoader.parse(text, file: "\(directory)/site.yaml") }
    }

    static func errors(_ result: Result<SiteConfigLoader.Loaded, ConfigurationError>) -> [String] {
        guard case .failure(let error) = result else { return [] }
        return error.diagnostics.filter { $0.severity == .error }.map(\.description)
    }

    static func directoryWithKeys(_ names: String...) throws -> String {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-signing")
        for name in names { _ = try SigningKeyFile.generate(at: "\(work)/\(name)", force: false) }
        return work
    }

    @Test func aKeyFileLoadsAndSigns() throws {
        let work = try Self.directoryWithKeys("signing.key")
        let loaded = try Self.load("signing:\n  key: signing.key", in: work).get()
        #expect(loaded.warnings.isEmpty, "\(loaded.warnings)")
        #expect(loaded.config.signing == .keys(current: .file("\(work)/signing.key"), previous: nil))
        let keys = try SigningKeys.load(loaded.config.signing)
        #expect(keys.current?.publicKey == (try SigningKeyFile.read("\(work)/signing.key")).publicKey)
        #expect(keys.previous == nil && keys.warning == nil)
    }

    @Test func aRotationLoadsBothKeys() throws {
        let work = try Self.directoryWithKeys("new.key", "old.key")
        let loaded = try Self.load("signing:\n  key: new.key\n  previous_key: old.key", in: work).get()
        let keys = try SigningKeys.load(loaded.config.signing)
        #expect(keys.current?.publicKey == (try SigningKeyFile.read("\(work)/new.key")).publicKey)
        #expect(keys.previous?.publicKey == (try SigningKeyFile.read("\(work)/old.key")).publicKey)
    }

    @Test func offSignsNothingAndSaysNothing() throws {
        let work = try Self.directoryWithKeys()
        let loaded = try Self.load("signing: off", in: work).get()
        #expect(loaded.config.signing == .off)
        let keys = try SigningKeys.load(.off)
        #expect(keys.current == nil && keys.previous == nil && keys.warning == nil)
    }

    /// Old configs keep loading: no section means the default key file when it exists, else unsigned with one warning.
    @Test func noSectionUsesTheDefaultKeyWhenThereIsOne() throws {
        let work = try Self.directoryWithKeys("default.key")
        let loaded = try Self.load("", in: work).get()
        #expect(loaded.config.signing == .automatic(defaultKey: "/etc/sitegate/signing.key"))
        #expect(loaded.warnings.isEmpty)

        let present = try SigningKeys.load(.automatic(defaultKey: "\(work)/default.key"))
        #expect(present.current?.publicKey == (try SigningKeyFile.read("\(work)/default.key")).publicKey)
        #expect(present.warning == nil)

        let absent = try SigningKeys.load(.automatic(defaultKey: "\(work)/none.key"))
        #expect(absent.current == nil)
        #expect(absent.warning?.hasPrefix("messages are not signed: the config has no 'signing' section") == true)

        // A default key that exists but is broken stops the start: it is never silently skipped.
        try writeFile("\(work)/broken.key", "garbage\n")
        #expect {
            try SigningKeys.load(.automatic(defaultKey: "\(work)/broken.key"))
        } throws: { error in
            "\(error)".contains("broken.key: not a PEM private key")
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var signing: String
        var expected: String  // "line:column: error: message fragment"
        var testDescription: String { name }
    }

    // The section starts on line 7.
    static let cases: [Case] = [
        Case(name: "missing key file", signing: "signing:\n  key: none.key", expected: "8:8: error: signing key WORK/none.key: no such key file"),
        Case(name: "not PEM", signing: "signing:\n  key: text.key", expected: "8:8: error: signing key WORK/text.key: not a PEM private key"),
        Case(name: "not Ed25519", signing: "signing:\n  key: ec.key", expected: "8:8: error: signing key WORK/ec.key: the key is not an Ed25519 key"),
        Case(name: "previous is the current key", signing: "signing:\n  key: a.key\n  previous_key: a.key",
             expected: "9:17: error: 'previous_key' is the same key as the current one"),
        Case(name: "previous is a copy of the current key", signing: "signing:\n  key: a.key\n  previous_key: copy.key",
             expected: "9:17: error: 'previous_key' is the same key as the current one"),
        Case(name: "previous credential is the current one",
             signing: "signing:\n  key_credential: signing-key\n  previous_key_credential: signing-key",
             expected: "9:28: error: 'previous_key_credential' is the same key as the current one"),
        Case(name: "file and credential", signing: "signing:\n  key: a.key\n  key_credential: signing-key",
             expected: "9:3: error: give either 'key' or 'key_credential', not both"),
        Case(name: "credential with a slash", signing: "signing:\n  key_credential: /etc/sitegate/signing.key",
             expected: "8:19: error: 'key_credential' is a credential name as in LoadCredential=, without '/'"),
        Case(name: "only a previous key", signing: "signing:\n  previous_key: a.key",
             expected: "8:3: error: 'signing' needs 'key' (a PEM file, `sitegate keys generate`) or 'key_credential'"),
        Case(name: "unknown key", signing: "signing:\n  key: a.key\n  previous: a.key",
             expected: "9:3: error: unknown key 'previous' in signing"),
        Case(name: "neither off nor a mapping", signing: "signing: on",
             expected: "7:10: error: 'signing' takes 'key' (a PEM file) or 'key_credential' (a systemd credential), or is off, found 'on'"),
        Case(name: "quoted off is text, not the word", signing: "signing: \"off\"", expected: "7:10: error: 'signing' takes"),
        Case(name: "empty", signing: "signing:", expected: "7:1: error: 'signing' takes 'key' (a PEM file) or 'key_credential' (a systemd credential), or is off; it is empty"),
    ]

    @Test(arguments: cases) func badSigningSections(_ c: Case) async throws {
        let work = try Self.directoryWithKeys("a.key")
        try writeFile("\(work)/copy.key", try readFile("\(work)/a.key"))
        try writeFile("\(work)/text.key", "-----BEGIN NOTHING-----\n")
        let ec = try ChildProcess(
            ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "\(work)/ec.key"],
            directory: work, name: "openssl")
        try #require(await ec.wait(timeout: .seconds(30)) == 0, "\(ec.standardError)")
        let errors = Self.errors(Self.load(c.signing, in: work))
        let expected = "\(work)/site.yaml:" + c.expected.replacing("WORK", with: work)
        #expect(errors.contains { $0.hasPrefix(expected) }, "expected \(expected), got \(errors)")
    }

    @Test func aKeyOthersMayReadIsWarnedAbout() throws {
        let work = try Self.directoryWithKeys("a.key")
        chmod("\(work)/a.key", 0o644)
        let loaded = try Self.load("signing: { key: a.key }", in: work).get()
        #expect(loaded.warnings.map(\.description) == [
            "\(work)/site.yaml:7:17: warning: signing key \(work)/a.key is readable by other users: chmod 0600 it"
        ])
    }

    /// Credentials are read at start, from $CREDENTIALS_DIRECTORY as systemd's LoadCredential= provides them.
    @Test func credentialsAreReadAtStart() throws {
        let work = try Self.directoryWithKeys("signing-key", "old-key")
        let loaded = try Self.load("signing:\n  key_credential: signing-key\n  previous_key_credential: old-key", in: work).get()
        #expect(loaded.config.signing == .keys(current: .credential("signing-key"), previous: .credential("old-key")))
        #expect {
            try SigningKeys.load(loaded.config.signing, credentialsDirectory: nil)
        } throws: { error in
            "\(error)".contains("credential 'signing-key' needs $CREDENTIALS_DIRECTORY (LoadCredential= in the systemd unit)")
        }
        let keys = try SigningKeys.load(loaded.config.signing, credentialsDirectory: work)
        #expect(keys.current?.publicKey == (try SigningKeyFile.read("\(work)/signing-key")).publicKey)
        #expect(keys.previous?.publicKey == (try SigningKeyFile.read("\(work)/old-key")).publicKey)

        try writeFile("\(work)/same-key", try readFile("\(work)/signing-key"))
        #expect {
            try SigningKeys.load(.keys(current: .credential("signing-key"), previous: .credential("same-key")), credentialsDirectory: work)
        } throws: { error in
            "\(error)" == "the previous signing key is the same key as the current one"
        }
        #expect {
            try SigningKeys.load(.keys(current: .credential("missing-key"), previous: nil), credentialsDirectory: work)
        } throws: { error in
            "\(error)".hasPrefix("signing key (credential 'missing-key'): \(work)/missing-key: no such key file")
        }
    }
}
