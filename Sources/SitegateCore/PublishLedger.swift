/// Which sequence number each in-flight message id carries.
///
/// libmosquitto may report the PUBACK for a message id before `mosquitto_publish` has returned that id to us, so an
/// ack for an unknown id is remembered and matched when the id is registered.
public struct PublishLedger: Sendable {
    public init() {}

    private var inflight: [Int32: Int64] = [:]
    private var inflightSeqs: Set<Int64> = []
    private var early: Set<Int32> = []

    public var inflightCount: Int { inflight.count }

    /// Whether `seq` was handed to the client and awaits its ack (it must not be published again meanwhile).
    public func isInflight(seq: Int64) -> Bool { inflightSeqs.contains(seq) }

    /// Registers a published message; returns its seq if its ack had already arrived (then it is done).
    @discardableResult
    public mutating func register(mid: Int32, seq: Int64) -> Int64? {
        if early.remove(mid) != nil { return seq }
        inflight[mid] = seq
        inflightSeqs.insert(seq)
        return nil
    }

    /// Records an ack; returns the acknowledged seq, or nil when the id is not (yet) known.
    public mutating func acknowledge(mid: Int32) -> Int64? {
        if let seq = inflight.removeValue(forKey: mid) {
            inflightSeqs.remove(seq)
            return seq
        }
        early.insert(mid)
        return nil
    }
}
