/// FNV-1a, 64 bits: a short, stable fingerprint of a config or map file for status and meta messages (not a
/// security measure).
public enum FNV1a {
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// `fnv1a64:` and 16 hex digits.
    public static func fingerprint(_ text: String) -> String {
        "fnv1a64:" + Hex.padded(hash(text.utf8), digits: 16, uppercase: false)
    }
}
