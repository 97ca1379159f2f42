import Foundation
import SitegateCore
import SitegateCrypto
import Testing

/// The verify rules of docs/evidence.md against chains sealed as the agent seals them.
@Suite struct CaptureVerifierTests {
    static let t0: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z

    /// A chain start and ten polls, one a second.
    static func clean(signer: Ed25519Key? = SyntheticChain.key(1)) -> SyntheticChain {
        var chain = SyntheticChain(signer: signer)
        chain.chainStart(at: t0)
        for i in 0..<10 { chain.poll(at: t0 + 1000 * Int64(i + 1) + 123, energy: 100 + Double(i) / 10) }
        return chain
    }

    static let keys = SyntheticChain.keys(SyntheticChain.keysLine(SyntheticChain.key(1)))

    func classes(_ report: VerifyReport) -> [VerifyReport.ProblemClass] {
        report.gateways.flatMap(\.problems).map(\.problemClass)
    }

    @Test func cleanChainVerifies() {
        let chain = Self.clean()
        let report = chain.verify(keys: Self.keys)
        #expect(report.exitCode == 0, "\(report.lines)")
        let g = try! #require(report.gateways.first)
        #expect(g.gateway == SyntheticChain.root && g.messages == 11 && g.startsWithChainStart)
        #expect(g.verifiedByKey.values.reduce(0, +) == 11)
        #expect(g.firstSeq == SyntheticChain.epoch * 1000 + 1 && g.lastSeq == SyntheticChain.epoch * 1000 + 11)
    }

    @Test func captureLinesRoundTrip() throws {
        let line = CaptureRecord(arrivedAt: UnixTime(milliseconds: 1_764_548_100_123), topic: "a/b/c/evidence", retain: true, payload: Array("{\"x\":1}".utf8))
        #expect(line.json == #"{"arrived_ms":1764548100123,"topic":"a/b/c/evidence","retain":true,"payload":"eyJ4IjoxfQ=="}"#)
        #expect(CaptureRecord(json: line.json) == line)
        #expect(CaptureRecord(json: #"{"topic":"t","payload":"e30="}"#) == nil)
    }

    /// One digit changed in a reading: the signature fails (14); unsigned, the next link fails (12).
    @Test func tamperedDigit() {
        for signed in [true, false] {
            var chain = Self.clean(signer: signed ? SyntheticChain.key(1) : nil)
            var text = String(decoding: chain.lines[4].payload, as: UTF8.self)
            text = text.replacingFirst("\"v\":100.3", with: "\"v\":100.4")
            chain.lines[4].payload = Array(text.utf8)
            let report = chain.verify(keys: signed ? Self.keys : nil)
            #expect(report.exitCode == (signed ? 14 : 12), "\(report.lines)")
            #expect(classes(report).contains(.brokenLink))
        }
    }

    @Test func droppedMessageIsAnUndeclaredGap() {
        var chain = Self.clean()
        let lost = chain.lines.remove(at: 5)
        let report = chain.verify(keys: Self.keys)
        #expect(report.exitCode == 10)
        let g = report.gateways[0]
        let seq = try! ChainMessage.parse(lost.payload, topic: CaptureTopic(lost.topic)).seq
        #expect(g.holes.map { [$0.fromSeq, $0.toSeq] } == [[seq, seq]] && g.holes[0].declaredReason == nil)
        #expect(g.problems.map(\.seq) == [seq])
    }

    /// Arrival order does not matter (order is by seq); a swapped `prev` does.
    @Test func reorderedCaptureVerifiesButSwappedPrevBreaks() {
        var chain = Self.clean()
        chain.lines.swapAt(3, 7)
        chain.lines.reverse()
        #expect(chain.verify(keys: Self.keys).exitCode == 0)

        var unsigned = Self.clean(signer: nil)
        let p3 = Self.prev(of: unsigned.lines[3]), p4 = Self.prev(of: unsigned.lines[4])
        unsigned.lines[3].payload = Self.replacing(p3, with: p4, in: unsigned.lines[3].payload)
        unsigned.lines[4].payload = Self.replacing(p4, with: p3, in: unsigned.lines[4].payload)
        let report = unsigned.verify(keys: nil)
        #expect(report.exitCode == 12)
        #expect(!report.signaturesChecked && report.lines.contains { $0.contains("NOT CHECKED") })
    }

