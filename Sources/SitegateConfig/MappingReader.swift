import SitegateCore

/// Reads the keys of one YAML mapping, reporting missing, mistyped, duplicate and unknown keys to a sink.
struct MappingReader {
    let node: YAMLNode
    let context: String
    private let sink: DiagnosticSink
    private var entries: [String: (key: YAMLNode, value: YAMLNode)] = [:]
    private var order: [String] = []

    /// Nil (with an error reported) when `node` is not a mapping.
    init?(_ node: YAMLNode, context: String, sink: DiagnosticSink) {
        guard case .mapping(let pairs, _) = node else {
            sink.error("\(context) must be a mapping of keys to values, found \(node.kindName)", at: node)
            return nil
        }
        self.node = node
        self.context = context
        self.sink = sink
        for (key, value) in pairs {
            guard let name = key.scalarText else {
                sink.error("keys must be plain words, found \(key.kindName)", at: key)
                continue
            }
            if entries[name] != nil {
                sink.error("duplicate key '\(name)' in \(context)", at: key)
                continue
            }
            entries[name] = (key, value)
            order.append(name)
        }
    }

    /// Reports every key not in `allowed`, with a suggestion when one is close.
    func rejectUnknownKeys(allowed: [String]) {
        for name in order where !allowed.contains(name) {
            var message = "unknown key '\(name)' in \(context)"
            if let hint = suggestion(for: name, among: allowed) {
                message += "; did you mean '\(hint)'?"
            } else {
                message += " (allowed: \(allowed.joined(separator: ", ")))"
            }
            sink.error(message, at: entries[name]!.key)
        }
    }

    func has(_ key: String) -> Bool { entries[key] != nil }

    func keyNode(_ key: String) -> YAMLNode? { entries[key]?.key }

    /// The value, or nil when absent or null. With `required`, absence is an error.
    func value(_ key: String, required: Bool = false) -> YAMLNode? {
        if let value = entries[key]?.value, !value.isNull { return value }
        if required {
            if let k = entries[key]?.key {
                sink.error("'\(key)' in \(context) must have a value", at: k)
            } else {
                sink.error("missing key '\(key)' in \(context)", at: node)
            }
        }
        return nil
    }

    /// The mapping under `key` (a section such as `mqtt:` or `metrics:`), its keys checked against `allowed`; nil
    /// when absent (an error with `required`) or not a mapping.
    func section(_ key: String, required: Bool = false, allowed: [String]) -> MappingReader? {
        guard let node = value(key, required: required), let m = MappingReader(node, context: key, sink: sink) else {
            return nil
        }
        m.rejectUnknownKeys(allowed: allowed)
        return m
    }

    func string(_ key: String, required: Bool = false) -> String? {
        guard let v = value(key, required: required) else { return nil }
        guard let s = v.scalarText else {
            sink.error("'\(key)' must be a text value, found \(v.kindName)", at: v)
            return nil
        }
        return s
    }

    /// A string that must match `isValid`; `rule` describes it in the message.
    func identifier(_ key: String, required: Bool = true, rule: String, isValid: (String) -> Bool) -> String? {
        guard let s = string(key, required: required) else { return nil }
        guard isValid(s) else {
            sink.error("'\(key)' '\(s)' is not valid: \(rule)", at: value(key)!)
            return nil
        }
        return s
    }

    func int(_ key: String, required: Bool = false, range: ClosedRange<Int>? = nil) -> Int? {
        guard let v = value(key, required: required) else { return nil }
        guard case .scalar(let text, true, _) = v, let n = Self.parseInt(text) else {
            sink.error("'\(key)' must be a whole number, found '\(v.scalarText ?? v.kindName)'", at: v)
            return nil
        }
        if let range, !range.contains(n) {
            sink.error("'\(key)' is \(n), outside \(range.lowerBound)...\(range.upperBound)", at: v)
            return nil
        }
        return n
    }

