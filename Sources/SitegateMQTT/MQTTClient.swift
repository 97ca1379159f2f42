import CMosquitto
import SitegateThreads

#if canImport(Glibc)
import Glibc
#endif

/// A libmosquitto client whose network loop runs on libmosquitto's own thread and reconnects by itself.
///
/// QoS 1 messages that were in flight when the connection dropped are kept by libmosquitto and sent again after the
/// reconnect with the same message id, so `acknowledged(mid:)` still arrives for them.
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

    public struct Options: Sendable {
        public var clientID: String
        public var tls: TLS?
        public var username: String?
        public var password: String?
        public var host: String
        public var port: Int
        public var keepaliveSeconds: Int
        public var cleanSession: Bool
        public var maxInflight: Int
        public var reconnectDelay: (min: Int, max: Int)

        public init(
            clientID: String, host: String, port: Int, keepaliveSeconds: Int = 30, cleanSession: Bool = true,
            maxInflight: Int = 100, reconnectDelay: (min: Int, max: Int) = (1, 30), tls: TLS? = nil,
            username: String? = nil, password: String? = nil
        ) {
            self.tls = tls
            self.username = username
            self.password = password
            self.clientID = clientID
            self.host = host
            self.port = port
            self.keepaliveSeconds = keepaliveSeconds
            self.cleanSession = cleanSession
            self.maxInflight = maxInflight
            self.reconnectDelay = reconnectDelay
        }
    }

    public var events: AsyncStream<MQTTEvent> { bridge.events }
    private let bridge: MosquittoBridge
    private let handle: Handle
    private let options: Options
    private let stopped = LockedValue(false)

    /// The libmosquitto handle. libmosquitto's public calls lock internally once the loop thread runs, so the handle
    /// may be used from any thread; `stop()` is the only place that destroys it.
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
        bridge.install(on: pointer)
        _ = mosquitto_int_option(pointer, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311)
        _ = mosquitto_max_inflight_messages_set(pointer, UInt32(options.maxInflight))
        _ = mosquitto_reconnect_delay_set(
            pointer, UInt32(options.reconnectDelay.min), UInt32(options.reconnectDelay.max), true)
        do {
            try configureSecurity(pointer, options)
        } catch {
            mosquitto_destroy(pointer)
            Unmanaged<MosquittoBridge>.fromOpaque(userdata).release()
            throw error
        }
    }

    private func configureSecurity(_ pointer: OpaquePointer, _ options: Options) throws(MQTTError) {
        if let username = options.username {
            try check(mosquitto_username_pw_set(pointer, username, options.password), "set the username")
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

    /// Starts connecting in the background; the outcome arrives as `connected` or `disconnected` events.
    /// Returns why the first attempt failed, if it did: the loop thread keeps retrying with backoff.
    @discardableResult
    public func start() throws(MQTTError) -> String? {
        let rc = mosquitto_connect_async(
            handle.pointer, options.host, Int32(options.port), Int32(options.keepaliveSeconds))
        let errorNumber = errno
        // Only bad arguments are fatal; anything the network did is retried by the loop thread.
        if rc == MOSQ_ERR_INVAL.rawValue || rc == MOSQ_ERR_NOMEM.rawValue {
            throw Self.error("connect to \(options.host):\(options.port)", rc)
        }
        try check(mosquitto_loop_start(handle.pointer), "start the network loop")
        switch rc {
        case MOSQ_ERR_SUCCESS.rawValue: return nil
        case MOSQ_ERR_EAI.rawValue: return "the broker's host name '\(options.host)' does not resolve"
        case MOSQ_ERR_ERRNO.rawValue: return String(cString: strerror(errorNumber)).lowercased()
        default: return String(cString: mosquitto_strerror(rc))
        }
    }

    /// Hands a message to libmosquitto and returns its message id.
    public func publish(topic: String, payload: String, qos: Int32 = 1, retain: Bool = false) throws(MQTTError)
        -> Int32
    {
        var mid: Int32 = 0
        let bytes = Array(payload.utf8)
        let rc = bytes.withUnsafeBytes { raw in
            mosquitto_publish(handle.pointer, &mid, topic, Int32(raw.count), raw.baseAddress, qos, retain)
        }
        try check(rc, "publish to \(topic)")
        return mid
    }

    public func subscribe(_ pattern: String, qos: Int32 = 1) throws(MQTTError) {
        try check(mosquitto_subscribe(handle.pointer, nil, pattern, qos), "subscribe to \(pattern)")
    }

    /// Disconnects, stops the loop thread and frees the handle. Safe to call twice.
    public func stop() {
        let wasStopped = stopped.withLock { s in
            defer { s = true }
            return s
        }
        guard !wasStopped else { return }
        _ = mosquitto_disconnect(handle.pointer)
        _ = mosquitto_loop_stop(handle.pointer, false)
        mosquitto_destroy(handle.pointer)
        // libmosquitto can no longer call back: give up the retain taken in init.
        Unmanaged.passUnretained(bridge).release()
        bridge.finish()
    }

    private func check(_ rc: Int32, _ operation: String) throws(MQTTError) {
        if rc != MOSQ_ERR_SUCCESS.rawValue { throw Self.error(operation, rc) }
    }

    static func error(_ operation: String, _ rc: Int32) -> MQTTError {
        MQTTError(operation: operation, code: rc, message: String(cString: mosquitto_strerror(rc)))
    }

    /// The broker's reason for refusing a connection (CONNACK return code, MQTT 3.1.1).
    public static func connackReason(_ code: Int32) -> String {
        String(cString: mosquitto_connack_string(code))
    }

    public static func disconnectReason(_ code: Int32) -> String {
        String(cString: mosquitto_strerror(code))
    }
}
