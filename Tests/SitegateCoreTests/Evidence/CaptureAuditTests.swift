import SitegateCore
import SitegateCrypto
import Testing

/// The audit rules of docs/evidence.md ("Auditing a capture") on synthetic series, against hand-computed numbers.
@Suite struct CaptureAuditTests {
    static let t0: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z

    /// The retained meta: energy_import is a counter polled every 300 s.
    static func meta(interval: Double = 300) -> CaptureRecord {
        let meta = DeviceMetaMessage(
            device: "main-incomer", bn: SyntheticChain.encoder.baseName(device: "main-incomer"), manufacturer: "Eastron",
            models: ["SDM630"], medium: "electricity", serial: nil, map: .init(id: "eastron-sdm630", version: 2, hash: "x"),
            bus: "lan", unit: 1,
            points: [
                .init(n: "power", u: "W", kind: "gauge", obis: nil, intervalSeconds: interval, description: "", verified: true),
                .init(n: "energy_import", u: "kWh", kind: "counter", obis: nil, intervalSeconds: interval, description: "", verified: true),
            ])
        return CaptureRecord(arrivedAt: UnixTime(milliseconds: t0), topic: SyntheticChain.root + "/main-incomer/meta", retain: true, payload: Array(meta.json.utf8))
    }

    /// Polls at `t0 + s` seconds: a value, or nil for a failed poll (timeout).
    static func chain(_ polls: [(s: Int64, kWh: Double?)]) -> SyntheticChain {
        var chain = SyntheticChain()
        chain.chainStart(at: t0 - 600_000)
        for p in polls {
            if let v = p.kWh { chain.poll(at: t0 + p.s * 1000, energy: v) } else { chain.failedPoll(at: t0 + p.s * 1000, reason: .timeout) }
        }
        return chain
    }

    static func audit(_ chain: SyntheticChain, counters: [String]? = nil) -> CaptureAudit {
        let lines = [meta()] + chain.lines
        return CaptureAudit(
            lines: lines, verification: CaptureVerifier(crypto: SyntheticChain.crypto, keys: nil).verify(lines),
            options: .init(slotSeconds: 900, counters: counters))
    }

    static func rows(_ audit: CaptureAudit, _ point: String = "energy_import") -> [CaptureAudit.Row] {
        audit.gateways.flatMap(\.rows).filter { $0.point == point }
    }

    /// The worked example of docs/evidence.md.
    static let example: [(s: Int64, kWh: Double?)] = [
        (-290, 999.5), (10, 1000.0), (310, 1000.5), (610, 1001.0), (910, 1001.6), (1210, 1002.1), (1510, 1002.6),
        (1810, nil), (2110, 1003.4), (2410, 1003.9), (2710, 1004.2),
    ]

    @Test func workedExample() throws {
        let audit = Self.audit(Self.chain(Self.example))
        let rows = Self.rows(audit)
        #expect(rows.map(\.slotStart) == [-900, 0, 900, 1800, 2700].map { Self.t0 / 1000 + $0 })
        #expect(rows.map(\.status) == [.missing, .measured, .estimated, .estimated, .missing])
        let energy = rows.map { $0.energy.map { AuditFormat.decimal($0) } }
        #expect(energy == [nil, "1.596667", "1.406667", "1.203333", nil])
        #expect(rows.map { $0.startValue.map { AuditFormat.decimal($0) } } == [nil, "999.983333", "1001.58", "1002.986667", "1004.19"])
        // The slots' energies add up to the difference of the outer boundaries: interpolation conserves the total.
        let sum = rows.compactMap(\.energy).reduce(0, +)
        #expect(abs(sum - (rows[3].endValue! - rows[1].startValue!)) < 1e-9)
        #expect(rows[2].reasons == ["failed: timeout ×1"] && rows[3].reasons == ["failed: timeout ×1"])
        #expect(rows[0].reasons == ["no good reading before the slot in the capture"])
        #expect(rows[4].reasons == ["no good reading after the slot in the capture"])
        #expect(rows[1].reasons.isEmpty && rows[1].received == 3 && rows[2].received == 3)
        // Gauges are not accounted for; the CSV and JSON carry the same numbers.
        #expect(Self.rows(audit, "power").isEmpty)
        #expect(audit.csv[2].hasPrefix("gia/v1/demo-park/gw01,2026-01-01T00:00:00.000Z,2026-01-01T00:15:00.000Z,main-incomer,energy_import,kWh,MEASURED,1.596667,999.983333,1001.58,3,,,"))
        #expect(audit.json.contains(#""status":"ESTIMATED","energy":1.406667"#))
        #expect(audit.table.contains { $0.contains("2026-01-01 00:15/00:30") && $0.contains("ESTIMATED") && $0.contains("1.407 kWh") })
    }

