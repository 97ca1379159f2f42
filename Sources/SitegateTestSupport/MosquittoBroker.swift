/// A private mosquitto on a free loopback port, for one test. Persistence on, so that a restart keeps the sessions
/// of persistent subscribers; no per-client queue limit, so a slow subscriber loses nothing.
public final class MosquittoBroker: @unchecked Sendable {
    // @unchecked: `process` is replaced only by `restart`, which tests call from one task.
    public let port: Int
    public let directory: String
    private var process: ChildProcess?
    private var generation = 0

    public init(directory: String) async throws {
        self.directory = directory
        port = try FreePort.find()
        try writeFile(
            "\(directory)/mosquitto.conf",
            """
            listener \(port) 127.0.0.1
            allow_anonymous true
            max_queued_messages 0
            max_inflight_messages 0
            persistence true
            persistence_location \(directory)/
            log_dest stderr
            log_type error
            log_type warning
            log_type notice
            log_type information

            """)
        try await start()
    }

    public func start() async throws {
        generation += 1
        let p = try ChildProcess(
            ["mosquitto", "-c", "\(directory)/mosquitto.conf"], directory: directory, name: "mosquitto-\(generation)")
        process = p
        // mosquitto says which port it opened; that, plus an accepting socket, tells us the listener is ours.
        _ = try await p.waitForOutput(
            containing: "Opening ipv4 listen socket on port \(port)", inStandardError: true, timeout: .seconds(10))
        let deadline = ContinuousClock.now + .seconds(5)
        while !FreePort.isListening(port) {
            if ContinuousClock.now > deadline { throw TestSupportError("mosquitto did not listen on \(port)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    public func stop() async {
        await process?.terminate()
        process = nil
    }

    public var url: String { "mqtt://127.0.0.1:\(port)" }
}

/// `mosquitto_sub` printing `topic payload` lines to a file: an independent client to check what the broker got.
public final class TopicRecorder: Sendable {
    let process: ChildProcess

    /// - Parameter clientID: with a fixed id the session is persistent (clean session off) and survives restarts.
    public init(port: Int, topic: String, directory: String, clientID: String) throws {
        process = try ChildProcess(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", String(port), "-t", topic, "-v", "-q", "1", "-c", "-i", clientID],
            directory: directory, name: "sub-\(clientID)")
    }

    /// Lines received so far, split into topic and payload.
    public var messages: [(topic: String, payload: String)] {
        process.standardOutput.split(separator: "\n").compactMap { line -> (topic: String, payload: String)? in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (String(parts[0]), String(parts[1]))
        }
    }

    public var outputPath: String { process.stdoutPath }

    public func stop() async {
        await process.terminate()
    }
}
