/// Decides whether the agent may tell systemd it is alive (`WATCHDOG=1`): only while every registered component
/// has made progress within its allowance.
///
/// systemd's watchdog by itself proves only that some thread can still send a datagram. A poller stuck in a C call
/// or a publisher whose acknowledgements stopped would keep pinging. Gating the ping on progress turns such a hang
/// into a restart (SIGABRT after `WatchdogSec=`, then `Restart=on-failure`); the buffer survives restarts.
///
/// Two kinds of component:
/// - A bus poller owes progress all the time. It reports after every poll attempt, whether the meter answered or
///   not: a silent meter is a health matter (`HealthBoard`), not a hang, and a restart would not make it answer.
/// - The publisher owes progress only while busy: connected with polls waiting. When it is idle (nothing to send,
///   or the broker unreachable: libmosquitto's reconnect loop waits that out, and a restart would not end an outage)
///   it owes nothing. When it turns busy its allowance counts from then, not from an acknowledgement hours ago.
///
/// Pure: time comes in as arguments (use a monotonic clock such as `ContinuousClock`; the wall clock of a box without
/// a real-time clock jumps when NTP first syncs). The owner keeps it behind a lock.
public struct ProgressWatchdog<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// A component that has not made progress within its allowance.
    public struct Stall: Sendable, Hashable, CustomStringConvertible {
        public var component: String
        public var silentFor: Duration
        public var allowance: Duration

        public init(component: String, silentFor: Duration, allowance: Duration) {
            self.component = component
            self.silentFor = silentFor
            self.allowance = allowance
        }

        public var description: String { "\(component) silent for \(silentFor) (allowed \(allowance))" }
    }

    // @usableFromInline: `progressed` and `setIdle` run for every acknowledgement and commit; inlined, they are
    // specialised for the caller's clock instead of going through generic metadata each time.
    @usableFromInline
    struct Component: Sendable {
        @usableFromInline var allowance: Duration
        @usableFromInline var lastProgress: Instant
        @usableFromInline var idle: Bool
    }

    @usableFromInline
    var components: [String: Component] = [:]

    public init() {}

    /// The registered components' names, sorted.
    public var registered: [String] { components.keys.sorted() }

    /// Starts watching `name`; its allowance counts from `now`. Registering again replaces the earlier entry.
    public mutating func register(_ name: String, allowance: Duration, now: Instant, idle: Bool = false) {
        components[name] = Component(allowance: allowance, lastProgress: now, idle: idle)
    }

    public mutating func unregister(_ name: String) {
        components[name] = nil
    }

    /// `name` did its job at `now`: a poll attempt finished, or the broker acknowledged a message. Reports from
    /// components not registered (one removed by a reload may report once more) are ignored.
    @inlinable
    public mutating func progressed(_ name: String, now: Instant) {
        guard var component = components[name] else { return }
        // Reports can arrive slightly out of order from different threads; time never runs backwards here.
        component.lastProgress = max(component.lastProgress, now)
        components[name] = component
    }

    /// Whether `name` currently owes no progress. Turning busy starts its allowance at `now`.
    @inlinable
    public mutating func setIdle(_ name: String, _ idle: Bool, now: Instant) {
        guard var component = components[name], component.idle != idle else { return }
        if !idle { component.lastProgress = max(component.lastProgress, now) }
        component.idle = idle
        components[name] = component
    }

    /// The busy components silent for longer than their allowance, by name.
    public func stalls(now: Instant) -> [Stall] {
        components.compactMap { name, component -> Stall? in
            guard !component.idle else { return nil }
            let silence = component.lastProgress.duration(to: now)
            return silence > component.allowance
                ? Stall(component: name, silentFor: silence, allowance: component.allowance) : nil
        }.sorted { $0.component < $1.component }
    }

    /// Whether to send `WATCHDOG=1` now. True with nothing registered: then liveness is all there is to report.
    public func shouldPing(now: Instant) -> Bool { stalls(now: now).isEmpty }
}
