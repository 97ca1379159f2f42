/// How long a component of the agent may go without progress before `ProgressWatchdog` withholds the ping.
public enum WatchdogAllowance {
    /// A bus poller: twice its longest poll interval plus one response timeout. A healthy poller finishes an attempt
    /// at least once per interval; the slack covers one tick skipped because the previous round ran long, and one
    /// transaction that waits out its timeout.
    public static func poller(longestInterval: Duration, responseTimeout: Duration) -> Duration {
        longestInterval * 2 + responseTimeout
    }

    /// The publisher while busy: three MQTT keepalives. libmosquitto declares a silent connection dead after one and
    /// a half keepalives, and the publisher is idle while disconnected, so a busy publisher without an
    /// acknowledgement for longer than this is stuck on our side.
    public static func publisher(keepalive: Duration) -> Duration {
        keepalive * 3
    }
}
