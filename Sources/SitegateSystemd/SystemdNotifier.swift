#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd about the agent's state with the sd_notify protocol (sd_notify(3)): newline-separated
/// `KEY=VALUE` lines in one datagram to the AF_UNIX socket named by `NOTIFY_SOCKET`.
///
/// A small Swift implementation rather than libsystemd's `sd_notify`: the protocol is one `sendto`, and the
/// release binary then links no libsystemd (nothing more to keep in the package's Depends, and the same binary
/// runs in containers without systemd). Outside systemd (`NOTIFY_SOCKET` unset) every call does nothing and
/// returns false. The agent's `NotifyService` is its user: READY=1, the watchdog pings, STATUS and STOPPING=1.
public struct SystemdNotifier: Sendable {
    /// The environment variables this type reads.
    public static let variables = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]

    /// Where notifications go: nil when not started by systemd with `Type=notify`.
    public let socket: NotifySocketAddress?
    /// Why `NOTIFY_SOCKET` could not be used, if it was set but invalid; `send` throws it.
    let socketError: SystemdNotifyError?
    /// systemd's `WatchdogSec=` for this process (`WATCHDOG_USEC`), or nil when no watchdog watches it.
    public let watchdogInterval: Duration?

    /// Reads this process's environment.
    public init() {
        var environment: [String: String] = [:]
        for name in Self.variables {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        self.init(environment: environment, processID: getpid())
    }

    /// Reads the given environment instead of the process's: tests point `NOTIFY_SOCKET` at a socket of their own.
    public init(environment: [String: String], processID: Int32) {
        if let value = environment["NOTIFY_SOCKET"] {
            do throws(SystemdNotifyError) {
                socket = try NotifySocketAddress(value)
                socketError = nil
            } catch {
                socket = nil
                socketError = error
            }
        } else {
            socket = nil
            socketError = nil
        }
        watchdogInterval = Self.watchdogInterval(environment, processID: processID)
    }

    /// Whether systemd listens: notifications are sent, not dropped.
    public var isActive: Bool { socket != nil || socketError != nil }

    /// How often to send `WATCHDOG=1`: half of `WatchdogSec=`, as sd_watchdog_enabled(3) recommends, so that one
    /// late ping does not end the process.
    public var watchdogPingInterval: Duration? { watchdogInterval.map { $0 / 2 } }

    /// Sends `states` in one datagram. Returns false when not under systemd.
    @discardableResult
    public func send(_ states: [NotifyState]) throws(SystemdNotifyError) -> Bool {
        if let socketError { throw socketError }
        guard let socket, !states.isEmpty else { return false }
        try NotifyDatagram.send(states.map(\.line).joined(separator: "\n"), to: socket)
        return true
    }

    /// Startup is finished. Send once: config valid, buffer open, services running.
    @discardableResult
    public func ready(status: String? = nil) throws(SystemdNotifyError) -> Bool {
        try send([.ready] + (status.map { [.status($0)] } ?? []))
    }

    /// The agent is alive and making progress; see `ProgressWatchdog`.
    @discardableResult
    public func watchdog() throws(SystemdNotifyError) -> Bool { try send([.watchdog]) }

    /// A one-line status for `systemctl status`.
    @discardableResult
    public func status(_ text: String) throws(SystemdNotifyError) -> Bool { try send([.status(text)]) }

    /// Shutdown has begun.
    @discardableResult
    public func stopping() throws(SystemdNotifyError) -> Bool { try send([.stopping]) }

    /// A reload has begun; send `ready()` when it is done. Carries the monotonic time that systemd 253's
    /// `Type=notify-reload` requires and older versions ignore.
    @discardableResult
    public func reloading() throws(SystemdNotifyError) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        return try send([.reloading(monotonicMicroseconds: microseconds)])
    }

    /// Asks for more time than TimeoutStartSec/TimeoutStopSec allow, e.g. while draining a long backlog.
    @discardableResult
    public func extendTimeout(by duration: Duration) throws(SystemdNotifyError) -> Bool {
        try send([.extendTimeout(duration)])
    }

    /// `WATCHDOG_USEC`, if set, positive, and meant for this process (`WATCHDOG_PID` absent or equal to ours).
    static func watchdogInterval(_ environment: [String: String], processID: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0,
            microseconds <= UInt64(Int64.max)
        else { return nil }
        if let pidText = environment["WATCHDOG_PID"] {
            // A WATCHDOG_PID that does not parse is systemd's mistake or someone else's variable: not for us.
            guard let pid = Int32(pidText), pid == processID else { return nil }
        }
        return .microseconds(Int64(microseconds))
    }
}
