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

/// One scheduled tick of one device's point group, as it ended: the unit of commit, of sequence numbering and
/// of publication. Every tick that was tried, or skipped for backoff, is a poll, also when nothing was read.
public struct Poll: Sendable, Hashable {
    public var deviceID: String
    /// When the poll's first successful request was sent (the tick itself when nothing succeeded).
    public var takenAt: UnixTime
    public var readings: [Reading]
    /// The points of the group that have no value, each with its reason (a partial poll).
    public var failures: [PointFailure]
    /// Set when the whole poll failed: no point has a value.
    public var failure: FailureReason?
    /// The scheduled tick this poll accounts for (the checkpoints count ticks).
    public var tick: UnixTime
    /// The kernel said the clock was not synchronised when the poll was taken.
    public var clockUnsynchronised: Bool

    public init(
        deviceID: String, takenAt: UnixTime, readings: [Reading], failures: [PointFailure] = [],
        failure: FailureReason? = nil, tick: UnixTime? = nil, clockUnsynchronised: Bool = false
    ) {
        self.deviceID = deviceID
        self.takenAt = takenAt
        self.readings = readings
        self.failures = failures
        self.failure = failure
        self.tick = tick ?? takenAt
        self.clockUnsynchronised = clockUnsynchronised
    }

    /// A poll of which nothing was read, for `reason`.
    public static func failed(deviceID: String, at time: UnixTime, tick: UnixTime, reason: FailureReason, clockUnsynchronised: Bool = false) -> Poll {
        Poll(deviceID: deviceID, takenAt: time, readings: [], failure: reason, tick: tick, clockUnsynchronised: clockUnsynchronised)
    }

    public var outcome: PollOutcome {
        if failure != nil { return .failed }
        return failures.isEmpty ? .full : .partial
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

/// Why a poll or one of its points has no value: the `vs` of a failed record (docs/evidence.md, "Accounting for
/// every tick").
public enum FailureReason: Sendable, Hashable, CustomStringConvertible {
    case timeout
    case exception(code: UInt8)
    case crc
    case badResponse
    case connection
    case io
    /// A point not read because an earlier request of the same poll timed out or was garbled.
    case skipped
    /// The whole tick was not tried: the device failed repeatedly and is polled less often for now.
    case backoff

    /// The text in the payload: `timeout`, `exception:2`, ….
    public var description: String {
        switch self {
        case .timeout: "timeout"
        case .exception(let code): "exception:\(code)"
        case .crc: "crc"
        case .badResponse: "bad_response"
        case .connection: "connection"
        case .io: "io"
        case .skipped: "skipped"
        case .backoff: "backoff"
        }
    }

    public init?(text: String) {
        switch text {
        case "timeout": self = .timeout
        case "crc": self = .crc
        case "bad_response": self = .badResponse
        case "connection": self = .connection
        case "io": self = .io
        case "skipped": self = .skipped
        case "backoff": self = .backoff
        default:
            guard text.hasPrefix("exception:"), let code = UInt8(text.dropFirst("exception:".count)) else { return nil }
            self = .exception(code: code)
        }
    }
}

/// A point of the poll's group that has no value this time, and why.
public struct PointFailure: Sendable, Hashable {
    public var pointID: String
    public var unit: String?
    public var reason: FailureReason

    public init(pointID: String, unit: String?, reason: FailureReason) {
        self.pointID = pointID
        self.unit = unit
        self.reason = reason
    }
}

/// How a scheduled tick's poll went: the `poll` base field of a data message.
public enum PollOutcome: String, Sendable, Hashable, CaseIterable {
    case full, partial, failed
}
