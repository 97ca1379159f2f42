/// Base64 (RFC 4648): base64url without padding for what the gateway writes into messages (hashes, signatures,
/// public keys), standard base64 with padding for the captures of `sitegate record`.
public enum Base64 {
    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// base64url without padding (RFC 4648 §5): 32 bytes give 43 characters, 64 bytes 86.
    public static func url<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        encode(Array(bytes), alphabet: urlAlphabet, pad: false)
    }

    /// base64url without padding, appended to `out`: for messages built as bytes.
    public static func appendURL(_ bytes: [UInt8], to out: inout [UInt8]) {
        append(bytes, alphabet: urlAlphabet, pad: false, to: &out)
    }

    /// Standard base64 with padding (RFC 4648 §4).
    public static func standard<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        encode(Array(bytes), alphabet: standardAlphabet, pad: true)
    }

    /// Decodes base64url exactly as the gateway writes it: the URL alphabet, no padding, no leftover bits. A
    /// signature has one spelling only (docs/evidence.md, "The byte rule").
    public static func decodeCanonicalURL<S: StringProtocol>(_ text: S) -> [UInt8]? {
        guard text.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "=") }),
            let bytes = decode(text), url(bytes) == String(text)
        else { return nil }
        return bytes
    }

    /// Decodes either alphabet, with or without padding; nil for any other character or a bad length.
    public static func decode<S: StringProtocol>(_ text: S) -> [UInt8]? {
        var values: [UInt8] = []
        values.reserveCapacity(text.utf8.count)
        var padding = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "=") { padding += 1; continue }
            guard padding == 0, let v = value(of: c) else { return nil }
            values.append(v)
        }
        if values.count % 4 == 1 || padding > 2 || (padding > 0 && (values.count + padding) % 4 != 0) { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 3 / 4)
        var index = 0
        while index + 1 < values.count {
            let chunk = values[index..<min(index + 4, values.count)]
            var bits: UInt32 = 0
            for (i, v) in chunk.enumerated() { bits |= UInt32(v) << (18 - 6 * i) }
            out.append(UInt8(truncatingIfNeeded: bits >> 16))
            if chunk.count > 2 { out.append(UInt8(truncatingIfNeeded: bits >> 8)) }
            if chunk.count > 3 { out.append(UInt8(truncatingIfNeeded: bits)) }
            index += 4
        }
        return out
    }

    private static func value(of c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): 63
        default: nil
        }
    }

    private static func encode(_ bytes: [UInt8], alphabet: [UInt8], pad: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        append(bytes, alphabet: alphabet, pad: pad, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The characters for `count` bytes: four for each three, and two or three for the last one or two bytes
    /// (then `=` up to four when padded).
    static func encodedLength(_ count: Int, pad: Bool) -> Int {
        let rest = count % 3
        return count / 3 * 4 + (rest == 0 ? 0 : pad ? 4 : rest + 1)
    }

    /// Written into a temporary buffer and appended in one piece: a character at a time, each `append` checking the
    /// array's capacity, this was 2,000 instructions for a 32-byte hash, once per message committed.
    private static func append(_ bytes: [UInt8], alphabet: [UInt8], pad: Bool, to out: inout [UInt8]) {
        let length = encodedLength(bytes.count, pad: pad)
        guard length > 0 else { return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { encoded in
            alphabet.withUnsafeBufferPointer { alphabet in
                bytes.withUnsafeBufferPointer { bytes in
                    var written = 0
                    func put(_ sextet: UInt32) {
                        encoded.initializeElement(at: written, to: alphabet[Int(sextet & 63)])
                        written += 1
                    }
                    var index = 0
                    while index < bytes.count {
                        let n = min(3, bytes.count - index)
                        var bits: UInt32 = 0
                        for i in 0..<n { bits |= UInt32(bytes[index + i]) << (16 - 8 * i) }
                        for i in 0..<(n + 1) { put(bits >> (18 - 6 * i)) }
                        index += 3
                    }
                    while written < length {
                        encoded.initializeElement(at: written, to: UInt8(ascii: "="))
                        written += 1
                    }
                }
            }
            out.append(contentsOf: encoded)
        }
    }
}
