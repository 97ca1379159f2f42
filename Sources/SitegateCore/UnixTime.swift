#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A wall-clock instant: nanoseconds since 1970-01-01T00:00:00Z.
public struct UnixTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public init(milliseconds: Int64) { self.nanoseconds = milliseconds * 1_000_000 }
    public init(seconds: Int64) { self.nanoseconds = seconds * 1_000_000_000 }

    public var milliseconds: Int64 { nanoseconds.floorDiv(1_000_000) }
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public static func < (a: UnixTime, b: UnixTime) -> Bool { a.nanoseconds < b.nanoseconds }

    public static func + (t: UnixTime, d: Duration) -> UnixTime {
        UnixTime(nanoseconds: t.nanoseconds + d.nanosecondsClamped)
    }

    public static func - (a: UnixTime, b: UnixTime) -> Duration {
        .nanoseconds(a.nanoseconds - b.nanoseconds)
    }

    /// ISO 8601 in UTC with milliseconds, e.g. `2026-01-01T00:15:00.000Z`.
    public var description: String {
        let ms = milliseconds
        let days = ms.floorDiv(86_400_000)
        let msOfDay = ms - days * 86_400_000
        let (y, m, d) = Self.civilFromDays(days)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(msOfDay / 3_600_000, 2)):"
            + "\(pad(msOfDay / 60_000 % 60, 2)):\(pad(msOfDay / 1000 % 60, 2)).\(pad(msOfDay % 1000, 3))Z"
    }

    // Howard Hinnant's days-to-civil algorithm; valid for the proleptic Gregorian calendar.
    static func civilFromDays(_ z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// Where "now" comes from; schedules and backoff take one so tests can inject time.
public protocol WallClock: Sendable {
    func now() -> UnixTime
}

public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> UnixTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UnixTime(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }
}

extension Duration {
    /// Seconds as a Double, for rates, shares and histograms.
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }

    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

extension Int64 {
    func floorDiv(_ divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
