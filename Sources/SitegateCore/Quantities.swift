/// Parses the duration notation of configs and maps: `500ms`, `10s`, `15m`, `2h`, `1d`.
public enum DurationNotation {
    public static func parse(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Int64)] = [
            ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            // "15m" must not be read as "15" + "m" of "ms": the loop tries "ms" first.
            guard !number.isEmpty, number.allSatisfy(\.isASCIIDigit), let value = Int64(number) else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: factor)
            return overflow ? nil : .milliseconds(product)
        }
        return nil
    }

    /// The shortest notation that parses back to `duration` (whole milliseconds).
    public static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        for (suffix, factor) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where ms != 0 && ms % factor == 0 {
            return "\(ms / factor)\(suffix)"
        }
        return "\(ms)ms"
    }
}

/// Parses sizes: `4096`, `512KiB`, `256MiB`, `2GiB`, `10MB`.
public enum ByteSizeNotation {
    public static func parse(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("kB", 1000), ("KB", 1000), ("MB", 1_000_000),
            ("GB", 1_000_000_000), ("B", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy(\.isASCIIDigit), let value = Int64(number) else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: factor)
            return overflow ? nil : product
        }
        return text.allSatisfy(\.isASCIIDigit) ? Int64(text) : nil
    }
}

extension Duration {
    /// Whole milliseconds, truncated.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension DurationNotation {
    /// A wait for log lines and status text, rounded: "350 ms", "4 s", "2 min".
    public static func rounded(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        if ms < 1000 { return "\(max(ms, 0)) ms" }
        let seconds = (ms + 500) / 1000
        if seconds < 120 { return "\(seconds) s" }
        return "\((seconds + 30) / 60) min"
    }
}
