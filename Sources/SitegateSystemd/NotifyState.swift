/// One `KEY=VALUE` line of an sd_notify message (sd_notify(3)).
public enum NotifyState: Sendable, Hashable {
    /// `READY=1`: startup is finished.
    case ready
    /// `RELOADING=1` with `MONOTONIC_USEC=`, the CLOCK_MONOTONIC time the reload began.
    case reloading(monotonicMicroseconds: UInt64)
    /// `STOPPING=1`: shutdown has begun.
    case stopping
    /// `WATCHDOG=1`: still alive.
    case watchdog
    /// `STATUS=`: free text for `systemctl status`; line breaks become spaces.
    case status(String)
    /// `EXTEND_TIMEOUT_USEC=`: the current start or stop may take this much longer.
    case extendTimeout(Duration)

    /// The line as sent, without a trailing newline.
    public var line: String {
        switch self {
        case .ready: "READY=1"
        case .reloading(let microseconds): "RELOADING=1\nMONOTONIC_USEC=\(microseconds)"
        case .stopping: "STOPPING=1"
        case .watchdog: "WATCHDOG=1"
        // A line break would end the value and start a line systemd reads as another assignment.
        case .status(let text): "STATUS=" + String(text.map { $0.isNewline ? " " : $0 })
        case .extendTimeout(let duration): "EXTEND_TIMEOUT_USEC=\(Self.microseconds(duration))"
        }
    }

    static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
    }
}