    @Test func duplicates() {
        var chain = Self.clean()
        chain.lines.append(chain.lines[2])
        chain.lines.insert(chain.lines[6], at: 1)
        var report = chain.verify(keys: Self.keys)
        #expect(report.exitCode == 0 && report.gateways[0].redeliveries == 2 && report.gateways[0].messages == 11)

        // The same seq with other bytes that do not verify: a bad signature, and the copy that verifies stands in the
        // chain; without keys, any two different copies are equivocation.
        var other = Self.clean()
        other.lines.append(Self.clean(signer: SyntheticChain.key(1)).lines[3])
        var forged = other.lines[3]
        forged.payload = Array(String(decoding: forged.payload, as: UTF8.self).replacingFirst("\"v\":1000", with: "\"v\":999").utf8)
        other.lines.insert(forged, at: 2)
        report = other.verify(keys: Self.keys)
        #expect(report.exitCode == 14, "\(report.lines)")
        #expect(report.gateways[0].redeliveries == 1 && !report.gateways[0].problems.contains { $0.problemClass == .brokenLink })
        #expect(other.verify(keys: nil).exitCode == 15)

        // Two different messages with one seq that both verify: the key signed two histories.
        var twice = Self.clean()
        var fork = SyntheticChain(signer: SyntheticChain.key(1), firstSeq: SyntheticChain.epoch * 1000 + 5)
        fork.head = SyntheticChain.crypto.sha256(twice.lines[3].payload)
        fork.poll(at: Self.t0 + 4123, energy: 555)
        twice.lines.append(fork.lines[0])
        #expect(twice.verify(keys: Self.keys).exitCode == 15)
    }

    @Test func declaredGapBridgesTheHole() {
        var chain = Self.clean()
        chain.dropDeclared(3..<6, at: Self.t0 + 20_000)
        chain.poll(at: Self.t0 + 21_000, energy: 101.5)
        let report = chain.verify(keys: Self.keys)
        #expect(report.exitCode == 0, "\(report.lines)")
        let hole = try! #require(report.gateways[0].holes.first)
        #expect(hole.count == 3 && hole.declaredReason == "buffer-bounds")
    }

    /// A notice whose first_prev names another message declares the numbers but does not link: 12.
    @Test func gapNoticeWithWrongFirstPrev() {
        var chain = Self.clean()
        chain.dropDeclared(3..<6, at: Self.t0 + 20_000, firstPrev: [UInt8](repeating: 7, count: 32))
        let report = chain.verify(keys: Self.keys)
        #expect(report.exitCode == 12, "\(report.lines)")
        #expect(report.gateways[0].holes.first?.declaredReason == "buffer-bounds")
        // Only part of a hole declared: the rest is an undeclared gap.
        var partial = Self.clean()
        partial.dropDeclared(3..<6, at: Self.t0 + 20_000)
        partial.lines.remove(at: 6)
        #expect(partial.verify(keys: Self.keys).exitCode == 10)
    }

    @Test func endorsedKeyHandover() {
        var chain = Self.clean()
        let next = SyntheticChain.key(2)
        let handover = KeyHandover(
            previousKid: chain.sealer.keyID, nextKid: KeyID.of(publicKey: next.publicKey, crypto: SyntheticChain.crypto),
            nextPublicKey: next.publicKey, endorsed: true)
        chain.commit(handover.draft(at: UnixTime(milliseconds: Self.t0 + 11_000)))
        chain.sealer = MessageSealer(crypto: SyntheticChain.crypto, signer: next)
        chain.poll(at: Self.t0 + 12_000, energy: 101.1)
        #expect(chain.verify(keys: Self.keys).exitCode == 0, "\(chain.verify(keys: Self.keys).lines)")

        // The same new key without an endorsement, and not in the keys file: key error.
        var lost = Self.clean()
        let unendorsed = KeyHandover(previousKid: nil, nextKid: handover.nextKid, nextPublicKey: next.publicKey, endorsed: false)
        lost.sealer = MessageSealer(crypto: SyntheticChain.crypto, signer: next)
        lost.commit(unendorsed.draft(at: UnixTime(milliseconds: Self.t0 + 11_000)))
        lost.poll(at: Self.t0 + 12_000, energy: 101.1)
        #expect(lost.verify(keys: Self.keys).exitCode == 13)
        // Registered out of band, it verifies.
        let both = SyntheticChain.keys(SyntheticChain.keysLine(SyntheticChain.key(1)) + "\n" + SyntheticChain.keysLine(next))
        #expect(lost.verify(keys: both).exitCode == 0)
        // A handover endorsed by a key nobody trusts proves nothing.
        var forged = Self.clean(signer: SyntheticChain.key(3))
        forged.commit(handover.draft(at: UnixTime(milliseconds: Self.t0 + 11_000)))
        #expect(forged.verify(keys: Self.keys).exitCode == 13)
    }

    @Test func keyValidity() {
        let chain = Self.clean()
        let expired = SyntheticChain.keys(
            "# registered for 2025 only\n" + SyntheticChain.keysLine(SyntheticChain.key(1), extra: "until=2026-01-01T00:00:05Z"))
        let report = chain.verify(keys: expired)
        #expect(report.exitCode == 13)
        // The chain start and the polls at :01 … :04 are inside, the rest are not.
        #expect(report.gateways[0].problems.count == 6)
        let notYet = SyntheticChain.keys(SyntheticChain.keysLine(SyntheticChain.key(1), extra: "from=2026-01-01T01:00:00+01:00"))
        #expect(chain.verify(keys: notYet).exitCode == 0)
        #expect(Self.clean(signer: nil).verify(keys: Self.keys).exitCode == 13, "unsigned while keys are given")
    }

