import Logging
import SitegateCore

/// One log event as one line, the way journald reads standard error (sd-daemon(3)):
///
///     <6>connected to the broker mqtt.host=broker.example mqtt.port=8883
///     <4>device not answering: timeout device.id=main-incomer modbus.unit=1
///
/// The `<N>` prefix is the syslog priority journald records. Metadata follows the message as `key=value` pairs,
/// sorted by key, values quoted when they contain spaces (logfmt). Outside the journal the line starts with the
/// time and the level's name instead, for a person at a terminal (who has no use for the prefix):
///
///     2026-01-01T00:15:00.000Z info connected to the broker mqtt.host=broker.example
///
/// Line breaks inside a message or value are escaped: journald would take the rest for a new entry without a
/// priority.
public enum JournalLine {
    /// The syslog priority journald records for `level` (sd-daemon(3): `SD_ERR` is `<3>`, ...).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7  // SD_DEBUG
        case .info: 6  // SD_INFO
        case .notice: 5  // SD_NOTICE
        case .warning: 4  // SD_WARNING
        case .error: 3  // SD_ERR
        case .critical: 2  // SD_CRIT
        }
    }

    /// The line for one event, without the trailing newline. `timestamp` nil: for the journal, which stamps each
    /// entry itself and reads the priority prefix; otherwise for a terminal or file: time and level, no prefix.
    public static func format(
        level: Logger.Level, message: String, metadata: Logger.Metadata, timestamp: UnixTime?
    ) -> String {
        var line: String
        if let timestamp {
            line = "\(timestamp) \(level) "
        } else {
            line = "<\(priority(level))>"
        }
        line += escaped(message)
        for (key, value) in flattened(metadata).sorted(by: { $0.key < $1.key }) {
            line += " " + logfmtKey(key) + "=" + logfmtValue(value)
        }
        return line
    }

    /// Nested dictionaries become dotted keys (`bus` → `["id": "x"]` is `bus.id=x`); everything else its text.
    static func flattened(_ metadata: Logger.Metadata, prefix: String = "") -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in metadata {
            let name = prefix + key
            switch value {
            case .dictionary(let nested) where !nested.isEmpty:
                out.merge(flattened(nested, prefix: name + "."), uniquingKeysWith: { _, nested in nested })
            default:
                out[name] = text(of: value)
            }
        }
        return out
    }

    /// Strings as they are, lists as `[a, b]`: swift-log's own rendering quotes list items, which would come out
    /// as `\"` inside a quoted value.
    static func text(of value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let items): "[" + items.map(text(of:)).joined(separator: ", ") + "]"
        case .dictionary(let nested):
            "[" + nested.sorted { $0.key < $1.key }.map { "\($0.key): \(text(of: $0.value))" }.joined(separator: ", ")
                + "]"
        }
    }

    /// Keys are not quoted, so whatever would end one (space, '=', '"') becomes '_'.
    static func logfmtKey(_ key: String) -> String {
        if key.isEmpty { return "_" }
        return escaped(String(key.map { $0 == " " || $0 == "=" || $0 == "\"" ? "_" : $0 }))
    }

    /// Quoted when the value is empty or has a space, '=', '"' or an escape in it; `\` and `"` escaped inside.
    static func logfmtValue(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || isControl($0) }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out += escape(scalar)
            }
        }
        return out + "\""
    }

    /// Control characters as visible escapes: `\n`, `\r`, `\t`, `\u{1b}`.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        return text.unicodeScalars.map(escape).joined()
    }

    private static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": "\\n"
        case "\r": "\\r"
        case "\t": "\\t"
        default: isControl(scalar) ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
            || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}
