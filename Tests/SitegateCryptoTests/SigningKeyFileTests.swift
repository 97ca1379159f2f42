import Foundation
import SitegateCore
import SitegateCrypto
import SitegateTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct SigningKeyFileTests {
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int) ?? -1
    }

    @Test func generateWritesA0600KeyAndNeverReplacesOne() throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-keyfile")
        let path = "\(work)/signing.key"
        let generated = try SigningKeyFile.generate(at: path, force: false)
        #expect(try Self.mode(path) == 0o600)
        #expect(try readFile(path).hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(try SigningKeyFile.read(path).publicKey == generated.key.publicKey)
        #expect(SigningKeyFile.isReadableByOthers(path) == false)

        #expect(throws: SigningKeyFile.Failure.exists(path: path)) { try SigningKeyFile.generate(at: path, force: false) }
        #expect(try SigningKeyFile.read(path).publicKey == generated.key.publicKey, "the refused call left the key alone")

        let replaced = try SigningKeyFile.generate(at: path, force: true)
        #expect(replaced.key.publicKey != generated.key.publicKey)
        #expect(try SigningKeyFile.read(path).publicKey == replaced.key.publicKey)
        #expect(try Self.mode(path) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work) == ["signing.key"], "no temporary file left")
    }

    @Test func readReportsWhatIsWrong() throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-keyfile")
        #expect(throws: SigningKeyFile.Failure.missing(path: "\(work)/none.key")) { try SigningKeyFile.read("\(work)/none.key") }
        try writeFile("\(work)/text.key", "not a key\n")
        #expect {
            try SigningKeyFile.read("\(work)/text.key")
        } throws: { error in
            "\(error)".hasPrefix("\(work)/text.key: not a PEM private key")
        }
        // A directory, a device and a FIFO (which must not block the reader) are refused alike.
        #expect(mkfifo("\(work)/fifo.key", 0o600) == 0)
        for path in [work, "/dev/null", "\(work)/fifo.key"] {
            #expect(throws: SigningKeyFile.Failure.invalid(path: path, reason: "not a regular file")) {
                try SigningKeyFile.read(path)
            }
        }
        #expect(throws: SigningKeyFile.Failure.self) { try SigningKeyFile.generate(at: "\(work)/no/such/dir.key", force: false) }
        try writeFile("\(work)/open.key", try Ed25519Key.generate().pkcs8PEM())
        chmod("\(work)/open.key", 0o644)
        #expect(SigningKeyFile.isReadableByOthers("\(work)/open.key") == true)
    }

    @Test func registrationLinesForAKeysFile() throws {
        let key = try Ed25519Key.fromSeed(bytes(hex: Ed25519KeyTests.rfc8032[0].seed))
        let registration = KeyRegistration(
            publicKey: key.publicKey, crypto: LibCrypto(), from: UnixTime(milliseconds: 1_764_547_200_999),
            owner: "demo-park/gw01")
        // The public key in base64url computed apart: python3 -c "import base64; print(base64.urlsafe_b64encode(
        // bytes.fromhex('d75a98...511a')).rstrip(b'='))".
        #expect(registration.publicKey == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
        #expect(registration.keysLine == "ed25519 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo from=2025-12-01T00:00:00Z")
        #expect(registration.keysFileText == "# demo-park/gw01\n" + registration.keysLine + "\n")
        let json = try #require(JSONValue.parse(registration.json))
        #expect(json["kid"]?.string == "21fe31dfa154a261")
        #expect(json["public_key"]?.string == registration.publicKey)
        #expect(json["keys_line"]?.string == registration.keysLine)
        #expect(json["comment"]?.string == "# demo-park/gw01")
    }
}
