/// Which sequence number each in-flight message id carries.
///
/// libmosquitto may report the PUBACK for a message id before `mosquitto_publish` has returned that id to us, so an
/// ack for an unknown id is remembered and matched when the id is registered. Messages that are not buffered
/// polls (status, meta, health) are registered too, so that their acks are never mistaken for a poll's.
public struct PublishLedger: Sendable {
    private var inflight: [Int32: Int64] = [:]
    private var inflightSeqs: Set<Int64> = []
    private var others: Set<Int32> = []
    private var early: Set<Int32> = []

    public init() {}

    /// Buffered polls awaiting their ack.
    public var inflightCount: Int { inflight.count }

    /// Whether `seq` was handed to the client and awaits its ack (it must not be published again meanwhile).
    public func isInflight(seq: Int64) -> Bool { inflightSeqs.contains(seq) }

    /// Registers a published poll; returns its seq if its ack had already arrived (then it is done).
    @discardableResult
    public mutating func register(mid: Int32, seq: Int64) -> Int64? {
        if early.remove(mid) != nil { return seq }
        inflight[mid] = seq
        inflightSeqs.insert(seq)
        return nil
    }

    /// Registers a published message that is not a buffered poll.
    public mutating func registerOther(mid: Int32) {
        if early.remove(mid) == nil { others.insert(mid) }
    }

    /// Records an ack; returns the acknowledged poll's seq, or nil for other messages and ids not (yet) known.
    public mutating func acknowledge(mid: Int32) -> Int64? {
        if let seq = inflight.removeValue(forKey: mid) {
            inflightSeqs.remove(seq)
            return seq
        }
        if others.remove(mid) == nil { early.insert(mid) }
        return nil
    }

    /// The broker refused the message (MQTT 5): it is no longer in flight, and stays in the buffer.
    public mutating func refuse(mid: Int32) -> Int64? {
        others.remove(mid)
        guard let seq = inflight.removeValue(forKey: mid) else { return nil }
        inflightSeqs.remove(seq)
        return seq
    }
}
