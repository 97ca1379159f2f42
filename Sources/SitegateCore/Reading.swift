/// One point's outcome in a poll.
public struct Reading: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        case number(Double)
        case text(String)
        /// The registers held an invalid sentinel; `raw` is the registers in hex, kept for diagnosis.
        case invalid(raw: String)
    }

    public var pointID: String
    public var unit: String?
    public var value: Value
    /// When the request that carried this point was sent, relative to the poll's start.
    public var offset: Duration

    public init(pointID: String, unit: String?, value: Value, offset: Duration = .zero) {
        self.pointID = pointID
        self.unit = unit
        self.value = value
        self.offset = offset
    }
}

/// The readings of one device poll: the unit of commit, of sequence numbering and of publication.
public struct Poll: Sendable, Hashable {
    public var deviceID: String
    /// When the poll's first request was sent.
    public var takenAt: UnixTime
    public var readings: [Reading]

    public init(deviceID: String, takenAt: UnixTime, readings: [Reading]) {
        self.deviceID = deviceID
        self.takenAt = takenAt
        self.readings = readings
    }
}

/// A poll as the buffer holds it: with its gateway-wide sequence number and the time it was committed.
public struct StoredPoll: Sendable, Hashable {
    public var seq: Int64
    public var committedAt: UnixTime
    public var poll: Poll

    public init(seq: Int64, committedAt: UnixTime, poll: Poll) {
        self.seq = seq
        self.committedAt = committedAt
        self.poll = poll
    }
}
