/// How long a component of the agent may go without progress before `ProgressWatchdog` withholds the ping.
public enum WatchdogAllowance {
    /// A bus poller: twice its longest poll interval, plus one response timeout for each transaction of a cycle.
    /// A healthy poller finishes a cycle at least once per interval; the slack covers one tick skipped because the
    /// previous cycle ran long, and a cycle in which every meter on the line is silent and each transaction waits
    /// out its timeout (a cut RS-485 line). `transactionsPerCycle`: the read requests of all the bus's devices.
    public static func poller(
        longestInterval: Duration, responseTimeout: Duration, transactionsPerCycle: Int = 1
    ) -> Duration {
        longestInterval * 2 + responseTimeout * max(1, transactionsPerCycle)
    }

    /// The publisher while busy: three MQTT keepalives. libmosquitto declares a silent connection dead after one and
    /// a half keepalives, and the publisher is idle while disconnected, so a busy publisher without an
    /// acknowledgement for longer than this is stuck on our side.
    public static func publisher(keepalive: Duration) -> Duration {
        keepalive * 3
    }
}
