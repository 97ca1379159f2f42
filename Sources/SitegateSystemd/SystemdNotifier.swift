// How the agent uses this module (issue 7). Nothing in SitegateAgent calls it yet; these are the exact steps.
//
// 0. Package.swift: add "SitegateSystemd" and "SitegateThreads" to SitegateAgent's dependencies.
//
// 1. Agent.run(), after the outbox is open and the MQTT client exists, before `group.run()`:
//
//        let notifier = SystemdNotifier()   // reads NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID; inert outside systemd
//        let watchdog = LockedValue(ProgressWatchdog<ContinuousClock.Instant>())
//        let now = ContinuousClock.now
//        watchdog.withLock { w in
//            for bus in config.buses {
//                let plans = plans(for: bus)
//                guard let longest = plans.map(\.1.interval).max() else { continue }
//                w.register("bus:\(bus.id)", allowance: WatchdogAllowance.poller(
//                    longestInterval: longest, responseTimeout: bus.responseTimeout,
//                    transactionsPerCycle: plans.reduce(0) { $0 + $1.0.requests.count }), now: now)
//            }
//            w.register("publisher", allowance: WatchdogAllowance.publisher(keepalive: config.mqtt.keepalive),
//                       now: now, idle: true)
//        }
//
//    Pass `watchdog` to each BusPoller and to the Publisher.
//
// 2. BusPoller.runCycle(_:backoffs:knowledge:), at its end, after every cycle whether the meters answered or not
//    (devices in backoff included):
//
//        watchdog.withLock { $0.progressed("bus:\(bus.config.id)", now: .now) }
//
//    and in commit(_:), when `result.seqs` is not empty and the broker is connected (HealthBoard's broker state):
//    new data means an acknowledgement is now owed, so a publisher that stops reading its inputs is caught too:
//
//        watchdog.withLock { $0.setIdle("publisher", false, now: .now) }
//
// 3. Publisher: on `.mqtt(.acknowledged)` in handle(_:_:), `progressed("publisher", now: .now)`; at the end of
//    handle(_:_:), `setIdle("publisher", !c.connected || (c.ledger.inflightCount == 0 && c.backlogDone),
//    now: .now)` (with live polls caught up, if that is tracked separately).
//
// 4. One more service, appended last to the ServiceGroup (so it is the first to hear of shutdown), whose run() is:
//
//        try? notifier.ready(status: "polling \(devices) devices on \(buses) buses")
//        await cancelWhenGracefulShutdown {
//            let every = notifier.watchdogPingInterval ?? .seconds(30)
//            while !Task.isCancelled {
//                let stalls = watchdog.withLock { $0.stalls(now: .now) }
//                if stalls.isEmpty {
//                    try? notifier.watchdog()
//                } else {
//                    logger.warning("no progress; withholding the watchdog ping", metadata: ["stalls": "\(stalls)"])
//                }
//                try? notifier.status(<"buffer depth N, broker connected, 12/12 devices answering", or the stalls>)
//                do { try await Task.sleep(for: every) } catch { break }
//            }
//        }
//        try? notifier.stopping()
//
//    READY=1 means "config valid, buffer open, services started"; it must not wait for the broker, which may be
//    down for days while the agent keeps buffering. Without READY=1 within TimeoutStartSec (90 s) systemd fails the
//    start, and without WATCHDOG=1 within WatchdogSec (60 s) it kills the agent with SIGABRT and restarts it: the
//    unit in systemd/sitegate.service is only usable once steps 1-4 are in.
//
// 5. ServiceGroup configuration: `maximumGracefulShutdownDuration: .seconds(20)`, below the unit's
//    TimeoutStopSec=30s, so the drain ends before systemd's SIGKILL.
//
// 6. SIGHUP: the unit's ExecReload sends it. Until reload exists, at least catch it (UnixSignalsSequence) and log
//    "reload is not implemented; use systemctl restart"; today SIGHUP's default action ends the process, and
//    systemd counts a SIGHUP death as clean, so Restart=on-failure would not bring the agent back. A real reload
//    sends `reloading()` first and `ready()` when done.
//
// 7. Logging (Sources/sitegate/Sitegate.swift, LogOptions.bootstrap; add "SitegateLogging" to the executable's
//    dependencies): `var handler = JournalLogHandler.standardError(label: label)` instead of
//    `StreamLogHandler.standardError(label: label)`.
//
// 8. Then enable Tests/SitegateSystemdTests/AgentNotifyTests.swift (remove its `.disabled`): it runs `sitegate run`
//    against a notify socket of its own. In docs/operations.md, drop the interim `Type=exec` drop-in and turn the
//    "Planned" rows of the status table into "Works".

#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd about the agent's state with the sd_notify protocol (sd_notify(3)): newline-separated
/// `KEY=VALUE` lines in one datagram to the AF_UNIX socket named by `NOTIFY_SOCKET`.
///
/// A small Swift implementation rather than libsystemd's `sd_notify`: the protocol is one `sendto`, and the
/// release binary then links no libsystemd (nothing more to keep in the package's Depends, and the same binary
/// runs in containers without systemd). Outside systemd (`NOTIFY_SOCKET` unset) every call does nothing and
/// returns false.
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
