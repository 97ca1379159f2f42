import CMosquitto
import SitegateCore
import SitegateThreads

#if canImport(Glibc)
import Glibc
#endif

/// The network thread's loop: connect, serve the socket, and after a failure move on to the next node or wait
/// (`BrokerRotation`). Always `mosquitto_connect`, never `mosquitto_reconnect`: the latter returns to the last host.
/// Both keep the QoS 1 messages in flight and re-send them after the CONNACK, also to another node.
struct NetworkLoop {
    let handle: OpaquePointer
    let options: MQTTClient.Options
    let running: LockedValue<Bool>
    let bridge: MosquittoBridge

    func run() {
        var rotation = BrokerRotation(
            nodeCount: options.nodes.count, minDelay: options.reconnectDelay.min, maxDelay: options.reconnectDelay.max)
        var announced: Int?
        var connected = false
        while running.withLock({ $0 }) {
            if !connected {
                if announced != rotation.current {
                    announced = rotation.current
                    bridge.yield(.connecting(node: rotation.current))
                }
                let node = options.nodes[rotation.current]
                _ = bridge.takeAnswered()
                let rc = mosquitto_connect(handle, node.host, Int32(node.port), Int32(options.keepaliveSeconds))
                let errorNumber = errno
                if rc != MOSQ_ERR_SUCCESS.rawValue {
                    let wait = rotation.failed(jitter: Double.random(in: 0.5...1.0))
                    bridge.yield(.connectFailed(reason: Self.describe(rc, errno: errorNumber, host: node.host), retryIn: wait))
                    sleep(for: wait)
                    continue
                }
                connected = true
            }
            let rc = mosquitto_loop(handle, 200, 1)
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                // The connection is gone; on_disconnect has told the consumer. Move on or wait, then connect again.
                connected = false
                MosquittoBridge.installLog(on: handle)
                guard running.withLock({ $0 }) else { break }
                let answered = bridge.takeAnswered()
                let wait = rotation.failed(jitter: Double.random(in: 0.5...1.0))
                if !answered { bridge.yield(.closedWithoutAnswer(retryIn: wait)) }
                sleep(for: wait)
            } else if bridge.takeConnected() {
                rotation.accepted()  // a good session resets the backoff
                MosquittoBridge.removeLog(from: handle)
            }
        }
        // Let a clean DISCONNECT go out.
        for _ in 0..<5 where mosquitto_loop(handle, 50, 1) == MOSQ_ERR_SUCCESS.rawValue {}
    }

    func sleep(for d: Duration) {
        // Sleep in slices so that stop() is not held up by a long backoff.
        var left = d
        while left > .zero && running.withLock({ $0 }) {
            let slice = min(left, .milliseconds(100))
            var ts = timespec(tv_sec: Int(slice.components.seconds), tv_nsec: Int(slice.components.attoseconds / 1_000_000_000))
            nanosleep(&ts, nil)
            left -= slice
        }
    }

    static func describe(_ rc: Int32, errno: Int32, host: String) -> String {
        switch rc {
        case MOSQ_ERR_EAI.rawValue: return "the broker's host name '\(host)' does not resolve"
        case MOSQ_ERR_ERRNO.rawValue: return String(cString: strerror(errno)).lowercased()
        case MOSQ_ERR_TLS.rawValue: return "TLS handshake failed"
        default: return String(cString: mosquitto_strerror(rc))
        }
    }
}
