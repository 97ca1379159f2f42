#if canImport(Glibc)
import Glibc
#endif

/// A private RabbitMQ with its MQTT plugin (Debian's rabbitmq-server), for tests: a second broker implementation
/// beside mosquitto. Started without systemd: `rabbitmq-server` run directly, with its own node name, data and log
/// directories under `directory`, its own epmd (started and stopped here), and every listener (AMQP, MQTT,
/// Erlang distribution) on a free port of 127.0.0.1. The first start takes 10-20 s; a restart about 6 s.
public final class RabbitMQBroker: @unchecked Sendable {
    // @unchecked: `server` is replaced only by `start`/`stop`, which tests call from one task at a time.
    public static let serverScript = "/usr/lib/rabbitmq/bin/rabbitmq-server"

    /// The MQTT listener.
    public let port: Int
    public let directory: String
    private let epmdPort: Int
    private let environment: [String: String]
    private let epmd: ChildProcess
    private var server: ChildProcess?
    private var generation = 0

    public var url: String { "mqtt://127.0.0.1:\(port)" }

    public init(directory: String) async throws {
        guard access(Self.serverScript, X_OK) == 0 else {
            throw TestSupportError("\(Self.serverScript) is missing: install rabbitmq-server (scripts/install-deps.sh)")
        }
        self.directory = directory
        port = try FreePort.find()
        epmdPort = try FreePort.find()
        let amqpPort = try FreePort.find()
        let distributionPort = try FreePort.find()
        // The plugin list, written as `rabbitmq-plugins enable --offline rabbitmq_mqtt` would (without starting
        // an Erlang VM for it).
        try writeFile("\(directory)/enabled_plugins", "[rabbitmq_mqtt].\n")
        try writeFile(
            "\(directory)/rabbitmq.conf",
            """
            listeners.tcp.1 = 127.0.0.1:\(amqpPort)
            mqtt.listeners.tcp.1 = 127.0.0.1:\(port)
            mqtt.allow_anonymous = true

            """)
        try writeFile("\(directory)/rabbitmq-env.conf", "")
        environment = [
            // The Erlang cookie goes to $HOME: a private one.
            "HOME": directory,
            // The log on standard output, where start() waits for "Server startup complete".
            "RABBITMQ_LOGS": "-",
            "RABBITMQ_NODENAME": "sitegate-test-\(getpid())-\(port)@localhost",
            "RABBITMQ_MNESIA_BASE": "\(directory)/mnesia",
            "RABBITMQ_LOG_BASE": "\(directory)/log",
            "RABBITMQ_PID_FILE": "\(directory)/beam.pid",
            "RABBITMQ_ENABLED_PLUGINS_FILE": "\(directory)/enabled_plugins",
            "RABBITMQ_CONFIG_FILE": "\(directory)/rabbitmq.conf",
            "RABBITMQ_CONF_ENV_FILE": "\(directory)/rabbitmq-env.conf",
            "RABBITMQ_DIST_PORT": String(distributionPort),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_PORT": String(epmdPort),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        ]
        // Our own epmd in the foreground, so that it ends with the broker (a daemon epmd would outlive the test).
        epmd = try ChildProcess(
            ["epmd", "-port", String(epmdPort), "-address", "127.0.0.1"], directory: directory, name: "epmd",
            environment: ["ERL_EPMD_ADDRESS": "127.0.0.1"])
        let deadline = ContinuousClock.now + .seconds(10)
        while !FreePort.isListening(epmdPort) {
            if ContinuousClock.now > deadline { throw TestSupportError("epmd did not listen on \(epmdPort)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        do {
            try await start()
        } catch {
            await epmd.terminate()
            throw error
        }
    }

    public func start() async throws {
        generation += 1
        let p = try ChildProcess(
            [Self.serverScript], directory: directory, name: "rabbitmq-\(generation)", environment: environment)
        server = p
        _ = try await p.waitForOutput(containing: "Server startup complete", timeout: .seconds(90))
        let deadline = ContinuousClock.now + .seconds(10)
        while !FreePort.isListening(port) {
            if ContinuousClock.now > deadline { throw TestSupportError("RabbitMQ did not listen on \(port)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops the node (SIGTERM: its script stops the Erlang VM and waits for it).
    public func stop() async {
        await server?.terminate(timeout: .seconds(30))
        server = nil
        // The VM is the script's child: make sure it is gone before a restart reuses the node name and ports.
        if let text = try? readFile("\(directory)/beam.pid"), let pid = pid_t(text.trimmingCharacters(in: "\n ")) {
            let deadline = ContinuousClock.now + .seconds(20)
            while kill(pid, 0) == 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
    }

    /// Stops the node and its epmd.
    public func shutdown() async {
        await stop()
        await epmd.terminate()
    }

    /// The node's log (its console output) of the current or last run.
    public var log: String { server?.standardOutput ?? "" }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
