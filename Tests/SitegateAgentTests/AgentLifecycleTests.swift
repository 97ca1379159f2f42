import Foundation
import Logging
import ServiceLifecycleTestKit
import SitegateAgent
import SitegateBuffer
import SitegateConfig
import SitegateCore
import SitegateSimulator
import SitegateTestSupport
import SitegateThreads
import Testing

/// The whole agent in this process, wired as `sitegate run` wires it, against a real mosquitto and two simulators
/// (one per bus): stopped with `ServiceLifecycleTestKit`'s graceful shutdown, reloaded through its reload trigger.
/// What a process-level test cannot see: that `Agent.run` returns only after the drain, the buses a reload left
/// alone keep their connection, and the config in force after a refused reload.
@Suite(.serialized, .timeLimit(.minutes(2))) struct AgentLifecycleTests {
    @Test func gracefulShutdownWaitsForEveryPubackBeforeRunReturns() async throws {
        try await AgentFixture.with("drain") { f in
            let path = try f.writeConfig(devices: [("a1", "a", 1), ("a2", "a", 2), ("b1", "b", 1), ("b2", "b", 2)])
            let agent = Agent(config: try SiteConfigLoader.load(path: path).config, version: "0.0.0-test", logger: f.logger)
            let returned = LockedValue(false)
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await agent.run(triggers: .inProcess(reloads: f.reloads))
                        returned.withLock { $0 = true }
                    }
                    try await f.waitFor("polls of every device at the broker") {
                        Set(f.dataMessages().map(\.device)).count == 4
                    }
                    // A frozen broker keeps the connection but answers nothing: the polls of the next half second
                    // are published and wait for their PUBACK when the shutdown comes.
                    f.broker.suspend()
                    try await Task.sleep(for: .milliseconds(500))
                    trigger.triggerGracefulShutdown()
                    try await Task.sleep(for: .seconds(1))
                    #expect(!returned.withLock { $0 }, "run returned with messages still waiting for their PUBACK")
                    f.broker.resume()
                    try await group.waitForAll()
                }
            }

            // `run` has returned: nothing may wait in the buffer, and the broker acknowledged every message.
            let outbox = try await Outbox(
                sealing: OutboxSealing(siteID: "test-park", gatewayID: "gw01"), settings: BufferSettings(path: f.bufferPath))
            defer { outbox.close() }
            let stats = try await outbox.stats()
            #expect(stats.depth == 0, "unsent messages left after the drain")
            #expect(try await outbox.messages(after: 0, limit: 1000).isEmpty)
            #expect(f.log.contains { $0.message == "sitegate stopped" })
            // An independent subscriber got each committed seq (polls and evidence).
            let committed = Set(stats.firstSeq...stats.lastSeq)
            try await f.waitFor("every committed seq at the recorder", orRecord: false) {
                committed.isSubset(of: f.receivedSeqs())
            }
            let missing = committed.subtracting(f.receivedSeqs())
            #expect(missing.isEmpty, "committed but never received: \(missing.sorted().prefix(20))")
        }
    }

    @Test func reloadRestartsOnlyTheChangedBusAndRefusesABrokenConfig() async throws {
        try await AgentFixture.with("reload") { f in
            let path = try f.writeConfig(devices: [("a1", "a", 1), ("b1", "b", 1)])
            let agent = Agent(config: try SiteConfigLoader.load(path: path).config, version: "0.0.0-test", logger: f.logger)
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await agent.run(triggers: .inProcess(reloads: f.reloads)) }
                    try await f.waitFor("polls of a1 and b1") { Set(f.dataMessages().map(\.device)) == ["a1", "b1"] }
                    #expect(f.simulators["a"]!.connectionsAccepted == 1)
                    #expect(f.simulators["b"]!.connectionsAccepted == 1)

                    // A valid config with one more device on bus b: bus b restarts, bus a keeps its poller.
                    _ = try f.writeConfig(devices: [("a1", "a", 1), ("b1", "b", 1), ("b2", "b", 2)])
                    f.requestReload()
                    let reloaded = try await f.waitForLog { $0.message.hasPrefix("reloaded ") }
                    #expect(reloaded.metadata["reload.buses_restarted"] == "b")
                    #expect(reloaded.metadata["reload.buses_started"] == "")
                    #expect(reloaded.metadata["reload.buses_stopped"] == "")
                    #expect(agent.config.devices.map(\.id) == ["a1", "b1", "b2"])
                    try await f.waitFor("polls of b2") { f.dataMessages().contains { $0.device == "b2" } }
                    #expect(f.simulators["a"]!.connectionsAccepted == 1, "bus a was not touched")
                    #expect(f.simulators["b"]!.connectionsAccepted == 2, "bus b got a new poller and connection")

                    // A broken config: refused with its place, the running config stays and polling goes on.
                    try writeFile(path, "site: { id: BAD, gateway: gw01 }\n")
                    f.requestReload()
                    _ = try await f.waitForLog { $0.message.hasPrefix("reload refused") }
                    let diagnostics = f.log.filter { $0.level == .error && $0.message.hasPrefix("reload: ") }
                    #expect(!diagnostics.isEmpty)
                    for d in diagnostics {
                        #expect(d.message.contains(#/site\.yaml:\d+:\d+: error: /#), "\(d.message)")
                    }
                    #expect(diagnostics.contains { $0.message.contains("site.yaml:1:") })
                    #expect(agent.config.devices.map(\.id) == ["a1", "b1", "b2"])
                    let before = f.dataMessages().filter { $0.device == "a1" }.count
                    try await f.waitFor("a1 still polled") { f.dataMessages().filter { $0.device == "a1" }.count > before + 2 }
                    #expect(f.simulators["a"]!.connectionsAccepted == 1)

                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }
    }
}

