/// The keys a verifier trusts, registered out of band (docs/evidence.md, "Key ids, keys files and rotation"):
/// one `ed25519 PUBLIC-KEY [from=RFC3339] [until=RFC3339]` per line, `#` comments, blank lines ignored.
public struct KeysFile: Sendable, Hashable {
    public struct Key: Sendable, Hashable {
        /// The raw 32-byte Ed25519 public key.
        public var publicKey: [UInt8]
        public var kid: String
        /// Valid for messages whose time is at or after `from` and before `until`.
        public var from: UnixTime?
        public var until: UnixTime?
        /// Where it was registered: `file:line`, or how it was learnt (an endorsed handover).
        public var origin: String

        public init(publicKey: [UInt8], kid: String, from: UnixTime? = nil, until: UnixTime? = nil, origin: String) {
            self.publicKey = publicKey
            self.kid = kid
            self.from = from
            self.until = until
            self.origin = origin
        }

        public func isValid(at time: UnixTime) -> Bool {
            if let from, time < from { return false }
            if let until, time >= until { return false }
            return true
        }

        /// `from … until …` for messages, `any time` when unbounded.
        public var validity: String {
            switch (from, until) {
            case (nil, nil): "any time"
            case (let f?, nil): "from \(f)"
            case (nil, let u?): "until \(u)"
            case (let f?, let u?): "from \(f) until \(u)"
            }
        }
    }

    public var keys: [Key]

    public init(keys: [Key]) { self.keys = keys }

    /// The keys with this id (normally one; two registrations of one key with different validity are allowed).
    public func keys(kid: String) -> [Key] { keys.filter { $0.kid == kid } }

    /// Parses the text of `file`; every problem is a diagnostic with its line and column.
    public static func parse(_ text: String, file: String, crypto: any EvidenceCrypto) throws(ConfigurationError) -> KeysFile {
        var keys: [Key] = []
        var errors: [Diagnostic] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let content = line.firstIndex(of: "#").map { line[..<$0] } ?? line[...]
            // Words with the column each starts at (1-based, in characters).
            var words: [(text: Substring, column: Int)] = []
            var column = 1
            var start: Substring.Index?
            var startColumn = 0
            for i in content.indices {
                if content[i] == " " || content[i] == "\t" {
                    if let s = start { words.append((content[s..<i], startColumn)) }
                    start = nil
                } else if start == nil {
                    start = i
                    startColumn = column
                }
                column += 1
            }
            if let s = start { words.append((content[s...], startColumn)) }
            guard let first = words.first else { continue }
            func error(_ message: String, _ column: Int) {
                errors.append(Diagnostic(.error, message, at: SourceLocation(file: file, line: index + 1, column: column)))
            }
            guard first.text == "ed25519" else {
                error("unknown key algorithm '\(first.text)': only ed25519", first.column)
                continue
            }
            guard words.count >= 2 else {
                error("missing the public key (base64url of the 32 raw bytes) after ed25519", first.column)
                continue
            }
            guard let publicKey = Base64.decode(words[1].text), publicKey.count == 32 else {
                error("'\(words[1].text)' is not a 32-byte Ed25519 public key in base64url", words[1].column)
                continue
            }
            var key = Key(
                publicKey: publicKey, kid: KeyID.of(publicKey: publicKey, crypto: crypto), origin: "\(file):\(index + 1)")
            var ok = true
            for word in words.dropFirst(2) {
                let parts = word.text.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0] == "from" || parts[0] == "until" else {
                    error("unknown word '\(word.text)': expected from=TIME or until=TIME", word.column)
                    ok = false
                    continue
                }
                guard let time = UnixTime(rfc3339: parts[1]) else {
                    error("'\(parts[1])' is not an RFC 3339 time such as 2026-12-01T00:00:00Z", word.column + parts[0].count + 1)
                    ok = false
                    continue
                }
                if parts[0] == "from" { key.from = time } else { key.until = time }
            }
            if let from = key.from, let until = key.until, until <= from {
                error("until= must be after from=", first.column)
                ok = false
            }
            if ok { keys.append(key) }
        }
        if !errors.isEmpty { throw ConfigurationError(diagnostics: errors) }
        return KeysFile(keys: keys)
    }
}
