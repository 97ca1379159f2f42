import Foundation
import SitegateCore
import SitegateCrypto
import SitegateTestSupport
import Testing

/// Issue 14, independence: chains sealed by the Swift code are checked by scripts/verify_evidence.py, a second
/// implementation written only from docs/evidence.md (Python, Debian's python3-cryptography). Each case expects
/// the exit code of its class.
@Suite(.timeLimit(.minutes(2))) struct IndependentVerifierTests {
    static let key = try! Ed25519Key.fromSeed([UInt8](repeating: 7, count: 32))
    static let nextKey = try! Ed25519Key.fromSeed([UInt8](repeating: 8, count: 32))
    static let strangerKey = try! Ed25519Key.fromSeed([UInt8](repeating: 9, count: 32))

    /// A signed chain with every kind of poll, a checkpoint-like evidence message and a redelivery.
    static func cleanChain() -> SyntheticChain {
        var chain = SyntheticChain(signer: key)
        chain.polls(4)
        chain.polls(2, device: "compressor-hall")
        var members = JSONObjectWriter()
        members.add(EvidenceKey.self, [:])
        chain.commit(.evidence(.checkpoint, time: chain.time, members: members))
        chain.polls(3)
        return chain
    }

    @Test func cleanChainVerifies() async throws {
        var chain = Self.cleanChain()
        chain.captured.append(chain.captured[3])  // a redelivery: same seq, same bytes
        let result = try await verify(chain.capture(), keys: SyntheticChain.keysLine(Self.key))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("1 redeliveries"), "\(result.output)")
    }

    @Test func arrivalOrderDoesNotMatter() async throws {
        let chain = Self.cleanChain()
        let result = try await verify(chain.capture(chain.captured.reversed()), keys: SyntheticChain.keysLine(Self.key))
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func tamperedDigitIsABadSignature() async throws {
        var chain = Self.cleanChain()
        let text = chain.captured[1].text
        #expect(text.contains("\"v\":12345.6"))
        chain.captured[1].payload = Array(text.replacingOccurrences(of: "\"v\":12345.6", with: "\"v\":12346.6").utf8)
        let result = try await verify(chain.capture(), keys: SyntheticChain.keysLine(Self.key))
        #expect(result.status == 14, "\(result.output)")
        #expect(result.output.contains("seq \(chain.captured[1].seq) (line 2): bad signature"), "\(result.output)")
        // Without keys the chain still catches it: the next message's prev no longer matches.
        let unkeyed = try await verify(chain.capture(), keys: nil)
        #expect(unkeyed.status == 12, "\(unkeyed.output)")
    }

    @Test func droppedMessageIsAnUndeclaredGap() async throws {
        var chain = Self.cleanChain()
        let dropped = chain.captured.remove(at: 5)
        let result = try await verify(chain.capture(), keys: SyntheticChain.keysLine(Self.key))
        #expect(result.status == 10, "\(result.output)")
        #expect(result.output.contains("undeclared gap: seq \(dropped.seq) missing"), "\(result.output)")
    }

    @Test func sameSeqWithOtherSignedBytesIsEquivocation() async throws {
        var chain = Self.cleanChain()
        chain.equivocate(chain.encoder.draft(SyntheticChain.poll(0, device: "main-incomer", at: chain.time + .seconds(7))))
        let result = try await verify(chain.capture(), keys: SyntheticChain.keysLine(Self.key))
        #expect(result.status == 15, "\(result.output)")
    }

    @Test func declaredGapsVerify() async throws {
        var chain = Self.cleanChain()
        chain.deleteDeclared(3...5)
        chain.polls(2)
        // Two runs in one hole, declared by two notices.
        let first = chain.captured.count - 2
        chain.polls(2)
        chain.deleteDeclared(first...(first + 1))
        chain.deleteDeclared(first...(first + 1))
        chain.polls(1)
        let result = try await verify(chain.capture(), keys: SyntheticChain.keysLine(Self.key))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("3 gap notices, 7 seq declared missing"), "\(result.output)")
    }

    @Test func deletedChainStartDeclaresWhatLiesBefore() async throws {
        var chain = SyntheticChain(signer: Self.key)
        chain.polls(2)
        chain.restart(at: 1_764_547_300_000_001)
        chain.polls(2)
        chain.deleteDeclared(3...4)  // the new chain's start and its first poll: first_prev is null
        chain.polls(1)
        let result = try await verify(chain.capture(), keys: SyntheticChain.keysLine(Self.key))
        #expect(result.status == 0, "\(result.output)")
        #expect(chain.captured.contains { $0.text.contains("\"first_prev\":null") })
    }

    @Test func newChainStartDeclaresTheHoleBeforeIt() async throws {
        var chain = SyntheticChain(signer: Self.key)
        chain.polls(3)
        chain.captured.removeLast()  // lost with the replaced database
        chain.restart(at: 1_764_547_300_000_001)
        chain.polls(2)
        let result = try await verify(chain.capture(), keys: SyntheticChain.keysLine(Self.key))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("2 chain-starts"), "\(result.output)")
    }

    @Test func endorsedKeyHandoverCarriesTrust() async throws {
        var chain = Self.cleanChain()
        chain.handOver(to: Self.nextKey, endorsed: true)
        chain.polls(3)
        let keys = SyntheticChain.keysLine(Self.key)
        let result = try await verify(chain.capture(), keys: keys)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("hands over to"), "\(result.output)")
        // The old key signs nothing after its handover.
        chain.sign(with: Self.key)
        chain.polls(1)
        let late = try await verify(chain.capture(), keys: keys)
        #expect(late.status == 13, "\(late.output)")
    }

    @Test func unendorsedHandoverNeedsTheNewKeyRegistered() async throws {
        var chain = Self.cleanChain()
        chain.handOver(to: Self.nextKey, endorsed: false)
        chain.polls(2)
        let oldOnly = try await verify(chain.capture(), keys: SyntheticChain.keysLine(Self.key))
        #expect(oldOnly.status == 13, "\(oldOnly.output)")
        let both = SyntheticChain.keysLine(Self.key) + SyntheticChain.keysLine(Self.nextKey)
        let registered = try await verify(chain.capture(), keys: both)
        #expect(registered.status == 0, "\(registered.output)")
    }

    @Test func keyErrors() async throws {
        let chain = Self.cleanChain()
        let unknown = try await verify(chain.capture(), keys: SyntheticChain.keysLine(Self.strangerKey))
        #expect(unknown.status == 13, "\(unknown.output)")
        #expect(unknown.output.contains("unknown key id"), "\(unknown.output)")
        // Messages of 2026-01-01 signed by a key registered until 2025-12-31.
        let expired = try await verify(
            chain.capture(), keys: "# comment\n\n" + SyntheticChain.keysLine(Self.key, bounds: "until=2025-12-31T00:00:00Z"))
        #expect(expired.status == 13, "\(expired.output)")
        #expect(expired.output.contains("not valid at the message's time"), "\(expired.output)")
        var unsigned = SyntheticChain(signer: nil)
        unsigned.polls(3)
        let withKeys = try await verify(unsigned.capture(), keys: SyntheticChain.keysLine(Self.key))
        #expect(withKeys.status == 13, "\(withKeys.output)")
        let withoutKeys = try await verify(unsigned.capture(), keys: nil)
        #expect(withoutKeys.status == 0, "\(withoutKeys.output)")
    }

    @Test func brokenLinkAndMalformedMessage() async throws {
        var chain = Self.cleanChain()
        // Validly signed, but linked to the wrong predecessor (a reordering inside the gateway's history).
        chain.commit(chain.encoder.draft(SyntheticChain.poll(0, device: "main-incomer", at: chain.time)),
                     prev: .some(SyntheticChain.hash(chain.captured[1].payload)))
        let broken = try await verify(chain.capture(), keys: SyntheticChain.keysLine(Self.key))
        #expect(broken.status == 12, "\(broken.output)")
        // The last message (altering an earlier one would also break its successor's link, class 12).
        var truncated = Self.cleanChain()
        truncated.captured[truncated.captured.count - 1].payload.removeLast()
        let malformed = try await verify(truncated.capture(), keys: SyntheticChain.keysLine(Self.key))
        #expect(malformed.status == 11, "\(malformed.output)")
    }

    /// Polls a buffer from before contract v2 left are published in the v1 form (no poll, prev, kid or sig) ahead
    /// of the upgrade's chain-start (docs/evidence.md, "Upgrading from v1"): counted as v1 by both verifiers, not
    /// malformed; a pack that lacks only its prev but carries a poll is still malformed.
    @Test func v1MessagesAreCountedNotMalformed() async throws {
        var chain = SyntheticChain(signer: Self.key)
        chain.polls(2)
        let v1 = (0..<3).map { i in
            let poll = SyntheticChain.poll(i, device: "main-incomer", at: UnixTime(milliseconds: 1_767_225_000_000 + Int64(i) * 1000))
            let payload = chain.encoder.encodeV1(
                StoredPoll(seq: 1_764_547_100_000_001 + Int64(i), committedAt: chain.time, poll: poll))
            return SyntheticChain.Message(
                seq: 1_764_547_100_000_001 + Int64(i), prev: nil, topic: "\(SyntheticChain.root)/main-incomer/data",
                payload: Array(payload.utf8))
        }
        #expect(!v1[0].text.contains("\"poll\"") && !v1[0].text.contains("\"prev\""), "\(v1[0].text)")
        let capture = chain.capture(v1 + chain.captured)
        let python = try await verify(capture, keys: SyntheticChain.keysLine(Self.key))
        #expect(python.status == 0, "\(python.output)")
        #expect(python.output.contains("3 messages of contract v1"), "\(python.output)")
        let swift = CaptureVerifier(crypto: LibCrypto(), keys: try KeysFile.parse(
            SyntheticChain.keysLine(Self.key), file: "keys", crypto: LibCrypto())).verify(
                capture.split(separator: "\n").compactMap { CaptureRecord(json: String($0)) }).report
        #expect(swift.exitCode == 0 && swift.gateways.first?.v1Messages == 3, "\(swift.lines)")

        // A v2 pack (it has `poll`) that lost its prev is not v1: malformed (the last one, so that no link breaks).
        var broken = chain.captured
        let last = broken.count - 1
        let text = broken[last].text
        broken[last].payload = Array(text.replacingOccurrences(
            of: #","prev":""# + Base64.url(broken[last].prev!) + "\"", with: "").utf8)
        #expect(broken[last].payload.count < text.utf8.count)
        let malformed = try await verify(chain.capture(broken), keys: nil)
        #expect(malformed.status == 11, "\(malformed.output)")
    }

    @Test func unreadableInputIsExitOne() async throws {
        let chain = Self.cleanChain()
        let badKeys = try await verify(chain.capture(), keys: "ed25519 not-a-key\n")
        #expect(badKeys.status == 1, "\(badKeys.output)")
        #expect(badKeys.output.contains("keys:1: error:"), "\(badKeys.output)")
        let badCapture = try await verify("{\"topic\":\"x\"}\n", keys: nil)
        #expect(badCapture.status == 1, "\(badCapture.output)")
    }

    /// The other direction: Python's cryptography signs with the RFC 8032 test-1 key, libcrypto verifies; and
    /// both produce the RFC's signature of the empty message (Ed25519 is deterministic).
    @Test func pythonSignaturesVerifyInSwift() async throws {
        let seed = hexBytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        let rfcPublic = hexBytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        let rfcSignature = hexBytes(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        let message = "[{\"bn\":\"urn:dev:gia:demo-park:gw01:main-incomer:\",\"seq\":1"
        let script = """
            import sys
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sys.argv[1]))
            raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            print(raw.hex(), key.sign(b"").hex(), key.sign(sys.argv[2].encode()).hex())
            """
        let dir = try TestEnvironment.makeTemporaryDirectory("crosssign")
        let python = try ChildProcess(
            [TestEnvironment.python, "-c", script, hex(seed), message], directory: dir, name: "sign")
        #expect(await python.wait(timeout: .seconds(60)) == 0, "\(python.standardError)")
        let words = python.standardOutput.split(separator: " ").map { hexBytes(String($0.filter(\.isHexDigit))) }
        try #require(words.count == 3)
        #expect(words[0] == rfcPublic)
        #expect(words[1] == rfcSignature)
        let crypto = LibCrypto()
        #expect(crypto.verifyEd25519(signature: words[2], message: Array(message.utf8), publicKey: words[0]))
        #expect(!crypto.verifyEd25519(signature: words[2], message: Array((message + " ").utf8), publicKey: words[0]))
        // And the Swift key made from the same seed signs what the RFC says.
        let swiftKey = try Ed25519Key.fromSeed(seed)
        #expect(swiftKey.publicKey == rfcPublic)
        #expect(swiftKey.sign([]) == rfcSignature)
    }
}

/// Runs scripts/verify_evidence.py over `capture` with `keys` (nil: no --keys).
func verify(_ capture: String, keys: String?) async throws -> (status: Int32?, output: String) {
    let dir = try TestEnvironment.makeTemporaryDirectory("verify")
    try writeFile("\(dir)/capture.ndjson", capture)
    var arguments = [TestEnvironment.python, "\(TestEnvironment.packageRoot)/scripts/verify_evidence.py", "\(dir)/capture.ndjson"]
    if let keys {
        try writeFile("\(dir)/keys", keys)
        arguments += ["--keys", "\(dir)/keys"]
    }
    let verifier = try ChildProcess(arguments, directory: dir, name: "verify")
    let status = await verifier.wait(timeout: .seconds(60))
    return (status, verifier.standardOutput + verifier.standardError)
}

func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8)
    return stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)! }
}

func hex(_ bytes: [UInt8]) -> String { Hex.lowercase(bytes) }