/// One log event as the agent wrote it.
struct LogEntry: Sendable {
    var level: Logger.Level
    var message: String
    var metadata: [String: String]
}

/// Keeps every event of the agent's logger, for the test to read.
struct RecordingLogHandler: LogHandler {
    let entries: LockedValue<[LogEntry]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        entries.withLock {
            $0.append(LogEntry(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
        }
    }
}

/// A temporary folder with a mosquitto, a recorder subscribed to the gateway's topics, and one simulator per bus
/// (`a`, `b`) serving units 1 and 2 of the Eastron SDM630; all stopped after the test.
final class AgentFixture: Sendable {
    let directory: String
    let broker: MosquittoBroker
    let recorder: TopicRecorder
    let simulators: [String: ModbusSimulator]
    let entries = LockedValue<[LogEntry]>([])
    let reloads: AsyncStream<Void>
    private let reloadContinuation: AsyncStream<Void>.Continuation

    static func with(_ name: String, _ body: (AgentFixture) async throws -> Void) async throws {
        let f = try await AgentFixture(name)
        do {
            try await body(f)
        } catch {
            await f.stop()
            throw error
        }
        await f.stop()
    }

    private init(_ name: String) async throws {
        directory = try TestEnvironment.makeTemporaryDirectory("sitegate-agent-\(name)")
        broker = try await MosquittoBroker(directory: directory)
        let map = try DeviceMapLoader.load(path: "\(TestEnvironment.shippedMaps)/eastron-sdm630.yaml").map
        var simulators: [String: ModbusSimulator] = [:]
        for bus in ["a", "b"] {
            simulators[bus] = try ModbusSimulator(
                devices: [.init(unit: 1, map: map), .init(unit: 2, map: map)], frozen: true,
                logger: Logger(label: "simulator-\(bus)"))
        }
        self.simulators = simulators
        recorder = try TopicRecorder(port: broker.port, topic: "gia/v1/#", directory: directory, clientID: "recorder")
        (reloads, reloadContinuation) = AsyncStream.makeStream(of: Void.self)
        try await waitUntilRecorderSubscribed()
    }

