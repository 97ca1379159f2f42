import CMosquitto
import SitegateThreads

/// The one place where libmosquitto's callbacks enter Swift.
///
/// libmosquitto calls these from its network thread with the `userdata` pointer given to `mosquitto_new`: an
/// unretained reference to this bridge, kept alive by `MQTTClient` until after `mosquitto_destroy`. Each callback
/// only yields an event to an unbounded stream (acks must never be dropped); all policy happens in Swift, on the
/// consumer's side.
final class MosquittoBridge: Sendable {
    let events: AsyncStream<MQTTEvent>
    private let continuation: AsyncStream<MQTTEvent>.Continuation
    /// Set by on_connect (accepted), taken by the network loop to reset its backoff.
    private let connectedFlag = LockedValue(false)
    /// Set by on_connect whatever the CONNACK said; cleared by the network loop before each attempt.
    private let answeredFlag = LockedValue(false)

    /// Where events go instead of `events`, once set: the agent's publisher takes them straight into its own input
    /// stream, one task hand-over per event instead of two.
    /// Boxed: a closure kept directly in the generic `LockedValue` is re-wrapped in a reabstraction thunk at every
    /// `withLock` (inout through generic storage), and the chain grows with each event (measured: the network
    /// thread's CPU quadrupled within a minute).
    private let sink = LockedValue<Sink?>(nil)

    private final class Sink: Sendable {
        let deliver: @Sendable (MQTTEvent) -> Void
        init(_ deliver: @escaping @Sendable (MQTTEvent) -> Void) { self.deliver = deliver }
    }

    func yield(_ event: MQTTEvent) {
        if let sink = sink.withLock({ $0 }) {
            sink.deliver(event)
        } else {
            continuation.yield(event)
        }
    }

    func deliver(to sink: @escaping @Sendable (MQTTEvent) -> Void) {
        let box = Sink(sink)
        self.sink.withLock { $0 = box }
    }

    func takeConnected() -> Bool {
        connectedFlag.withLock { flag in
            defer { flag = false }
            return flag
        }
    }

    /// Whether a CONNACK arrived since the last call (which clears it).
    func takeAnswered() -> Bool {
        answeredFlag.withLock { flag in
            defer { flag = false }
            return flag
        }
    }

    init() {
        (events, continuation) = AsyncStream.makeStream(of: MQTTEvent.self, bufferingPolicy: .unbounded)
    }

    func finish() {
        continuation.finish()
    }

    /// Installs the callbacks. The closures capture nothing; they find the bridge through `userdata`.
    func install(on handle: OpaquePointer) {
        mosquitto_connect_callback_set(handle) { _, userdata, rc in
            let bridge = MosquittoBridge.from(userdata)
            if rc == 0 { bridge.connectedFlag.withLock { $0 = true } }
            bridge.answeredFlag.withLock { $0 = true }
            bridge.yield(.connected(code: rc))
        }
        mosquitto_disconnect_callback_set(handle) { _, userdata, rc in
            MosquittoBridge.from(userdata).yield(.disconnected(code: rc))
        }
        // The v5 callback also fires for MQTT 3.1.1 (reason code 0); it carries the broker's refusals under MQTT 5.
        mosquitto_publish_v5_callback_set(handle) { _, userdata, mid, reasonCode, _ in
            let event: MQTTEvent = reasonCode >= 0x80 ? .refused(mid: mid, reasonCode: reasonCode) : .acknowledged(mid: mid)
            MosquittoBridge.from(userdata).yield(event)
        }
        Self.installLog(on: handle)
        mosquitto_message_callback_set(handle) { _, userdata, message in
            guard let message else { return }
            let m = message.pointee
            let topic = String(cString: m.topic)
            let payload: [UInt8] =
                m.payloadlen > 0 && m.payload != nil
                ? Array(UnsafeRawBufferPointer(start: m.payload, count: Int(m.payloadlen))) : []
            MosquittoBridge.from(userdata).yield(.message(topic: topic, payload: payload, retain: m.retain))
        }
    }

    /// Only errors and warnings: the rest is noise at the rate the network thread produces it.
    ///
    /// Installed while the client connects, removed once a session is up (`removeLog`), installed again when it
    /// ends: with a log callback set, libmosquitto formats a debug line for every packet it sends or receives
    /// (`vsnprintf` into a fresh allocation, two lines a message at QoS 1), only for this callback to drop it: 2 to
    /// 3 % of the agent's instructions (docs/performance.md, "CPU, sixth pass"). What a session's own failure
    /// logs is lost with it; the disconnect's reason code still arrives, and a reconnection that fails logs again.
    static func installLog(on handle: OpaquePointer) {
        mosquitto_log_callback_set(handle) { _, userdata, level, text in
            guard level & Int32(MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0, let text else { return }
            MosquittoBridge.from(userdata).yield(.log(level: level, message: String(cString: text)))
        }
    }

    static func removeLog(from handle: OpaquePointer) {
        mosquitto_log_callback_set(handle, nil)
    }

    private static func from(_ userdata: UnsafeMutableRawPointer?) -> MosquittoBridge {
        Unmanaged<MosquittoBridge>.fromOpaque(userdata!).takeUnretainedValue()
    }
}
