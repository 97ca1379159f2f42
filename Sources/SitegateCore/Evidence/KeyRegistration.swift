/// What an operator registers with the backend for a signing key (`sitegate keys show`): the raw public key in
/// base64url, its key id, and a line for a keys file (docs/evidence.md, "Key ids, keys files and rotation").
public struct KeyRegistration: Sendable, Hashable {
    public enum Key: String, JSONKey {
        case publicKey = "public_key", kid, keysLine = "keys_line", comment
    }

    /// The raw 32-byte Ed25519 public key, base64url without padding (43 characters).
    public var publicKey: String
    public var keyID: String
    /// Valid from (the `from=` of the keys file line), whole seconds: when the key was made, so that the line
    /// covers every message it signed.
    public var from: UnixTime
    /// Who the key belongs to, `site/gateway`, written as a comment line above the key's line; nil when unknown.
    public var owner: String?

    public init(publicKey: [UInt8], crypto: any EvidenceCrypto, from: UnixTime, owner: String? = nil) {
        self.publicKey = Base64.url(publicKey)
        keyID = KeyID.of(publicKey: publicKey, crypto: crypto)
        self.from = UnixTime(seconds: from.nanoseconds.floorDiv(1_000_000_000))
        self.owner = owner
    }

    /// `ed25519 <public key> from=2026-12-03T08:00:00Z`, the keys file's form.
    public var keysLine: String { "ed25519 \(publicKey) from=\(Self.rfc3339(from))" }

    /// `# site/gateway` when the owner is known.
    public var comment: String? { owner.map { "# \($0)" } }

    /// The lines to paste into a keys file.
    public var keysFileText: String { (comment.map { $0 + "\n" } ?? "") + keysLine + "\n" }

    public var json: String {
        JSONObjectWriter.object(
            Key.self,
            [
                .publicKey: .string(publicKey), .kid: .string(keyID), .keysLine: .string(keysLine),
                .comment: comment.map(JSONField.string),
            ])
    }

    /// RFC 3339 in UTC, whole seconds: `2026-12-03T08:00:00Z`.
    static func rfc3339(_ time: UnixTime) -> String {
        var text = time.description  // 2026-12-03T08:00:00.000Z
        text.removeSubrange(text.index(text.endIndex, offsetBy: -5)..<text.index(before: text.endIndex))
        return text
    }
}
