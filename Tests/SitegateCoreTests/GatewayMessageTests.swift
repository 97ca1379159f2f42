import Foundation
import SitegateCore
import Testing

/// Samples of every gateway message, shared by the round-trip, byte and schema tests.
enum GatewayMessageSamples {
    static let online = GatewayStatusMessage(
        state: .online, site: "demo-park", gateway: "gw01", version: "0.1.0", started: "2026-11-29T04:52:34.557Z",
        configHash: "fnv1a64:45a2021997d1675d")

    static let meta = DeviceMetaMessage(
        device: "main-incomer", bn: "urn:dev:gia:demo-park:gw01:main-incomer:", manufacturer: "Eastron",
        models: ["SDM630-Modbus", "SDM630-Modbus V2", "SDM630-MID V2"], medium: "electricity", serial: "23104567",
        map: .init(id: "eastron-sdm630", version: 1, hash: "fnv1a64:519c729f43c996cc"), bus: "rs485-main", unit: 1,
        points: [
            .init(
                n: "voltage_l1", u: "V", kind: "gauge", obis: "1-0:32.7.0", intervalSeconds: 900,
                description: "Phase 1 line to neutral voltage", verified: true),
            .init(
                n: "energy_import", u: "kWh", kind: "counter", obis: "1-0:1.8.0", intervalSeconds: 900,
                description: "Total import active energy", verified: true),
        ])

    static let figures = DeviceHealthFigures(
        state: .ok, readsOK: 2780, errors: ["timeout": 3], missedTicks: 0, backoff: false, backoffSkips: 0,
        lastGoodRead: "2026-01-01T00:15:00.315Z")

    static let load = BusLoadFigures(
        transactions: 5566, timeouts: 3, missedTicks: 0, missedTicksRecent: 0, utilisation: 0.004, transactionMS: 1.2,
        overloaded: false, advice: nil)

    static let health = HealthMessage(
        time: "2026-01-01T00:16:00.004Z", started: "2025-12-30T08:00:01.120Z", devices: ["main-incomer": figures],
        buses: ["plant-lan": load],
        buffer: BufferFigures(
            notCommitted: 0, paused: false,
            outbox: .init(
                depth: 0, oldest: nil, usedBytes: 20480, maxBytes: 134_217_728, drops: 0,
                dropRange: .init(from: nil, to: nil))),
        broker: .init(published: 2783, node: "mqtts://mq1.nordwest.example:8883"))

    static let status = StatusReply(
        site: "demo-park", gateway: "gw01", version: "0.1.0", time: "2026-01-01T00:16:00.004Z",
        broker: .init(
            url: "mqtt://127.0.0.1:1883", nodes: ["mqtt://127.0.0.1:1883", "mqtt://127.0.0.2:1883"], connected: false,
            state: "connection lost at 2026-01-01T00:10:00.000Z", connectedAt: "2026-01-01T00:00:00.000Z",
            lostAt: "2026-01-01T00:10:00.000Z", detail: "connection refused", published: 12),
        buses: [.init(id: "rs485-main", transport: "rtu /dev/ttyUSB0 9600 8N1", devices: 2, ok: 1, readsOK: 40, errors: ["timeout": 2],
            load: .init(
                transactions: 9, timeouts: 2, missedTicks: 4, missedTicksRecent: 1, utilisation: 0.951, transactionMS: nil,
                overloaded: true, advice: "busy 95% of the time"))],
        devices: [
            .init(id: "main-incomer", bus: "rs485-main", unit: 1, model: "eastron-sdm630", lastResponseMS: 48, health: figures),
            .init(
                id: "hall", bus: "rs485-main", unit: 2, model: "eastron-sdm630", lastResponseMS: nil,
                health: .init(state: .failing, errors: ["timeout": 2], lastError: "no response (timeout)")),
        ],
        buffer: BufferFigures(
            notCommitted: 1, paused: false,
            outbox: .init(depth: 3, oldest: "2026-01-01T00:00:00.000Z", usedBytes: 4096, maxBytes: 8192, drops: 0, lastSeq: 99)))

