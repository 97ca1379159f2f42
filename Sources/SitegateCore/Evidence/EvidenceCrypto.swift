/// The two cryptographic operations the evidence chain needs, implemented over libcrypto in `SitegateCrypto`
/// and passed in, so that sealing and verifying stay pure logic here.
public protocol EvidenceCrypto: Sendable {
    /// SHA-256 of `bytes` (32 bytes).
    func sha256(_ bytes: [UInt8]) -> [UInt8]
    /// Whether `signature` is a valid pure Ed25519 signature (RFC 8032) of `message` under the raw 32-byte key.
    func verifyEd25519(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool
}

/// A private signing key: signs the bytes of a message as it is committed.
public protocol MessageSigner: Sendable {
    /// The raw 32-byte Ed25519 public key.
    var publicKey: [UInt8] { get }
    /// A pure Ed25519 signature (64 bytes) of `message`.
    func sign(_ message: [UInt8]) -> [UInt8]
}

/// Key ids: the first 8 bytes of SHA-256 over the raw public key, as 16 lowercase hex digits (docs/evidence.md).
public enum KeyID {
    public static func of(publicKey: [UInt8], crypto: any EvidenceCrypto) -> String {
        Hex.lowercase(crypto.sha256(publicKey).prefix(8))
    }
}
