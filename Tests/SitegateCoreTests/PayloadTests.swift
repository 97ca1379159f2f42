import SitegateCore
import Testing

@Suite struct PayloadTests {
    let encoder = SenMLEncoder(siteID: "demo-park", gatewayID: "gw01")

    func poll(_ readings: [Reading], failures: [PointFailure] = [], clock: Bool = false) -> Poll {
        Poll(
            deviceID: "main-incomer", takenAt: UnixTime(milliseconds: 1_767_226_500_400), readings: readings,
            failures: failures, clockUnsynchronised: clock)
    }

    /// Sealed without a key and without a chain link: the draft plus `seq`.
    func bytes(_ draft: MessageDraft, seq: Int64 = 42) -> String {
        String(decoding: MessageSealer(crypto: NoCrypto(), signer: nil).seal(draft, seq: seq, prev: nil), as: UTF8.self)
    }

    @Test func packCarriesBaseFieldsOnce() {
        let json = bytes(
            encoder.draft(
                poll([
                    Reading(pointID: "voltage_l1", unit: "V", value: .number(230.2)),
                    Reading(pointID: "energy_import", unit: "kWh", value: .number(12345.5), offset: .milliseconds(120)),
                ])))
        #expect(
            json
                == #"[{"bn":"urn:dev:gia:demo-park:gw01:main-incomer:","bt":1767226500.4,"bver":26,"seq":42,"poll":"full","n":"voltage_l1","u":"V","v":230.2},{"n":"energy_import","u":"kWh","v":12345.5,"t":0.12}]"#
        )
    }

    @Test func primaryUnitsOnlyOmitBver() {
        let json = bytes(encoder.draft(poll([Reading(pointID: "power", unit: "W", value: .number(-1520))])))
        #expect(!json.contains("bver"))
        #expect(json.contains(#""v":-1520}"#))
    }

    @Test func invalidAndClockAreLabelled() {
        let json = bytes(encoder.draft(poll([Reading(pointID: "power", unit: "W", value: .invalid(raw: "7fffffff"))], clock: true)))
        #expect(json.contains(#""vs":"7fffffff","q":"invalid,clock""#))
    }

    @Test func partialPollNamesEachFailedPoint() {
        let json = bytes(
            encoder.draft(
                poll(
                    [Reading(pointID: "power", unit: "W", value: .number(5))],
                    failures: [
                        PointFailure(pointID: "energy_import", unit: "kWh", reason: .timeout),
                        PointFailure(pointID: "energy_export", unit: "kWh", reason: .skipped),
                    ])))
        #expect(
            json.hasSuffix(
                #""poll":"partial","n":"power","u":"W","v":5},{"n":"energy_import","u":"kWh","vs":"timeout","q":"failed"},{"n":"energy_export","u":"kWh","vs":"skipped","q":"failed"}]"#
            ), "\(json)")
        #expect(json.contains(#""bver":26"#), "a failed kWh point is a secondary unit too")
    }

    @Test func failedPollIsOneRecordWithTheReason() {
        let failed = Poll.failed(
            deviceID: "main-incomer", at: UnixTime(milliseconds: 1_767_226_500_000),
            tick: UnixTime(milliseconds: 1_767_226_500_000), reason: .exception(code: 2))
        #expect(
            bytes(encoder.draft(failed))
                == #"[{"bn":"urn:dev:gia:demo-park:gw01:main-incomer:","bt":1767226500,"seq":42,"poll":"failed","n":"_poll","vs":"exception:2","q":"failed"}]"#
        )
        #expect(FailureReason(text: "exception:2") == .exception(code: 2))
        #expect(FailureReason(text: "backoff") == .backoff)
        #expect(FailureReason(text: "exception:x") == nil)
    }

    @Test func readingsSurviveTheBufferCodec() throws {
        let readings = [
            Reading(pointID: "voltage_l1", unit: "V", value: .number(230.2)),
            Reading(pointID: "serial", unit: nil, value: .text("SN-1"), offset: .milliseconds(5)),
            Reading(pointID: "power", unit: "W", value: .invalid(raw: "ffff"), offset: .milliseconds(70_000)),
        ]
        #expect(try ReadingCodec.decode(ReadingCodec.encode(readings)) == readings)
        #expect(throws: ReadingCodec.DecodingError.self) { try ReadingCodec.decode([1, 0, 200]) }
    }

    @Test func jsonEscapesAndNumbers() {
        #expect(JSONText.quoted("a\"b\\c\n\u{1}") == #""a\"b\\c\n\u0001""#)
        #expect(JSONText.number(3) == "3")
        #expect(JSONText.number(0.1) == "0.1")
        #expect(JSONText.number(1e20) == "1e+20")
        #expect(JSONText.seconds(milliseconds: 1_500) == "1.5")
        #expect(JSONText.seconds(milliseconds: 1_005) == "1.005")
    }

    /// libmosquitto may report a PUBACK before publish() returned the id: both orders must end with the seq acked.
    @Test func ledgerAcceptsAckBeforeRegister() {
        var ledger = PublishLedger()
        #expect(ledger.acknowledge(mid: 7) == nil)
        #expect(ledger.register(mid: 7, seq: 100) == 100)
        #expect(ledger.inflightCount == 0)
        #expect(ledger.register(mid: 8, seq: 101) == nil)
        #expect(ledger.inflightCount == 1)
        #expect(ledger.acknowledge(mid: 8) == 101)
        #expect(ledger.inflightCount == 0)
    }
}

@Suite struct PublishLedgerTests {
    /// A status message's ack must never be taken for a poll's, whatever the order of events.
    @Test func otherMessagesNeverAcknowledgePolls() {
        var ledger = PublishLedger()
        ledger.registerOther(mid: 1)
        #expect(ledger.acknowledge(mid: 1) == nil)
        #expect(ledger.register(mid: 1, seq: 10) == nil, "mid 1 reused by a poll: not acked by the old ack")
        #expect(ledger.acknowledge(mid: 1) == 10)
        // Ack first, then the registration as another message.
        #expect(ledger.acknowledge(mid: 2) == nil)
        ledger.registerOther(mid: 2)
        #expect(ledger.register(mid: 2, seq: 11) == nil)
    }

    @Test func refusedPollLeavesTheWindow() {
        var ledger = PublishLedger()
        ledger.register(mid: 5, seq: 50)
        #expect(ledger.refuse(mid: 5) == 50)
        #expect(ledger.inflightCount == 0 && !ledger.isInflight(seq: 50))
    }
}

@Suite struct JSONValueTests {
    @Test func parsesWhatTheAgentWrites() {
        let v = JSONValue.parse(#"{"a":[1,2.5,-3e2],"b":{"c":"x\"y\u0041"},"d":true,"e":null}"#)
        #expect(v?["a"]?.array?.map(\.number) == [1, 2.5, -300])
        #expect(v?["b"]?["c"]?.string == "x\"yA")
        #expect(v?["d"]?.bool == true && v?["e"] == .null)
        #expect(JSONValue.parse("{\"a\":}") == nil)
        #expect(JSONValue.parse("[1,2") == nil)
        #expect(JSONValue.parse(String(repeating: "[", count: 100)) == nil)
    }
}

/// For payload tests that do not chain or sign.
struct NoCrypto: EvidenceCrypto {
    func sha256(_ bytes: [UInt8]) -> [UInt8] { [UInt8](repeating: 0, count: 32) }
    func verifyEd25519(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool { false }
}