    static let read = ReadReport(
        device: "meter", model: "eastron-sdm630", unit: 1, bus: "rs485-main", transactions: 2,
        takenAt: "2026-01-01T00:00:00.000Z", errors: ["exception illegal data address at 0x0156"],
        points: [
            .init(
                id: "voltage_l1", address: 0, function: "input", type: "float32", unit: "V", range: 0...100,
                raw: "4366 3333", value: 230.2, status: "ok", outOfRange: true),
            .init(id: "serial", address: 0xFC00, function: "holding", type: "uint32", raw: "0001 0002", text: "65538", status: "ok"),
            .init(id: "bad", address: 4, function: "input", type: "float32", status: "invalid"),
            .init(id: "gone", address: 0x156, function: "input", type: "float32", unit: "kWh", status: "refused"),
        ])

    static let bufferStats = BufferStatsReport(
        path: "/var/lib/sitegate/buffer.db", depth: 2, oldestSeq: 7, oldestTakenAt: "2026-01-01T00:00:00.000Z",
        lastSeq: 8, usedBytes: 4096, fileBytes: 8192, maxBytes: 134_217_728, drops: 1,
        dropsFrom: "2025-12-01T00:00:00.000Z", dropsTo: nil)

    static let error = ControlErrorReply("no device 'x' in the running config")
}

@Suite struct GatewayMessageTests {
    typealias S = GatewayMessageSamples

    func roundTrips<M: JSONMessage & Equatable>(_ message: M) {
        let back = M(json: message.json)
        #expect(back == message, "\(message.json)")
        #expect(back?.json == message.json)
    }

    @Test func everyMessageReadsBackWhatItWrote() {
        roundTrips(S.online)
        roundTrips(GatewayStatusMessage(json: S.online.json.replacingOccurrences(of: "online", with: "offline"))!)
        roundTrips(S.meta)
        roundTrips(S.health)
        roundTrips(S.status)
        roundTrips(S.read)
        roundTrips(S.bufferStats)
        roundTrips(S.error)
    }