    /// A meter dead for a whole slot: MISSING, with the reason the data gives (`_poll` records) and the checkpoint's count.
    @Test func deadSlotIsMissingWithItsReason() throws {
        var polls: [(s: Int64, kWh: Double?)] = (0..<9).map { (Int64($0) * 300 + 10, 1000 + Double($0)) }
        polls += [(2710, nil), (3010, nil), (3310, nil)]
        polls += (12..<17).map { (Int64($0) * 300 + 10, 1000 + Double($0)) }
        var chain = Self.chain(polls)
        chain.checkpoint(start: Self.t0 / 1000 + 2700, device: "main-incomer", due: 3, full: 0, failed: 3, notRunning: 0)
        let rows = Self.rows(Self.audit(chain))
        let dead = try #require(rows.first { $0.slotStart == Self.t0 / 1000 + 2700 })
        #expect(dead.status == .missing && dead.energy == nil)
        #expect(dead.reasons == ["failed: timeout ×3"])
        #expect(dead.received == 3 && dead.committed == 3 && dead.due == 3)
        // The slot after it rests on a wide bracket at its start: ESTIMATED, and says why.
        let after = try #require(rows.first { $0.slotStart == Self.t0 / 1000 + 3600 })
        #expect(after.status == .estimated && after.reasons == ["failed: timeout ×3"])
        #expect(rows.first { $0.slotStart == Self.t0 / 1000 + 900 }?.status == .measured)
    }

    /// The agent stopped for two slots: no data, and checkpoints that count the ticks as `not-running`.
    @Test func agentDownIsMissingWithTheCheckpointsReason() throws {
        var polls: [(s: Int64, kWh: Double?)] = (0..<7).map { (Int64($0) * 300 - 290, 1000 + Double($0)) }  // to 1510 s
        polls += (12..<15).map { (Int64($0) * 300 + 10, 1010 + Double($0)) }  // from 3610 s
        var chain = Self.chain(Array(polls.prefix(7)))
        chain.checkpoint(start: Self.t0 / 1000 + 1800, device: "main-incomer", due: 3, full: 0, failed: 0, notRunning: 3)
        chain.checkpoint(start: Self.t0 / 1000 + 2700, device: "main-incomer", due: 3, full: 0, failed: 0, notRunning: 3)
        for p in polls.dropFirst(7) { chain.poll(at: Self.t0 + p.s * 1000, energy: p.kWh!) }
        let rows = Self.rows(Self.audit(chain))
        let down = rows.filter { [1800, 2700].map { Self.t0 / 1000 + $0 }.contains($0.slotStart) }
        #expect(down.map(\.status) == [.missing, .missing])
        // Counted over the stretch the slot's value depends on (1510 s to 3610 s): both checkpoints.
        #expect(down.allSatisfy { $0.reasons == ["not-running ×6"] && $0.received == 0 && $0.committed == 0 && $0.due == 3 })
        #expect(rows.first { $0.slotStart == Self.t0 / 1000 + 900 }?.status == .estimated)
    }