    /// mosquitto_sub keeps no messages published before it subscribed: probe until one arrives.
    private func waitUntilRecorderSubscribed() async throws {
        try await waitFor("the recorder's subscription") {
            let probe = try? ChildProcess(
                ["mosquitto_pub", "-h", "127.0.0.1", "-p", String(broker.port), "-q", "1", "-t", "gia/v1/probe", "-m", "probe"],
                directory: directory, name: "probe")
            _ = await probe?.wait(timeout: .seconds(5))
            return recorder.messages.contains { $0.topic == "gia/v1/probe" }
        }
    }

    func stop() async {
        reloadContinuation.finish()
        broker.resume()
        for simulator in simulators.values { simulator.stop() }
        await recorder.stop()
        await broker.stop()
    }

    var logger: Logger {
        let entries = self.entries
        return Logger(label: "agent") { _ in RecordingLogHandler(entries: entries) }
    }

    var log: [LogEntry] { entries.withLock { $0 } }

    var bufferPath: String { "\(directory)/buffer.db" }

    func requestReload() { reloadContinuation.yield() }

    /// Writes the site config with `devices` (id, bus, unit), each polled every 100 ms; returns its path. The
    /// response timeout is generous: a timeout would reconnect the bus and spoil the connection counts.
    func writeConfig(devices: [(id: String, bus: String, unit: Int)]) throws -> String {
        var text = """
            site: { id: test-park, gateway: gw01 }
            mqtt: { url: \(broker.url), topic_prefix: gia/v1, reconnect_max: 2s, inflight: 1000 }
            buffer: { path: buffer.db }
            control_socket: control.sock
            signing: off
            maps: [\(TestEnvironment.shippedMaps)]
            buses:
              - { id: a, tcp: { host: 127.0.0.1, port: \(simulators["a"]!.port) }, response_timeout: 2s }
              - { id: b, tcp: { host: 127.0.0.1, port: \(simulators["b"]!.port) }, response_timeout: 2s }
            devices:

            """
        for d in devices {
            text += "  - { id: \(d.id), bus: \(d.bus), unit: \(d.unit), model: eastron-sdm630, interval: 100ms }\n"
        }
        let path = "\(directory)/site.yaml"
        try writeFile(path, text)
        return path
    }

    /// The data messages received so far: device and seq.
    func dataMessages() -> [(device: String, seq: Int64)] {
        recorder.messages.compactMap { message in
            let parts = message.topic.split(separator: "/")
            guard parts.last == "data", let records = Self.json(message.payload) as? [[String: Any]],
                let seq = (records.first?["seq"] as? NSNumber)?.int64Value
            else { return nil }
            return (String(parts[parts.count - 2]), seq)
        }
    }

    /// Every seq received, on data and evidence topics alike (both take numbers from the one sequence).
    func receivedSeqs() -> Set<Int64> {
        Set(
            recorder.messages.compactMap { message in
                switch Self.json(message.payload) {
                case let records as [[String: Any]]: (records.first?["seq"] as? NSNumber)?.int64Value
                case let object as [String: Any]: (object["seq"] as? NSNumber)?.int64Value
                default: nil
                }
            })
    }

    private static func json(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    /// Polls `condition` every 100 ms for up to 30 s (a loaded machine is slow); throws when it never holds, unless
    /// `orRecord` is false (the caller then says what is missing).
    func waitFor(_ what: String, orRecord: Bool = true, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        if orRecord { throw Timeout(description: "timed out waiting for \(what)") }
    }

    /// Waits for the first log event that matches and returns it.
    func waitForLog(_ matches: @escaping (LogEntry) -> Bool) async throws -> LogEntry {
        var found: LogEntry?
        try await waitFor("a log event") {
            found = log.first(where: matches)
            return found != nil
        }
        return found!
    }
}
