import Foundation
import SitegateCore
import SitegateTestSupport
import Testing

/// `sitegate keys generate` and `keys show`, run as the built binary; openssl reads the keys they make.
@Suite(.timeLimit(.minutes(2))) struct KeysCommandTests {
    static func run(_ arguments: [String], in directory: String) async throws -> (status: Int32, out: String, err: String) {
        let child = try ChildProcess([TestEnvironment.sitegateBinary] + arguments, directory: directory, name: "sitegate")
        let status = try #require(await child.wait(timeout: .seconds(30)), "sitegate \(arguments) hung")
        return (status, child.standardOutput, child.standardError)
    }

    /// The value after `label` on its line of `text`.
    static func field(_ label: String, in text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(label) }.map { $0.dropFirst(label.count).trimmingCharacters(in: .whitespaces) }
    }

    static func stat(_ path: String) throws -> (mode: Int, owner: UInt32) {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return ((attributes[.posixPermissions] as? Int) ?? -1, UInt32((attributes[.ownerAccountID] as? NSNumber)?.uint32Value ?? 0))
    }

    /// The raw public key as openssl derives it from the key file, in base64url.
    static func opensslPublicKey(_ path: String, in directory: String) async throws -> String {
        let child = try ChildProcess(
            ["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER", "-out", "\(directory)/public.der"],
            directory: directory, name: "openssl")
        try #require(await child.wait(timeout: .seconds(30)) == 0, "\(child.standardError)")
        return Base64.url(try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(directory)/public.der"))).suffix(32))
    }

    @Test func generateMakesA0600KeyAndRefusesToReplaceIt() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-keys")
        let path = "\(work)/signing.key"
        let made = try await Self.run(["keys", "generate", "--output", path], in: work)
        #expect(made.status == 0, "\(made.err)")
        let (mode, owner) = try Self.stat(path)
        #expect(mode == 0o600)
        let printedOwner = try #require(made.out.split(separator: "\n").first.flatMap { $0.split(separator: "owner ").last })
        #expect(printedOwner == "sitegate)" || owner == geteuid(), "root hands the key to sitegate only when that user exists")
        let publicKey = try #require(Self.field("public key:", in: made.out))
        let keyID = try #require(Self.field("key id:", in: made.out))
        #expect(try await Self.opensslPublicKey(path, in: work) == publicKey)
        let raw = try #require(Base64.decode(publicKey))
        #expect(raw.count == 32 && keyID.count == 16)

        let before = try readFile(path)
        let again = try await Self.run(["keys", "generate", "--output", path], in: work)
        #expect(again.status == 1)
        #expect(again.err.contains("exists: refusing to replace a signing key (--force replaces it)"), "\(again.err)")
        #expect(try readFile(path) == before)

        let forced = try await Self.run(["keys", "generate", "--output", path, "--force"], in: work)
        #expect(forced.status == 0, "\(forced.err)")
        #expect(Self.field("public key:", in: forced.out) != publicKey)
        #expect(try Self.stat(path).mode == 0o600)
        #expect(try await Self.opensslPublicKey(path, in: work) == Self.field("public key:", in: forced.out))

        let nowhere = try await Self.run(["keys", "generate", "--output", "\(work)/missing/dir/signing.key"], in: work)
        #expect(nowhere.status == 1 && nowhere.err.contains("cannot write"), "\(nowhere.err)")
    }

    @Test func showPrintsWhatToRegister() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-keys")
        let path = "\(work)/signing.key"
        let made = try await Self.run(["keys", "generate", "--output", path], in: work)
        try #require(made.status == 0, "\(made.err)")
        let publicKey = try #require(Self.field("public key:", in: made.out))
        let keyID = try #require(Self.field("key id:", in: made.out))

        let shown = try await Self.run(["keys", "show", "--key", path], in: work)
        #expect(shown.status == 0, "\(shown.err)")
        #expect(Self.field("public key:", in: shown.out) == publicKey)
        #expect(Self.field("key id:", in: shown.out) == keyID)
        let line = try #require(shown.out.split(separator: "\n").last.map(String.init))
        // from= is when the key file was written (whole seconds, UTC): it covers every message the key signed.
        let written = try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let second = Date(timeIntervalSince1970: written.timeIntervalSince1970.rounded(.down))
        #expect(line == "ed25519 \(publicKey) from=\(formatter.string(from: second))", "\(line)")
        #expect(!shown.out.contains("PRIVATE"))

        let json = try await Self.run(["keys", "show", "--key", path, "--json"], in: work)
        let object = try #require(JSONValue.parse(json.out.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(object["public_key"]?.string == publicKey && object["kid"]?.string == keyID)
        #expect(object["keys_line"]?.string?.hasPrefix("ed25519 \(publicKey) from=") == true)

        // From a site config: the key it signs with, and a comment naming the site and gateway.
        let config = """
            site: { id: demo-park, gateway: gw01 }
            mqtt: { url: "mqtt://127.0.0.1:1883" }
            buffer: { path: buffer.db }
            maps: [\(TestEnvironment.shippedMaps)]
            buses: []
            devices: []
            signing:
              key: signing.key

            """
        try writeFile("\(work)/site.yaml", config)
        let fromConfig = try await Self.run(["keys", "show", "--config", "\(work)/site.yaml"], in: work)
        #expect(fromConfig.status == 0, "\(fromConfig.err)")
        #expect(fromConfig.out.contains("\n# demo-park/gw01\ned25519 \(publicKey) from="), "\(fromConfig.out)")

        try writeFile("\(work)/off.yaml", config.replacing("signing:\n  key: signing.key\n", with: "signing: off\n"))
        let off = try await Self.run(["keys", "show", "--config", "\(work)/off.yaml"], in: work)
        #expect(off.status == 1 && off.err.contains("messages are not signed (signing: off)"), "\(off.err)")

        try writeFile("\(work)/missing.yaml", config.replacing("key: signing.key", with: "key: other.key"))
        let check = try await Self.run(["check", "--config", "\(work)/missing.yaml"], in: work)
        #expect(check.status == 78)
        #expect(check.err.contains("\(work)/missing.yaml:8:8: error: signing key \(work)/other.key: no such key file"), "\(check.err)")

        // A user who may not read the key (it is the agent's): `check` notes it was not checked, other commands
        // load the config without a word about it, `keys show` fails.
        if geteuid() == 0, TestEnvironment.hasTool("setpriv") {
            chmod(work, 0o755)
            // The checkout may not be readable by nobody (a clone under /root with umask 077): the maps go along.
            let copy = try ChildProcess(["cp", "-r", TestEnvironment.shippedMaps, "\(work)/maps"], directory: work, name: "cp-maps")
            _ = await copy.wait(timeout: .seconds(30))
            let open = try ChildProcess(["chmod", "-R", "a+rX", "\(work)/maps"], directory: work, name: "chmod-maps")
            _ = await open.wait(timeout: .seconds(30))
            try writeFile("\(work)/site.yaml", config.replacing(TestEnvironment.shippedMaps, with: "\(work)/maps"))
            let nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", TestEnvironment.sitegateBinary]
            let asNobody = { (arguments: [String], name: String) async throws -> (Int32?, String) in
                let child = try ChildProcess(nobody + arguments, directory: work, name: name)
                return (await child.wait(timeout: .seconds(30)), child.standardError)
            }
            let (checked, checkErr) = try await asNobody(["check", "--config", "\(work)/site.yaml"], "check-nobody")
            #expect(checked == 0, "\(checkErr)")
            #expect(checkErr.contains("note: signing key \(path) not checked: this user may not read it"), "\(checkErr)")
            let (planned, planErr) = try await asNobody(["plan", "--config", "\(work)/site.yaml"], "plan-nobody")
            #expect(planned == 0 && !planErr.contains("signing"), "\(planErr)")
            let (shownStatus, shownErr) = try await asNobody(["keys", "show", "--config", "\(work)/site.yaml"], "show-nobody")
            #expect(shownStatus == 1 && shownErr.contains("\(path): permission denied"), "\(shownErr)")
        }

        let both = try await Self.run(["keys", "show", "--key", path, "--config", "\(work)/site.yaml"], in: work)
        #expect(both.status == 64 && both.err.contains("give --key or --config, not both"), "\(both.err)")
        let absent = try await Self.run(["keys", "show", "--key", "\(work)/none.key"], in: work)
        #expect(absent.status == 1 && absent.err.contains("none.key: no such key file"), "\(absent.err)")
    }
}
