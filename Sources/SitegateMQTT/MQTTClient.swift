import CMosquitto
import SitegateCore
import SitegateThreads

#if canImport(Glibc)
import Glibc
#endif

/// A libmosquitto client with a network thread of its own that reconnects with capped exponential backoff and
/// jitter, so that a whole park reconnecting after a broker restart does not arrive at once. Given several nodes (a
/// cluster) it fails over between them (`BrokerRotation`).
///
/// QoS 1 messages in flight when the connection drops are kept by libmosquitto and re-sent after the reconnect
/// with the same message id, so `acknowledged(mid:)` still arrives for them.
public final class MQTTClient: Sendable {
    /// TLS settings: certificate verification is on unless `insecure`.
    public struct TLS: Sendable {
        /// CA certificates; nil uses the system store.
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?
        public var insecure: Bool

        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, insecure: Bool = false) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.insecure = insecure
        }
    }

    /// A message the broker publishes for us when we vanish without a clean disconnect.
    public struct Will: Sendable {
        public var topic: String
        public var payload: String
        public var retain: Bool

        public init(topic: String, payload: String, retain: Bool = true) {
            self.topic = topic
            self.payload = payload
            self.retain = retain
        }
    }

    public enum ProtocolVersion: String, Sendable, CaseIterable {
        case v311 = "3.1.1"
        case v5 = "5"
    }

    public struct Options: Sendable {
        public var clientID: String
        /// The brokers, in order of preference (never empty): one, or the nodes of a cluster. See `BrokerRotation`.
        public var nodes: [BrokerNode]
        public var host: String { nodes[0].host }
        public var port: Int { nodes[0].port }
        public var keepaliveSeconds: Int
        public var cleanSession: Bool
        public var maxInflight: Int
        public var protocolVersion: ProtocolVersion
        /// Reconnect delays: doubled per failed round over all nodes (per attempt with one node) from `min` up to
        /// `max`, each randomised to 50-100%. See `BrokerRotation`.
        public var reconnectDelay: (min: Duration, max: Duration)
        public var tls: TLS?
        public var username: String?
        public var password: String?
        public var will: Will?

        public init(
            clientID: String, host: String, port: Int, keepaliveSeconds: Int = 30, cleanSession: Bool = true,
            maxInflight: Int = 100, protocolVersion: ProtocolVersion = .v311,
            reconnectDelay: (min: Duration, max: Duration) = (.seconds(1), .seconds(60)), tls: TLS? = nil,
            username: String? = nil, password: String? = nil, will: Will? = nil
        ) {
            self.clientID = clientID
            self.nodes = [BrokerNode(host: host, port: port)]
            self.keepaliveSeconds = keepaliveSeconds
            self.cleanSession = cleanSession
            self.maxInflight = maxInflight
            self.protocolVersion = protocolVersion
            self.reconnectDelay = reconnectDelay
            self.tls = tls
            self.username = username
            self.password = password
            self.will = will
        }
    }

    public var events: AsyncStream<MQTTEvent> { bridge.events }

    /// From now on, events go to `sink` instead of `events`. `sink` runs on the network thread, inside
    /// libmosquitto's callbacks: it must return at once (yield into a stream of the consumer's own, say).
    public func deliverEvents(to sink: @escaping @Sendable (MQTTEvent) -> Void) {
        bridge.deliver(to: sink)
    }
    private let bridge: MosquittoBridge
    private let handle: Handle
    private let options: Options
    private let thread: DedicatedThread
    private let running = LockedValue(false)
    private let stopped = LockedValue(false)

    /// The libmosquitto handle. With `mosquitto_threaded_set(true)` libmosquitto locks internally, so publishing
    /// from any thread while the network thread runs is safe; `stop()` is the only place that destroys it.
    private struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private static let libraryInit: Void = { mosquitto_lib_init() }()

    public init(options: Options) throws(MQTTError) {
        _ = Self.libraryInit
        self.options = options
        bridge = MosquittoBridge()
        // The C side holds this retain until `stop()` has destroyed the handle.
        let userdata = Unmanaged.passRetained(bridge).toOpaque()
        guard let pointer = mosquitto_new(options.clientID, options.cleanSession, userdata) else {
            Unmanaged<MosquittoBridge>.fromOpaque(userdata).release()
            throw MQTTError(operation: "mosquitto_new", code: MOSQ_ERR_NOMEM.rawValue, message: "out of memory")
        }
        handle = Handle(pointer: pointer)
        thread = DedicatedThread(name: "mqtt")
        bridge.install(on: pointer)
        do {
            try configure(pointer, options)
        } catch {
            mosquitto_destroy(pointer)
            Unmanaged<MosquittoBridge>.fromOpaque(userdata).release()
            thread.shutdown()
            throw error
        }
    }

    private func configure(_ pointer: OpaquePointer, _ options: Options) throws(MQTTError) {
        // Our own network thread calls mosquitto_loop; publishes come from other threads.
        try check(mosquitto_threaded_set(pointer, true), "enable thread safety")
        let version = options.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try check(mosquitto_int_option(pointer, MOSQ_OPT_PROTOCOL_VERSION, version), "set the protocol version")
        _ = mosquitto_max_inflight_messages_set(pointer, UInt32(options.maxInflight))
        if options.protocolVersion == .v5 {
            _ = mosquitto_int_option(pointer, MOSQ_OPT_SEND_MAXIMUM, Int32(min(options.maxInflight, 65535)))
        }
        if let username = options.username {
            try check(mosquitto_username_pw_set(pointer, username, options.password), "set the username")
        }
        if let will = options.will {
            let bytes = Array(will.payload.utf8)
            let rc = bytes.withUnsafeBytes {
                mosquitto_will_set(pointer, will.topic, Int32($0.count), $0.baseAddress, 1, will.retain)
            }
            try check(rc, "set the last will")
        }
        guard let tls = options.tls else { return }
        if tls.caFile == nil {
            // No CA file: trust the operating system's certificate store.
            _ = mosquitto_int_option(pointer, MOSQ_OPT_TLS_USE_OS_CERTS, 1)
        }
        try check(
            mosquitto_tls_set(
                pointer, tls.caFile, tls.caFile == nil ? "/etc/ssl/certs" : nil, tls.certFile, tls.keyFile, nil),
            "configure TLS")
        // TLS 1.2 or newer; peer verification (SSL_VERIFY_PEER = 1) unless explicitly insecure.
        try check(mosquitto_tls_opts_set(pointer, tls.insecure ? 0 : 1, "tlsv1.2", nil), "set TLS options")
        try check(mosquitto_tls_insecure_set(pointer, tls.insecure), "set TLS host name checking")
    }

    /// Starts the network thread: it connects, and reconnects after every failure with backoff and jitter.
    /// Connection attempts that fail are reported as `.connectFailed` or `.closedWithoutAnswer` events; each switch
    /// of node as `.connecting`.
    public func start() {
        running.withLock { $0 = true }
        let handle = self.handle
        let options = self.options
        let running = self.running
        let bridge = self.bridge
        thread.submit {
            NetworkLoop(handle: handle.pointer, options: options, running: running, bridge: bridge).run()
        }
    }

    /// Hands a message to libmosquitto and returns its message id.
    public func publish(topic: String, payload: String, qos: Int32 = 1, retain: Bool = false) throws(MQTTError)
        -> Int32
    {
        try publish(topic: topic, bytes: Array(payload.utf8), qos: qos, retain: retain)
    }

    /// Hands exact bytes to libmosquitto (a sealed message) and returns its message id.
    public func publish(topic: String, bytes: [UInt8], qos: Int32 = 1, retain: Bool = false) throws(MQTTError)
        -> Int32
    {
        var mid: Int32 = 0
        let rc = bytes.withUnsafeBytes { raw in
            mosquitto_publish(handle.pointer, &mid, topic, Int32(raw.count), raw.baseAddress, qos, retain)
        }
        try check(rc, "publish to \(topic)")
        return mid
    }

    /// For read-only inspection (the TLS session); never destroyed while the client lives.
    var handleForInspection: OpaquePointer { handle.pointer }

    public func subscribe(_ pattern: String, qos: Int32 = 1) throws(MQTTError) {
        try check(mosquitto_subscribe(handle.pointer, nil, pattern, qos), "subscribe to \(pattern)")
    }

    /// Disconnects cleanly (no last will), stops the network thread and frees the handle. Safe to call twice.
    public func stop() {
        let wasStopped = stopped.withLock { s in
            defer { s = true }
            return s
        }
        guard !wasStopped else { return }
        running.withLock { $0 = false }
        _ = mosquitto_disconnect(handle.pointer)
        thread.shutdown()
        mosquitto_destroy(handle.pointer)
        // libmosquitto can no longer call back: give up the retain taken in init.
        Unmanaged.passUnretained(bridge).release()
        bridge.finish()
    }

    /// `operation` is only spelt out on failure: publishes call this for every message.
    private func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(MQTTError) {
        if rc != MOSQ_ERR_SUCCESS.rawValue { throw Self.error(operation(), rc) }
    }

    static func error(_ operation: String, _ rc: Int32) -> MQTTError {
        MQTTError(operation: operation, code: rc, message: String(cString: mosquitto_strerror(rc)))
    }

    /// The broker's reason for refusing a connection (CONNACK return or reason code).
    public static func connackReason(_ code: Int32) -> String {
        code >= 0x80 ? String(cString: mosquitto_reason_string(code)) : String(cString: mosquitto_connack_string(code))
    }

    public static func disconnectReason(_ code: Int32) -> String {
        var text = String(cString: mosquitto_strerror(code))
        while text.hasSuffix(".") { text.removeLast() }  // messages go into sentences of our own
        return text
    }

    public static func reasonString(_ code: Int32) -> String {
        String(cString: mosquitto_reason_string(code))
    }
}