    /// The bytes docs/payload.md shows (its examples are wrapped for reading: without the line breaks).
    @Test func bytesAsDocumented() {
        #expect(
            S.online.json
                == #"{"state":"online","site":"demo-park","gateway":"gw01","version":"0.1.0","started":"2026-11-29T04:52:34.557Z","config_hash":"fnv1a64:45a2021997d1675d"}"#
        )
        #expect(
            S.health.json
                == #"{"time":"2026-01-01T00:16:00.004Z","started":"2025-12-30T08:00:01.120Z","devices":{"main-incomer":{"state":"ok","reads_ok":2780,"errors":{"timeout":3},"missed_ticks":0,"backoff":false,"backoff_skips":0,"last_good_read":"2026-01-01T00:15:00.315Z"}},"buses":{"plant-lan":{"transactions":5566,"timeouts":3,"missed_ticks":0,"missed_ticks_recent":0,"utilisation":0.004,"transaction_ms":1.2,"overloaded":false}},"buffer":{"not_committed":0,"paused":false,"depth":0,"oldest":null,"used_bytes":20480,"max_bytes":134217728,"drops":0,"drops_from":null,"drops_to":null},"broker":{"published":2783,"node":"mqtts://mq1.nordwest.example:8883"}}"#
        )
        #expect(S.meta.json.hasPrefix(#"{"device":"main-incomer","bn":"urn:dev:gia:demo-park:gw01:main-incomer:","manufacturer":"Eastron","models":["SDM630-Modbus","SDM630-Modbus V2","SDM630-MID V2"],"medium":"electricity","serial":"23104567","map":{"id":"eastron-sdm630","version":1,"hash":"fnv1a64:519c729f43c996cc"},"bus":"rs485-main","unit":1,"points":[{"n":"voltage_l1","u":"V","kind":"gauge","obis":"1-0:32.7.0","interval_s":900,"description":"Phase 1 line to neutral voltage"}"#))
        #expect(S.error.json == #"{"error":"no device 'x' in the running config"}"#)
    }

    @Test func optionalFieldsAreLeftOutOrNull() {
        var meta = S.meta
        meta.serial = nil
        meta.points[0].verified = false
        meta.points[0].obis = nil
        #expect(!meta.json.contains("serial") && meta.json.contains(#""verified":false"#) && !meta.json.contains(#""obis":"1-0:32"#))
        #expect(S.status.json.contains(#""last_response_ms":null"#) && S.status.json.contains(#""last_seq":99"#))
        #expect(!S.status.json.contains("drops_from"), "the status reply's buffer has no drop range")
        #expect(S.read.json.contains(#""status":"invalid"}"#) && S.read.json.contains(#""range":[0,100]"#))
    }

    @Test func lenientWithOlderAgentsAndStrictWithOtherDocuments() {
        // An agent before broker states: no "state"; the reply still reads.
        let old = #"{"site":"s","gateway":"g","version":"0.0.9","time":"t","broker":{"url":"mqtt://h:1883","connected":true,"detail":"connected","published":3},"buses":[],"devices":[],"buffer":{"not_committed":0,"paused":false}}"#
        let reply = StatusReply(json: old)
        #expect(reply?.broker.state == nil && reply?.allGood == true && reply?.buffer.outbox == nil)
        #expect(StatusReply(json: S.error.json) == nil)
        #expect(ControlErrorReply(json: S.status.json) == nil)
        #expect(ReadReport(json: "not json") == nil)
        #expect(S.status.allGood == false)
        // An agent before bus figures: no load, and a health message without "buses".
        #expect(reply?.buses.isEmpty == true)
        let bus = StatusReply.Bus(fields: JSONObjectReader(JSONValue.parse(#"{"id":"b","transport":"tcp h:502","devices":1,"ok":1,"reads_ok":2,"errors":{}}"#))!)
        #expect(bus.load == nil && !bus.json.contains("utilisation"))
        #expect(S.status.json.contains(#""errors":{"timeout":2},"transactions":9,"#) && S.status.json.contains(#""transaction_ms":null"#))
    }
}

/// `sitegate raw --json`, byte for byte as before it became a type.
@Suite struct RawRegisterReportTests {
    @Test func bytes() throws {
        let address = try RegisterAddress.parse("30001", function: nil).get()
        let json = RawRegisterReport(unit: 1, address: address, registers: [0x4366, 0x3333, 0xFFFF, 0xFFFF]).json
        #expect(json.hasPrefix(#"{"unit":1,"function":4,"address":0,"explanation":"#), "\(json)")
        #expect(json.contains(#""registers":[17254,13107,65535,65535],"u32":[{"address":0,"order":"ABCD","hex":"43663333","#))
        #expect(json.contains(#""unsigned":18446744070273581926"#), "64-bit values above Int64 stay exact")
        #expect(JSONValue.parse(json)?["u64"]?.array?.count == 4)
    }
}

/// `sitegate buffer export --format ndjson` (v2: the stored payload as is, evidence messages with no device).
@Suite struct BufferExportLineTests {
    @Test func bytes() {
        let line = BufferExportLine(
            seq: 42, topic: "gia/v1/demo-park/gw01/main-incomer/data", device: "main-incomer",
            committedAt: "2026-01-01T00:15:00.400Z", payload: #"[{"bn":"x","n":"v","v":1}]"#)
        #expect(
            line.json
                == #"{"seq":42,"topic":"gia/v1/demo-park/gw01/main-incomer/data","device":"main-incomer","committed_at":"2026-01-01T00:15:00.400Z","payload":[{"bn":"x","n":"v","v":1}]}"#
        )
        let evidence = BufferExportLine(
            seq: 43, topic: "gia/v1/demo-park/gw01/evidence", device: nil, committedAt: "2026-01-01T00:15:00.400Z",
            payload: #"{"kind":"gap"}"#)
        #expect(evidence.json.contains(#""device":null"#))
    }
}
