import Foundation
import SitegateBuffer
import SitegateConfig
import SitegateCore
import SitegateCrypto
import SitegateSimulator
import SitegateTestSupport
import Testing

/// A private broker, a simulator and (optionally) the agent, all real processes on loopback.
final class Harness {
    /// Runs `body` with a fresh harness and stops every process it started, also when `body` throws.
    static func with(
        _ name: String, tls: MosquittoBroker.TLSListener? = nil, authentication: MosquittoBroker.Authentication? = nil,
        queueLimit: Int = 0, _ body: (Harness) async throws -> Void
    ) async throws {
        let h = try await Harness(name, tls: tls, authentication: authentication, queueLimit: queueLimit)
        do {
            try await body(h)
        } catch {
            await h.stopAll()
            throw error
        }
        await h.stopAll()
    }

    let directory: String
    let broker: MosquittoBroker
    private(set) var simulator: ChildProcess?
    private(set) var simulatorPort = 0
    private(set) var agent: ChildProcess?
    private(set) var recorder: TopicRecorder?

    init(
        _ name: String, tls: MosquittoBroker.TLSListener? = nil, authentication: MosquittoBroker.Authentication? = nil,
        queueLimit: Int = 0
    ) async throws {
        directory = try TestEnvironment.makeTemporaryDirectory(name)
        broker = try await MosquittoBroker(
            directory: directory, tls: tls, authentication: authentication, queueLimit: queueLimit)
        // The configs the harness writes sign with a key of their own; `keys.txt` registers it for the verifiers.
        let key = try Ed25519Key.generate()
        try TextFile.replace("\(directory)/signing.key", with: try key.pkcs8PEM(), mode: 0o600)
        try writeFile("\(directory)/keys.txt", "ed25519 \(Base64.url(key.publicKey))\n")
    }

    /// A directory made before the broker (for certificates the broker needs at start).
    static func prepare(_ name: String) throws -> String {
        try TestEnvironment.makeTemporaryDirectory(name)
    }

    private(set) var socat: ChildProcess?

