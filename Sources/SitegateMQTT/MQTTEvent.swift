/// What the broker connection reports, in the order libmosquitto's thread saw it.
public enum MQTTEvent: Sendable, Hashable {
    /// CONNACK arrived; `code` 0 means accepted, anything else is the broker's refusal.
    case connected(code: Int32)
    /// The connection ended; `code` 0 means we asked for it.
    case disconnected(code: Int32)
    /// The client is about to try node `node` of `Options.nodes` (the first attempt, and each switch of node).
    case connecting(node: Int)
    /// A connection attempt failed before CONNECT was sent (name resolution, refused, TLS); the client retries by
    /// itself, after `retryIn` (zero when it moves to another node at once).
    case connectFailed(reason: String, retryIn: Duration)
    /// The broker closed the connection without answering CONNECT (no CONNACK): a broker that does not support the
    /// protocol version, a TLS listener spoken to in plain text, or a listener that is not MQTT. Retried after
    /// `retryIn`. (A `.disconnected` event precedes it.)
    case closedWithoutAnswer(retryIn: Duration)
    /// The broker acknowledged message `mid` (PUBACK for QoS 1).
    case acknowledged(mid: Int32)
    /// MQTT 5 only: the broker refused message `mid` with a reason code (e.g. 0x87 not authorised).
    case refused(mid: Int32, reasonCode: Int32)
    /// A message arrived on a subscription; `retain` when the broker sent it as its retained message (on subscribing).
    case message(topic: String, payload: [UInt8], retain: Bool)
    /// libmosquitto reported an error or warning (TLS handshake failures arrive this way, with OpenSSL's reason).
    case log(level: Int32, message: String)
}

/// A failed libmosquitto call: the operation and libmosquitto's text for the code.
public struct MQTTError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var code: Int32
    public var message: String

    public var description: String { "\(operation): \(message)" }
}
