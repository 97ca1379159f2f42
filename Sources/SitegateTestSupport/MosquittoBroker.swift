#if canImport(Glibc)
import Glibc
#endif

/// A private mosquitto on a free loopback port, for one test. Persistence on, so that a restart keeps the sessions
/// of persistent subscribers; no per-client queue limit, so a slow subscriber loses nothing.
public final class MosquittoBroker: @unchecked Sendable {
    // @unchecked: `process` is replaced only by `start`/`stop`, which tests call from one task.
    public struct TLSListener: Sendable {
        public var caFile: String
        public var certFile: String
        public var keyFile: String
        /// Clients must present a certificate signed by `caFile`.
        public var requireClientCertificate: Bool
        public init(caFile: String, certFile: String, keyFile: String, requireClientCertificate: Bool = false) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.requireClientCertificate = requireClientCertificate
        }
    }

    public struct Authentication: Sendable {
        /// user -> password; written with mosquitto_passwd.
        public var users: [String: String]
        /// The ACL file's text (mosquitto's acl_file format).
        public var acl: String
        public init(users: [String: String], acl: String) {
            self.users = users
            self.acl = acl
        }
    }

    /// The plain listener.
    public let port: Int
    /// The TLS listener, when asked for.
    public let tlsPort: Int?
    public let directory: String
    private var process: ChildProcess?
    private var generation = 0

    /// - Parameter queueLimit: `max_queued_messages` per offline client; 0 (no limit) unless a test wants losses.
    public init(directory: String, tls: TLSListener? = nil, authentication: Authentication? = nil, queueLimit: Int = 0)
        async throws
    {
        self.directory = directory
        port = try FreePort.find()
        tlsPort = tls == nil ? nil : try FreePort.find()
        // `user root`: as root, mosquitto would otherwise switch to its own user and lose access to the test's
        // private directory (password file, persistence, keys).
        var config = """
            user root
            per_listener_settings false
            max_queued_messages \(queueLimit)
            max_inflight_messages 0
            persistence true
            persistence_location \(directory)/
            log_dest stderr
            log_type error
            log_type warning
            log_type notice
            log_type information
            listener \(port) 127.0.0.1

            """
        if let tls, let tlsPort {
            config += """
                listener \(tlsPort) 127.0.0.1
                cafile \(tls.caFile)
                certfile \(tls.certFile)
                keyfile \(tls.keyFile)
                tls_version tlsv1.2
                require_certificate \(tls.requireClientCertificate)

                """
        }
        if let authentication {
            let passwd = "\(directory)/passwd"
            try writeFile(passwd, "")
            for (user, password) in authentication.users.sorted(by: { $0.key < $1.key }) {
                let p = try ChildProcess(
                    ["mosquitto_passwd", "-b", passwd, user, password], directory: directory, name: "passwd-\(user)")
                guard await p.wait(timeout: .seconds(10)) == 0 else { throw TestSupportError("mosquitto_passwd failed") }
            }
            try writeFile("\(directory)/acl", authentication.acl)
            config += "allow_anonymous false\npassword_file \(passwd)\nacl_file \(directory)/acl\n"
        } else {
            config += "allow_anonymous true\n"
        }
        try writeFile("\(directory)/mosquitto.conf", config)
        try await start()
    }

    public func start() async throws {
        generation += 1
        let p = try ChildProcess(
            ["mosquitto", "-c", "\(directory)/mosquitto.conf"], directory: directory, name: "mosquitto-\(generation)")
        process = p
        // mosquitto says which port it opened; that, plus an accepting socket, tells us the listener is ours. The
        // wait is long: on a loaded machine (a full parallel test run beside other builds) a start took over 10 s.
        _ = try await p.waitForOutput(
            containing: "Opening ipv4 listen socket on port \(port)", inStandardError: true, timeout: .seconds(30))
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

    /// Freezes the broker (SIGSTOP): connections stay open, nothing is answered, as a hung node.
    public func suspend() {
        process?.signal(SIGSTOP)
    }

    /// Thaws a suspended broker (SIGCONT): it answers what waited.
    public func resume() {
        process?.signal(SIGCONT)
    }

    /// Stops the broker without warning (SIGKILL), as a crashed node.
    public func kill() async {
        process?.signal(SIGKILL)
        _ = await process?.wait(timeout: .seconds(10))
        process = nil
    }

    public var url: String { "mqtt://127.0.0.1:\(port)" }
}

/// `mosquitto_sub` printing `topic payload` lines to a file: an independent client to check what the broker got.
public final class TopicRecorder: Sendable {
    let process: ChildProcess

    let timed: Bool

    /// - Parameter clientID: with a fixed id the session is persistent (clean session off) and survives restarts.
    /// - Parameter timed: each line starts with the arrival time (mosquitto_sub's `%U`), for latency figures.
    public init(
        port: Int, topic: String, directory: String, clientID: String, username: String? = nil, password: String? = nil,
        timed: Bool = false
    ) throws {
        self.timed = timed
        let format = timed ? ["-F", "%U %t %p"] : ["-v"]
        var args = ["mosquitto_sub", "-h", "127.0.0.1", "-p", String(port), "-t", topic] + format + ["-q", "1", "-c", "-i", clientID]
        if let username { args += ["-u", username] }
        if let password { args += ["-P", password] }
        process = try ChildProcess(args, directory: directory, name: "sub-\(clientID)")
    }

    /// Lines received so far, split into topic and payload.
    public var messages: [(topic: String, payload: String)] {
        timedMessages.map { ($0.topic, $0.payload) }
    }

    /// Lines received so far with their arrival time (Unix seconds; 0 unless the recorder is `timed`).
    public var timedMessages: [(arrived: Double, topic: String, payload: String)] {
        process.standardOutput.split(separator: "\n").compactMap { line -> (arrived: Double, topic: String, payload: String)? in
            var rest = line[...]
            var arrived = 0.0
            if timed {
                let parts = rest.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, let t = Double(parts[0]) else { return nil }
                arrived = t
                rest = parts[1]
            }
            let parts = rest.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (arrived, String(parts[0]), String(parts[1]))
        }
    }

    public var outputPath: String { process.stdoutPath }

    public func stop() async {
        await process.terminate()
    }
}