    func double(_ key: String, required: Bool = false) -> Double? {
        guard let v = value(key, required: required) else { return nil }
        guard case .scalar(let text, true, _) = v else {
            sink.error("'\(key)' must be a number, found \(v.kindName)", at: v)
            return nil
        }
        guard let d = Self.parseNumber(text) else {
            sink.error("'\(key)' must be a number, found '\(text)'", at: v)
            return nil
        }
        return d
    }

    /// A whole number (decimal or 0x hex) or a finite decimal number.
    static func parseNumber(_ text: String) -> Double? {
        if let n = parseInt(text) { return Double(n) }
        guard let d = Double(text), d.isFinite else { return nil }
        return d
    }

    func bool(_ key: String, required: Bool = false) -> Bool? {
        guard let v = value(key, required: required) else { return nil }
        switch v.scalarText {
        case "true": return true
        case "false": return false
        default:
            sink.error("'\(key)' must be true or false, found '\(v.scalarText ?? v.kindName)'", at: v)
            return nil
        }
    }

    func duration(_ key: String, required: Bool = false) -> Duration? {
        guard let v = value(key, required: required) else { return nil }
        guard let text = v.scalarText, let d = DurationNotation.parse(text) else {
            sink.error(
                "'\(key)' must be a duration such as 500ms, 10s, 15m or 1h, found '\(v.scalarText ?? v.kindName)'", at: v)
            return nil
        }
        return d
    }

    func choice<E: RawRepresentable & CaseIterable>(_ key: String, required: Bool = false, as: E.Type) -> E?
    where E.RawValue == String {
        guard let text = string(key, required: required) else { return nil }
        if let e = E(rawValue: text) { return e }
        let names = E.allCases.map(\.rawValue)
        var message = "'\(key)' must be one of \(names.joined(separator: ", ")); found '\(text)'"
        if let hint = suggestion(for: text, among: names) { message += "; did you mean '\(hint)'?" }
        sink.error(message, at: value(key)!)
        return nil
    }

    /// A list; a single scalar is not accepted in place of a list.
    func list(_ key: String, required: Bool = false) -> [YAMLNode]? {
        guard let v = value(key, required: required) else { return nil }
        guard case .sequence(let items, _) = v else {
            sink.error("'\(key)' must be a list, found \(v.kindName)", at: v)
            return nil
        }
        return items
    }

    func stringList(_ key: String, required: Bool = false) -> [String]? {
        guard let items = list(key, required: required) else { return nil }
        var out: [String] = []
        for item in items {
            guard let s = item.scalarText else {
                sink.error("entries of '\(key)' must be text values, found \(item.kindName)", at: item)
                continue
            }
            out.append(s)
        }
        return out
    }

    /// A non-negative raw value up to 64 bits, decimal or hexadecimal with 0x.
    static func parseUInt64(_ text: String) -> UInt64? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
        return text.allSatisfy({ $0.isASCII && $0.isNumber }) ? UInt64(text) : nil
    }

    /// Decimal, or hexadecimal with 0x.
    static func parseInt(_ text: String) -> Int? {
        var t = Substring(text)
        var negative = false
        if t.hasPrefix("-") {
            negative = true
            t = t.dropFirst()
        } else if t.hasPrefix("+") {
            t = t.dropFirst()
        }
        let value: Int?
        if t.hasPrefix("0x") || t.hasPrefix("0X") {
            value = Int(t.dropFirst(2), radix: 16)
        } else if !t.isEmpty, t.allSatisfy({ $0.isASCII && $0.isNumber }) {
            value = Int(t)
        } else {
            value = nil
        }
        return value.map { negative ? -$0 : $0 }
    }
}

/// The ids configs use: lowercase letters, digits and '-' (site, gateway) or also '_' (buses, devices).
enum IDRules {
    static func isSlug(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
            && s.first != "-"
    }

    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64
            && s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }
            && s.first != "-" && s.first != "_"
    }

    static func isPointID(_ s: String) -> Bool {
        guard let first = s.utf8.first, first >= 97, first <= 122, s.count <= 64 else { return false }
        return s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }
}