    /// A pair of connected ptys (a null-modem cable in software); returns their paths.
    func startPtyPair() async throws -> (a: String, b: String) {
        let a = "\(directory)/ttyA", b = "\(directory)/ttyB"
        socat = try ChildProcess(
            ["socat", "pty,raw,echo=0,link=\(a)", "pty,raw,echo=0,link=\(b)"], directory: directory, name: "socat")
        let deadline = ContinuousClock.now + .seconds(10)
        while !(TextFile.exists(a) && TextFile.exists(b)) {
            if ContinuousClock.now > deadline { throw TestSupportError("socat made no ptys: \(socat!.standardError)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (a, b)
    }

    /// `sitegate simulate` on a serial device (one end of a pty pair).
    func startRTUSimulator(device: String, units: [Int], frozen: Bool, extra: [String] = []) async throws {
        var args = [
            TestEnvironment.sitegateBinary, "simulate", "--model", "eastron-sdm630", "--units",
            units.map(String.init).joined(separator: ","), "--rtu", device, "--maps", TestEnvironment.shippedMaps,
        ] + extra
        if frozen { args.append("--frozen") }
        let sim = try ChildProcess(args, directory: directory, name: "simulator")
        simulator = sim
        _ = try await sim.waitForOutput(containing: "serving", timeout: .seconds(10))
    }

    /// `sitegate simulate` over TCP on a free port, with extra arguments (faults); returns the port it printed.
    @discardableResult
    func startSimulator(model: String = "eastron-sdm630", units: [Int], frozen: Bool, extra: [String] = []) async throws
        -> Int
    {
        var args = [
            TestEnvironment.sitegateBinary, "simulate", "--model", model, "--units",
            units.map(String.init).joined(separator: ","), "--port", "0", "--maps", TestEnvironment.shippedMaps,
        ] + extra
        if frozen { args.append("--frozen") }
        let sim = try ChildProcess(args, directory: directory, name: "simulator")
        simulator = sim
        let output = try await sim.waitForOutput(containing: "listening on", timeout: .seconds(10))
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("listening on") }),
            let port = Int(line.split(separator: ":").last ?? "")
        else { throw TestSupportError("simulator printed no port: \(output)") }
        simulatorPort = port
        return port
    }

    /// A config with free-form `buses` and `devices` sections.
    func writeConfig(buses: String, devices: String, name: String = "site.yaml", signed: Bool = true) throws -> String {
        let text = """
            site:
              id: test-park
              gateway: gw01
            mqtt:
              url: \(broker.url)
              topic_prefix: gia/v1
              reconnect_max: 2s
            buffer:
              path: buffer.db
            control_socket: control.sock
            \(signed ? "signing: { key: signing.key }" : "")
            maps:
              - \(TestEnvironment.shippedMaps)
            buses:
            \(buses)
            devices:
            \(devices)

            """
        let path = "\(directory)/\(name)"
        try writeFile(path, text)
        return path
    }

    /// Writes a site config for `devices` (id, unit) on the simulator's bus and returns its path.
    func writeConfig(
        devices: [(id: String, unit: Int)], interval: String, model: String = "eastron-sdm630", minDelay: String? = nil,
        mqtt: String? = nil, name: String = "site.yaml", signed: Bool = true
    ) throws -> String {
        let mqttBlock = mqtt ?? "  url: \(broker.url)\n  topic_prefix: gia/v1\n  reconnect_max: 2s"
        var text = """
            site:
              id: test-park
              gateway: gw01
            mqtt:
            \(mqttBlock)
            buffer:
              path: buffer.db
            control_socket: control.sock
            \(signed ? "signing: { key: signing.key }" : "")
            maps:
              - \(TestEnvironment.shippedMaps)
            buses:
              - id: sim-lan
                tcp: { host: 127.0.0.1, port: \(simulatorPort) }
                response_timeout: 500ms
            devices:

            """
        for d in devices {
            let delay = minDelay.map { ", min_delay: \($0)" } ?? ""
            text += "  - { id: \(d.id), bus: sim-lan, unit: \(d.unit), model: \(model), interval: \(interval)\(delay) }\n"
        }
        let path = "\(directory)/\(name)"
        try writeFile(path, text)
        return path
    }

    /// A recorder on the harness's mosquitto, or on `port` (another broker).
    func startRecorder(
        username: String? = nil, password: String? = nil, port: Int? = nil, clientID: String = "recorder", timed: Bool = false
    ) throws {
        recorder = try TopicRecorder(
            port: port ?? broker.port, topic: "gia/v1/#", directory: directory, clientID: clientID, username: username,
            password: password, timed: timed)
    }

    private var agentRuns = 0

    func startAgent(config: String, environment: [String: String] = [:]) throws {
        agentRuns += 1
        agent = try ChildProcess(
            [TestEnvironment.sitegateBinary, "run", "--config", config, "--log-level", "debug"], directory: directory,
            name: agentRuns == 1 ? "agent" : "agent-\(agentRuns)", environment: environment)
    }

    /// The seqs of the evidence messages received so far (chain starts, gap notices, checkpoints): they take
    /// numbers from the same sequence as polls.
    func evidenceSeqs() -> Set<Int64> {
        Set(
            (recorder?.messages ?? []).filter { $0.topic.hasSuffix("/evidence") }.compactMap { m -> Int64? in
                guard let data = m.payload.data(using: .utf8),
                    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                else { return nil }
                return (object["seq"] as? NSNumber)?.int64Value
            })
    }

    /// The seq below which the agent's latest broker session drains a backlog (from its log, `connected to the
    /// broker ... mqtt.backlog_below_seq=N`): polls committed before that session waited.
    func backlogBelow() -> Int64? {
        guard let log = agent?.standardError,
            let range = log.range(of: "mqtt.backlog_below_seq=", options: .backwards)
        else { return nil }
        return Int64(log[range.upperBound...].prefix { $0.isNumber })
    }

    /// Data messages received so far, decoded.
    func dataMessages() -> [DataMessage] {
        (recorder?.messages ?? []).filter { $0.topic.hasSuffix("/data") }.compactMap { DataMessage($0.topic, $0.payload) }
    }

    /// Waits until `condition` holds for the received data messages.
    func waitForMessages(timeout: Duration, _ condition: ([DataMessage]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(dataMessages()) { return }
            if let agent, !agent.isRunning {
                throw TestSupportError("the agent exited early:\n\(agent.standardError)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSupportError(
            "timed out after \(dataMessages().count) messages; agent log:\n\(agent?.standardError.suffix(3000) ?? "")")
    }

    /// Runs `sitegate ARGS` to the end; returns its exit status, standard output and standard error.
    func sitegate(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (status: Int32, out: String, err: String) {
        commandRuns += 1
        let p = try ChildProcess(
            [TestEnvironment.sitegateBinary] + arguments, directory: directory, name: "cli-\(commandRuns)")
        guard let status = await p.wait(timeout: timeout) else {
            await p.terminate()
            throw TestSupportError("sitegate \(arguments.joined(separator: " ")) did not finish")
        }
        return (status, p.standardOutput, p.standardError)
    }

    private var commandRuns = 0

    /// After the agent stopped: how many seqs it handed out, how many still wait in its buffer, and those that
    /// neither arrived (`received`) nor wait: lost.
    func lostPolls(received: Set<Int64>) async throws -> (committed: Int64, stillBuffered: Int, lost: Set<Int64>) {
        let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: "\(directory)/buffer.db"))
        defer { outbox.close() }
        let stats = try await outbox.stats()
        let stillBuffered = Set(try await outbox.messages(after: 0, limit: 1_000_000).map(\.seq))
        let lost = Set(stats.firstSeq...stats.lastSeq).subtracting(received).subtracting(stillBuffered)
            .subtracting(evidenceSeqs())
        return (stats.lastSeq - stats.firstSeq + 1, stillBuffered.count, lost)
    }

    func stopAll() async {
        await agent?.terminate()
        await simulator?.terminate()
        await socat?.terminate()
        await recorder?.stop()
        await broker.stop()
    }
}

/// One SenML data message as the recorder saw it.
struct DataMessage {
    var topic: String
    var payload: String
    var records: [[String: Any]]

    init?(_ topic: String, _ payload: String) {
        guard let data = payload.data(using: .utf8),
            let array = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]], !array.isEmpty
        else { return nil }
        self.topic = topic
        self.payload = payload
        records = array
    }

    var seq: Int64 { (records[0]["seq"] as? NSNumber)?.int64Value ?? -1 }
    var device: String { String(topic.split(separator: "/").dropLast().last ?? "") }
    var bt: Double { (records[0]["bt"] as? NSNumber)?.doubleValue ?? 0 }
    /// `full`, `partial` or `failed` (the `poll` base field).
    var pollOutcome: String? { records[0]["poll"] as? String }
    /// Why a failed poll read nothing: the `vs` of its `_poll` record.
    var failureReason: String? { records.first { $0["n"] as? String == "_poll" }?["vs"] as? String }

    var values: [String: Double] {
        var out: [String: Double] = [:]
        for r in records {
            if let n = r["n"] as? String, let v = r["v"] as? NSNumber { out[n] = v.doubleValue }
        }
        return out
    }
}
