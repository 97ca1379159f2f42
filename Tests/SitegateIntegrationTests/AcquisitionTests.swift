import Foundation
import SitegateConfig
import SitegateCore
import SitegateSimulator
import SitegateTestSupport
import Testing

/// Acquisition with real parts: RTU through a socat pty pair (against the simulator and against pymodbus), many
/// unit ids behind one TCP endpoint, a dead device on a busy bus, and a meter that refuses registers.
@Suite(.serialized, .timeLimit(.minutes(3))) struct AcquisitionTests {
    static let map: DeviceMap = {
        guard case .found(let m, _) = MapLibrary(searchPaths: [TestEnvironment.shippedMaps]).load("eastron-sdm630") else {
            fatalError("eastron-sdm630 does not load")
        }
        return m
    }()

    static func served(_ id: String, unit: Int) -> Float {
        let point = map.point(id)!
        return Float(SimulatedValues.value(for: point, unit: unit, elapsed: 0))
    }

    @Test func rtuThroughAPtyPair() async throws {
        try #require(TestEnvironment.hasTool("socat"), "socat is installed by make deps")
        try await Harness.with("rtu") { h in
            let (a, b) = try await h.startPtyPair()
            try await h.startRTUSimulator(device: a, units: [1, 2], frozen: true)
            let config = try h.writeConfig(
                buses: "  - { id: rs485-a, rtu: { device: \(b), baud: 9600, parity: none }, response_timeout: 500ms }",
                devices: """
                  - { id: incomer, bus: rs485-a, unit: 1, model: eastron-sdm630, interval: 1s }
                  - { id: hall, bus: rs485-a, unit: 2, model: eastron-sdm630, interval: 1s }
                """)
            try h.startRecorder()
            try h.startAgent(config: config)
            try await h.waitForMessages(timeout: .seconds(30)) { Set($0.map(\.device)) == ["incomer", "hall"] }
            #expect(await h.agent!.terminate() == 0)
            for m in h.dataMessages() {
                let unit = m.device == "incomer" ? 1 : 2
                #expect(m.values.count == 15)
                for (id, v) in m.values { #expect(Float(v) == Self.served(id, unit: unit), "\(m.device).\(id)") }
            }
        }
    }

    /// pymodbus (PyPI), an independent server whose registers are encoded with Python's struct module.
    @Test func rtuAgainstPymodbus() async throws {
        try #require(TestEnvironment.hasTool("socat"))
        try await Harness.with("pymodbus") { h in
            let (a, b) = try await h.startPtyPair()
            let server = try ChildProcess(
                [TestEnvironment.python, "\(TestEnvironment.packageRoot)/scripts/pymodbus_sdm630.py", a, "7"], directory: h.directory,
                name: "pymodbus")
            defer { Task { await server.terminate() } }
            let output = try await server.waitForOutput(containing: "}", timeout: .seconds(20))
            let jsonLine = output.split(separator: "\n").first { $0.hasPrefix("{") }!
            let expected = try JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as! [String: Double]
            let config = try h.writeConfig(
                buses: "  - { id: rs485-b, rtu: { device: \(b), baud: 9600 }, response_timeout: 1s }",
                devices: "  - { id: pv, bus: rs485-b, unit: 7, model: eastron-sdm630, interval: 1s }")
            try h.startRecorder()
            try h.startAgent(config: config)
            try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 2 }
            #expect(await h.agent!.terminate() == 0)
            await server.terminate()
            let message = try #require(h.dataMessages().first)
            #expect(message.values.count == 15)
            for point in Self.map.points {
                let key = String(format: "0x%04X", point.address)
                let want = try #require(expected[key], "\(key)")
                #expect(Float(message.values[point.id] ?? .nan) == Float(want), "\(point.id)")
            }
        }
    }

    @Test func sixtyUnitIDsBehindOneTCPEndpoint() async throws {
        try await Harness.with("gateway") { h in
            let units = Array(1...60)
            try await h.startSimulator(units: units, frozen: true)
            let config = try h.writeConfig(
                devices: units.map { ("m\($0)", $0) }, interval: "2s", minDelay: "0ms")
            try h.startRecorder()
            try h.startAgent(config: config)
            try await h.waitForMessages(timeout: .seconds(40)) { messages in
                let counts = Dictionary(grouping: messages, by: \.device).mapValues(\.count)
                return counts.count == 60 && counts.values.allSatisfy { $0 >= 2 }
            }
            #expect(await h.agent!.terminate() == 0)
            for m in h.dataMessages() {
                let unit = Int(m.device.dropFirst())!
                #expect(Float(m.values["voltage_l1"]!) == Self.served("voltage_l1", unit: unit))
            }
        }
    }

    /// Ten devices on one bus, one of them dead (never answers): the nine others get their scheduled reads, and the
    /// dead one a failed poll for every tick, tried (timeout) or skipped for backoff (docs/evidence.md).
    @Test func deadDeviceDoesNotStarveTheOthers() async throws {
        try await Harness.with("dead") { h in
            try await h.startSimulator(units: Array(1...10), frozen: true, extra: ["--silent-units", "10"])
            let devices = (1...10).map { "  - { id: m\($0), bus: lan, unit: \($0), model: eastron-sdm630, interval: 1s, min_delay: 0ms }" }
            let config = try h.writeConfig(
                buses: "  - { id: lan, tcp: { host: 127.0.0.1, port: \(h.simulatorPort) }, response_timeout: 500ms }",
                devices: devices.joined(separator: "\n"))
            try h.startRecorder()
            try h.startAgent(config: config)
            try await Task.sleep(for: .seconds(25))
            #expect(await h.agent!.terminate() == 0)
            let messages = h.dataMessages()
            let dead = messages.filter { $0.device == "m10" }
            #expect(dead.allSatisfy { $0.values.isEmpty }, "a dead meter gives no value")
            // A tick skipped for backoff is a failed poll dated at the tick itself: a whole second here.
            #expect(dead.contains { $0.bt == $0.bt.rounded(.down) }, "no failed poll for a backoff tick")
            // The payload says how each went: tried and timed out, or skipped for backoff.
            let reasons = Set(dead.compactMap { $0.failureReason })
            #expect(reasons == ["timeout", "backoff"])
            #expect(dead.allSatisfy { $0.pollOutcome == "failed" })
            // Scheduled ticks in the window between the first and last tick anyone was read at.
            let ticks = messages.map { Int($0.bt.rounded(.down)) }
            let first = ticks.min()! + 1, last = ticks.max()! - 1
            let scheduled = last - first + 1
            var worst = 1.0
            // Every tick of the dead meter ends in a poll too (its polls are dated when tried, so by count).
            let deadInWindow = dead.map { Int($0.bt.rounded(.down)) }.filter { (first...last).contains($0) }.count
            print("dead device: \(deadInWindow) failed polls for \(scheduled) scheduled ticks")
            #expect(Double(deadInWindow) >= 0.95 * Double(scheduled) && deadInWindow <= scheduled + 1)
            for unit in 1...9 {
                let got = Set(messages.filter { $0.device == "m\(unit)" }.map { Int($0.bt.rounded(.down)) }.filter { (first...last).contains($0) })
                worst = min(worst, Double(got.count) / Double(scheduled))
            }
            print("dead device: the nine live devices got at least \(Int(worst * 100))% of \(scheduled) scheduled reads")
            #expect(worst >= 0.95)
            #expect(h.agent!.standardError.contains("device not answering"))
            #expect(h.agent!.standardError.contains("polling it less often"))
        }
    }

    /// A meter that refuses registers inside a merged read: the read is split, every point still arrives, and
    /// later plans avoid the hole.
    @Test func refusedRegistersArePlannedAround() async throws {
        try await Harness.with("holes") { h in
            // 0x0040-0x0041 lies in the gap between power (0x0034) and frequency (0x0046) that the planner reads through.
            try await h.startSimulator(units: [1], frozen: true, extra: ["--exception", "0x0040-0x0041:2"])
            let config = try h.writeConfig(devices: [("m1", 1)], interval: "1s", minDelay: "0ms")
            try h.startRecorder()
            try h.startAgent(config: config)
            try await h.waitForMessages(timeout: .seconds(30)) { $0.count >= 3 }
            #expect(await h.agent!.terminate() == 0)
            for m in h.dataMessages() { #expect(m.values.count == 15, "every point, also in the first poll") }
            let log = h.agent!.standardError
            #expect(log.contains("device refuses some registers"))
            #expect(log.components(separatedBy: "device refuses some registers").count == 2, "learnt once")
        }
    }
}