    @Test func counterResetIsInvalid() throws {
        let polls: [(s: Int64, kWh: Double?)] = [(-290, 1000), (10, 1000.5), (310, 1001), (610, 0.2), (910, 0.7), (1210, 1.2), (1510, 1.7), (1810, 2.2)]
        let rows = Self.rows(Self.audit(Self.chain(polls)))
        let slot = try #require(rows.first { $0.slotStart == Self.t0 / 1000 })
        #expect(slot.status == .invalid && slot.energy == nil)
        #expect(slot.reasons.first?.hasPrefix("counter decreased from 1001 to 0.2 at 2026-01-01T00:10:10.000Z") == true)
        #expect(rows.first { $0.slotStart == Self.t0 / 1000 + 900 }?.status == .measured)
        // Only invalid sentinels in a slot: INVALID too.
        var chain = Self.chain([(-290, 1000), (10, 1000.5), (310, 1001), (610, 1001.5)])
        for s in [910, 1210, 1510] as [Int64] { chain.poll(at: Self.t0 + s * 1000, energy: 0, invalid: true) }
        chain.poll(at: Self.t0 + 1810 * 1000, energy: 1003)
        let invalid = Self.rows(Self.audit(chain)).first { $0.slotStart == Self.t0 / 1000 + 900 }
        #expect(invalid?.status == .invalid && invalid?.reasons == ["only invalid values (3)"], "\(String(describing: invalid))")
    }

    /// Holes in the stream name the slots they touch: a gap notice (declared) or messages lost (undeclared).
    @Test func streamHolesAreReasons() throws {
        var chain = Self.chain(Self.example)
        // Lose the poll at 910 s (line 6: chain start, then -290, 10, 310, 610, 910) after the gateway.
        chain.lines.remove(at: 5)
        var rows = Self.rows(Self.audit(chain))
        var slot = try #require(rows.first { $0.slotStart == Self.t0 / 1000 })
        #expect(slot.status == .estimated)
        #expect(slot.reasons.contains { $0.hasPrefix("messages lost: seq") && $0.hasSuffix("(undeclared gap)") })

        chain = Self.chain(Self.example)
        chain.dropDeclared(5..<6, at: Self.t0 + 3_000_000)
        rows = Self.rows(Self.audit(chain))
        slot = try #require(rows.first { $0.slotStart == Self.t0 / 1000 })
        #expect(slot.reasons.contains { $0.hasPrefix("gap notice (buffer-bounds): seq") })
        #expect(Self.audit(chain).gateways[0].declaredHoles == 1)
    }

    @Test func countersOptionAndDecimals() {
        let audit = CaptureAudit(
            lines: Self.chain(Self.example).lines,
            verification: CaptureVerifier(crypto: SyntheticChain.crypto, keys: nil).verify(Self.chain(Self.example).lines),
            options: .init(slotSeconds: 900, counters: ["energy_import"]))
        // No meta: the interval is the median spacing of the readings (300 s), so the same statuses follow.
        #expect(Self.rows(audit).map(\.status) == [.missing, .measured, .estimated, .estimated, .missing])
        #expect(AuditFormat.decimal(1.5966666666) == "1.596667")
        #expect(AuditFormat.decimal(-0.0000001) == "0")
        #expect(AuditFormat.decimal(12) == "12")
        #expect(AuditFormat.decimal(-2.5) == "-2.5")
    }
}

extension SyntheticChain {
    /// A checkpoint for one device and the 15-minute slot starting at `start` (Unix seconds).
    mutating func checkpoint(start: Int64, device: String, due: Int, full: Int, failed: Int, notRunning: Int) {
        let members =
            #""slot":{"start":\#(start),"end":\#(start + 900)},"devices":{"\#(device)":{"due":\#(due),"full":\#(full),"partial":0,"failed":\#(failed),"missed":{"overrun":0,"clock-step":0,"not-running":\#(notRunning)}}}"#
        commit(
            MessageDraft(
                head: "{\"kind\":\"checkpoint\"", body: ",\"time\":\(start + 900)," + members, form: .object, destination: .evidence,
                time: UnixTime(seconds: start + 900)))
    }
}