    @Test func malformedMessages() {
        var chain = Self.clean()
        chain.lines[2].payload = Array(chain.lines[2].payload.dropLast())
        chain.lines.append(CaptureRecord(arrivedAt: UnixTime(milliseconds: 0), topic: SyntheticChain.root + "/evidence", retain: false, payload: Array("{\"kind\":\"gap\"}".utf8)))
        let report = chain.verify(keys: Self.keys)
        // The broken message is not in the chain: its number is missing too (10), but 11 wins.
        #expect(report.exitCode == 11)
        #expect(report.gateways[0].problems.filter { $0.problemClass == .malformed }.map(\.line) == [3, 12])
    }

    /// A member name twice in one object: a reader keeping the first and one keeping the last would see different
    /// values, so the message is malformed (11), as `scripts/verify_evidence.py` finds too.
    @Test func aRepeatedMemberIsMalformed() {
        var chain = Self.clean()
        let original = String(decoding: chain.lines[4].payload, as: UTF8.self)
        let repeated = original.replacingOccurrences(of: ",\"prev\":", with: ",\"n\":\"x\",\"n\":\"y\",\"prev\":")
        #expect(repeated != original)
        chain.lines[4].payload = Array(repeated.utf8)
        let report = chain.verify(keys: Self.keys)
        #expect(report.exitCode == 11)
        #expect(report.gateways[0].problems.contains { $0.problemClass == .malformed && $0.line == 5 && $0.message.contains("duplicate member 'n'") })
        #expect(JSONValue.parse(#"{"a":1,"b":{"a":2}}"#) != nil, "the same name in nested objects is fine")
    }

    /// Messages of contract v1, published from an upgraded buffer before its `chain-start`: counted, not errors.
    @Test func v1MessagesAreCountedNotFailed() {
        var chain = Self.clean()
        let v1 = #"[{"bn":"urn:dev:gia:demo-park:gw01:main-incomer:","bt":1767225590.5,"seq":1764547100000007,"n":"energy_import","u":"kWh","v":99.9,"q":"backfill"}]"#
        chain.lines.insert(
            CaptureRecord(arrivedAt: UnixTime(milliseconds: Self.t0), topic: SyntheticChain.root + "/main-incomer/data", retain: false, payload: Array(v1.utf8)),
            at: 0)
        let report = chain.verify(keys: Self.keys)
        #expect(report.exitCode == 0 && report.gateways[0].v1Messages == 1 && report.gateways[0].messages == 11)
        #expect(report.json.contains(#""v1_messages":1"#))
        // A v2 message that lost its prev is not v1 (it still has `poll` and `kid`): malformed.
        chain.lines[3].payload = Self.replacing(",\"prev\":\"\(Self.prev(of: chain.lines[3]))\"", with: "", in: chain.lines[3].payload)
        // It still takes part: its signature no longer verifies (14); without keys the next link fails (12).
        let broken = chain.verify(keys: Self.keys)
        #expect(broken.exitCode == 14 && broken.gateways[0].v1Messages == 1)
        #expect(broken.gateways[0].problems.contains { $0.problemClass == .malformed })
        #expect(chain.verify(keys: nil).exitCode == 12)
    }

    @Test func keysFileErrors() {
        let text = "ed25519 AAAA\nrsa abc\ned25519 \(Base64.url(SyntheticChain.key(1).publicKey)) from=yesterday\n"
        #expect(throws: ConfigurationError.self) { try KeysFile.parse(text, file: "k", crypto: SyntheticChain.crypto) }
        do {
            _ = try KeysFile.parse(text, file: "k", crypto: SyntheticChain.crypto)
        } catch {
            #expect(error.diagnostics.map(\.description) == [
                "k:1:9: error: 'AAAA' is not a 32-byte Ed25519 public key in base64url",
                "k:2:1: error: unknown key algorithm 'rsa': only ed25519",
                "k:3:58: error: 'yesterday' is not an RFC 3339 time such as 2026-12-01T00:00:00Z",
            ])
        }
        #expect(UnixTime(rfc3339: "2026-01-01T00:00:00Z")?.milliseconds == Self.t0)
        #expect(UnixTime(rfc3339: "2026-01-01T01:00:00.250+01:00")?.milliseconds == Self.t0 + 250)
        #expect(UnixTime(rfc3339: "2026-13-01T00:00:00Z") == nil)
    }

    static func prev(of line: CaptureRecord) -> String {
        Base64.url(try! ChainMessage.parse(line.payload, topic: CaptureTopic(line.topic)).prev!)
    }

    static func replacing(_ a: String, with b: String, in payload: [UInt8]) -> [UInt8] {
        Array(String(decoding: payload, as: UTF8.self).replacingFirst(a, with: b).utf8)
    }
}

extension String {
    func replacingFirst(_ a: String, with b: String) -> String {
        guard let r = range(of: a) else { return self }
        return replacingCharacters(in: r, with: b)
    }
}
