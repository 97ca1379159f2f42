import Foundation
import SitegateCore
import SitegateCrypto
import SitegateTestSupport
import Testing

/// Ed25519 over libcrypto against published vectors and against the openssl command, a second implementation's
/// view of the same keys.
@Suite(.timeLimit(.minutes(1))) struct Ed25519KeyTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var seed: String
        var publicKey: String
        var message: String
        var signature: String
        var testDescription: String { name }
    }

    /// RFC 8032 §7.1, TEST 1 to TEST 3 (seed, public key, message, signature; hex).
    static let rfc8032: [Vector] = [
        Vector(
            name: "TEST 1",
            seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            message: "",
            signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        ),
        Vector(
            name: "TEST 2",
            seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            message: "72",
            signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ),
        Vector(
            name: "TEST 3",
            seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            message: "af82",
            signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
        ),
    ]

    @Test(arguments: rfc8032) func rfc8032Vectors(_ v: Vector) throws {
        let key = try Ed25519Key.fromSeed(bytes(hex: v.seed))
        #expect(Hex.lowercase(key.publicKey) == v.publicKey)
        let message = bytes(hex: v.message)
        let signature = key.sign(message)
        #expect(Hex.lowercase(signature) == v.signature)
        let crypto = LibCrypto()
        #expect(crypto.verifyEd25519(signature: signature, message: message, publicKey: key.publicKey))
        var altered = signature
        altered[10] ^= 0x01
        #expect(!crypto.verifyEd25519(signature: altered, message: message, publicKey: key.publicKey))
        #expect(!crypto.verifyEd25519(signature: signature, message: message + [0], publicKey: key.publicKey))
    }

    /// The key id of RFC 8032's TEST 1 key: the first 8 bytes of SHA-256 over the raw public key, computed apart
    /// from this code with `openssl dgst -sha256` and Python's hashlib (both give 21fe31dfa154a261).
    @Test func keyIDOfTheTestOneKey() throws {
        let key = try Ed25519Key.fromSeed(bytes(hex: Self.rfc8032[0].seed))
        #expect(KeyID.of(publicKey: key.publicKey, crypto: LibCrypto()) == "21fe31dfa154a261")
    }

    @Test func signAndVerifyAGeneratedKey() throws {
        let key = try Ed25519Key.generate()
        let crypto = LibCrypto()
        let message = Array("{\"kind\":\"gap\",\"seq\":1}".utf8)
        let signature = key.sign(message)
        #expect(signature.count == 64)
        #expect(crypto.verifyEd25519(signature: signature, message: message, publicKey: key.publicKey))
        let other = try Ed25519Key.generate()
        #expect(other.publicKey != key.publicKey)
        #expect(!crypto.verifyEd25519(signature: signature, message: message, publicKey: other.publicKey))

        // Through PEM and back: the same key.
        let again = try Ed25519Key.fromPEM(try key.pkcs8PEM())
        #expect(again.publicKey == key.publicKey)
        #expect(crypto.verifyEd25519(signature: again.sign(message), message: message, publicKey: key.publicKey))
    }

    /// A key made by `openssl genpkey` loads, and its public key is the one openssl derives (the last 32 bytes of
    /// the SubjectPublicKeyInfo DER); openssl verifies what this key signs.
    @Test func opensslMadeKeyLoadsAndAgrees() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-crypto")
        try await openssl(["genpkey", "-algorithm", "ed25519", "-out", "\(work)/key.pem"], in: work)
        let key = try Ed25519Key.fromPEM(try readFile("\(work)/key.pem"))
        try await openssl(["pkey", "-in", "\(work)/key.pem", "-pubout", "-outform", "DER", "-out", "\(work)/pub.der"], in: work)
        let der = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(work)/pub.der")))
        #expect(der.count == 44, "SubjectPublicKeyInfo of Ed25519: 12 bytes of header, 32 of key")
        #expect(Array(der.suffix(32)) == key.publicKey)

        let message = Array("signed bytes".utf8)
        try Data(message).write(to: URL(fileURLWithPath: "\(work)/message"))
        try Data(key.sign(message)).write(to: URL(fileURLWithPath: "\(work)/signature"))
        try await openssl(
            [
                "pkeyutl", "-verify", "-rawin", "-inkey", "\(work)/key.pem", "-in", "\(work)/message", "-sigfile",
                "\(work)/signature",
            ], in: work)

        // And the other way: openssl reads the PEM this code writes and derives the same public key.
        try writeFile("\(work)/ours.pem", try Ed25519Key.generate().pkcs8PEM())
        let ours = try Ed25519Key.fromPEM(try readFile("\(work)/ours.pem"))
        try await openssl(["pkey", "-in", "\(work)/ours.pem", "-pubout", "-outform", "DER", "-out", "\(work)/ours.der"], in: work)
        #expect(Array(try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(work)/ours.der"))).suffix(32)) == ours.publicKey)
    }

    @Test func otherKeysAreRefusedClearly() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-crypto")
        try await openssl(
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "\(work)/ec.pem"], in: work)
        try await openssl(["genpkey", "-algorithm", "x25519", "-out", "\(work)/x25519.pem"], in: work)
        for file in ["ec.pem", "x25519.pem"] {
            #expect {
                try Ed25519Key.fromPEM(try readFile("\(work)/\(file)"))
            } throws: { error in
                "\(error)" == "the key is not an Ed25519 key"
            }
        }
        try await openssl(["genpkey", "-algorithm", "ed25519", "-out", "\(work)/ed.pem"], in: work)
        try await openssl(["pkey", "-in", "\(work)/ed.pem", "-pubout", "-out", "\(work)/public.pem"], in: work)
        for text in [try readFile("\(work)/public.pem"), "", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"] {
            #expect {
                try Ed25519Key.fromPEM(text)
            } throws: { error in
                "\(error)".hasPrefix("not a PEM private key")
            }
        }
        #expect(throws: Ed25519Key.KeyError.self) { try Ed25519Key.fromSeed([1, 2, 3]) }
    }

    func openssl(_ arguments: [String], in directory: String) async throws {
        let child = try ChildProcess(["openssl"] + arguments, directory: directory, name: "openssl")
        let status = await child.wait(timeout: .seconds(30))
        try #require(status == 0, "openssl \(arguments.joined(separator: " ")): \(child.standardError)")
    }
}

func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
}
