/// Hexadecimal as the tools show it to people: one spelling everywhere (logs, diagnostics, CLI tables, payloads).
public enum Hex {
    /// `value` in at least `digits` digits, zero-padded, without a prefix.
    public static func padded<T: BinaryInteger>(_ value: T, digits: Int, uppercase: Bool = true) -> String {
        let d = String(value, radix: 16, uppercase: uppercase)
        return String(repeating: "0", count: max(0, digits - d.count)) + d
    }

    /// A register word: `00FF`.
    public static func word(_ w: UInt16, uppercase: Bool = true) -> String { padded(w, digits: 4, uppercase: uppercase) }

    /// A wire address: `0x0048`.
    public static func address(_ n: Int) -> String { "0x" + padded(n, digits: 4) }

    /// A range of wire addresses: `0x0048-0x004B`, or `0x0048` for one.
    public static func addressRange(_ r: Range<Int>) -> String {
        r.count == 1 ? address(r.lowerBound) : "\(address(r.lowerBound))-\(address(r.upperBound - 1))"
    }

    /// Bytes as lowercase hex, two digits each: key ids, hashes in tables.
    public static func lowercase<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out = ""
        for byte in bytes { out += padded(byte, digits: 2, uppercase: false) }
        return out
    }
}
