/// JSON text written straight into bytes: what the payload encoders use on the hot path (one SenML pack per poll),
/// without intermediate Strings, interpolation or joins. The spelling rules live once, in `ByteWriter`; the `Array`
/// methods below and `JSONText` (the same text as Strings) are built on it, so every writer spells every value the
/// same way (the byte rule of docs/evidence.md depends on it).
///
/// `ByteWriter` writes into a buffer sized up front from an upper bound (`[UInt8](writingAtMost:)`): one allocation
/// and no capacity checks on a growing Array for each member. Each `max…` below bounds what one write can take.
struct ByteWriter {
    private var cursor: UnsafeMutablePointer<UInt8>
    private let end: UnsafeMutablePointer<UInt8>
    private let start: UnsafeMutablePointer<UInt8>

    /// Writes into `buffer`, which must outlive the writer (the closure that handed the buffer out).
    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        start = buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: 1)!
        cursor = start
        end = start + buffer.count
    }

    /// How many bytes have been written.
    var count: Int { cursor - start }

    /// The room for `n` more bytes, which the caller then fills. A bound computed too small is a bug: it traps rather
    /// than writes past the buffer.
    @inline(__always)
    private mutating func claim(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        precondition(n <= end - cursor, "ByteWriter: the buffer's bound was too small")
        defer { cursor += n }
        return cursor
    }

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        claim(1).initialize(to: byte)
    }

    /// A literal's bytes (ASCII in practice).
    @inline(__always)
    mutating func write(_ literal: StaticString) {
        write(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    @inline(__always)
    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        claim(bytes.count).initialize(from: source, count: bytes.count)
    }

    /// A string's UTF-8 as it is: for text that needs no escaping (enum raw values, numbers). At most
    /// `text.utf8.count` bytes.
    mutating func write(utf8 text: String) {
        Self.withUTF8(of: text) { write($0) }
    }

    /// `text`'s UTF-8 in place: without the copy that `String.withUTF8` on a `var` makes, unless the string is not
    /// stored as UTF-8.
    @inline(__always)
    private static func withUTF8(of text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if text.utf8.withContiguousStorageIfAvailable(body) == nil {
            var text = text
            text.withUTF8(body)
        }
    }

    /// At most this many bytes for `writeJSONString(text)`: every byte may become `\u00XX`, plus the quotes.
    static func maxJSONString(_ text: String) -> Int { 6 * text.utf8.count + 2 }

    /// `text` as a JSON string, quotes included.
    mutating func writeJSONString(_ text: String) {
        write(UInt8(ascii: "\""))
        writeJSONStringContent(text)
        write(UInt8(ascii: "\""))
    }

    /// `text` escaped for the inside of a JSON string: `"`, `\` and control characters; everything else (non-ASCII
    /// included) as its UTF-8 bytes. Ids, units and times need no escaping: the bytes up to the first one that does
    /// are found first and copied in one piece (byte by byte, each with its bound check, this was 4 % of the
    /// agent's instructions).
    mutating func writeJSONStringContent(_ text: String) {
        Self.withUTF8(of: text) { utf8 in
            var plain = 0
            while plain < utf8.count && Self.needsNoEscape(utf8[plain]) { plain += 1 }
            write(UnsafeBufferPointer(rebasing: utf8[..<plain]))
            for byte in utf8[plain...] {
                if Self.needsNoEscape(byte) {
                    write(byte)
                    continue
                }
                switch byte {
                case 0x22: write("\\\"")
                case 0x5C: write("\\\\")
                case 0x0A: write("\\n")
                case 0x0D: write("\\r")
                case 0x09: write("\\t")
                default:
                    write("\\u00")
                    write(Self.lowerHexDigit(byte >> 4))
                    write(Self.lowerHexDigit(byte & 0x0F))
                }
            }
        }
    }

    @inline(__always)
    private static func needsNoEscape(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte != 0x22 && byte != 0x5C
    }

    @inline(__always)
    private static func lowerHexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// At most this many bytes for `writeDecimal`: `-9223372036854775808`.
    static let maxDecimal = 20

    /// An integer in decimal.
    mutating func writeDecimal(_ value: Int64) {
        if value < 0 { write(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        // Filled from the last digit back.
        var digit = claim(digits) + digits
        repeat {
            digit -= 1
            digit.initialize(to: UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
    }

    /// At most this many bytes for `writeJSONNumber`: a Double's description is at most 24
    /// (`-2.2250738585072014e-308`).
    static let maxJSONNumber = 32

    /// A finite number in its shortest round-tripping form: integral values without a trailing ".0"; a value that
    /// is exactly a Float (a float32 register) in the Float's shortest form (the meter's 230.2 stays 230.2, not
    /// 230.1999969482422). Non-finite values have no JSON form.
    mutating func writeJSONNumber(_ value: Double) {
        precondition(value.isFinite, "JSON has no non-finite numbers")
        // Integral: the conversion to Int64 is exact below 1e15 (and cheaper than `rounded()`, a libm call).
        if abs(value) < 1e15, Double(Int64(value)) == value {
            writeDecimal(Int64(value))
            return
        }
        // The standard library's shortest digits are the reference; `description` of a small String allocates
        // nothing, and its UTF-8 is copied straight from it.
        let float = Float(value)
        if float.isFinite, Double(float) == value {
            write(utf8: float.description)
        } else {
            write(utf8: value.description)
        }
    }

    /// At most this many bytes for `writeSeconds`: a decimal, a point and three digits.
    static let maxSeconds = maxDecimal + 4

    /// Unix seconds with millisecond resolution, as SenML times are written here: `1767226500`, `1767226500.4`,
    /// `0.12`.
    mutating func writeSeconds(milliseconds ms: Int64) {
        let whole = ms.floorDiv(1000)
        let fraction = Int(ms - whole * 1000)
        writeDecimal(whole)
        guard fraction != 0 else { return }
        // Three digits, zero-padded, without trailing zeros: 400 is "4", 120 "12", 5 "005".
        write(UInt8(ascii: "."))
        write(Self.digit(fraction / 100))
        guard fraction % 100 != 0 else { return }
        write(Self.digit(fraction / 10 % 10))
        guard fraction % 10 != 0 else { return }
        write(Self.digit(fraction % 10))
    }

    @inline(__always)
    private static func digit(_ value: Int) -> UInt8 {
        UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value)
    }
}

extension Array where Element == UInt8 {
    /// The bytes `write` writes, into one buffer of `bound` bytes (which `write` must not exceed: it traps).
    init(writingAtMost bound: Int, _ write: (inout ByteWriter) -> Void) {
        self.init(unsafeUninitializedCapacity: bound) { buffer, initializedCount in
            var writer = ByteWriter(buffer)
            write(&writer)
            initializedCount = writer.count
        }
    }

    /// Appends what `write` writes, at most `bound` bytes, through a temporary buffer: for the writers below, which
    /// are off the per-poll path.
    mutating func appendWriting(atMost bound: Int, _ write: (inout ByteWriter) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bound) { buffer in
            var writer = ByteWriter(buffer)
            write(&writer)
            append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<writer.count]))
        }
    }

    /// Appends a literal's bytes (ASCII in practice).
    @inlinable
    public mutating func appendLiteral(_ literal: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Appends a string's UTF-8 as it is: for text that needs no escaping (enum raw values, numbers, base64).
    @inlinable
    public mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }

    /// Appends `text` as a JSON string, quotes included.
    public mutating func appendJSONString(_ text: String) {
        appendWriting(atMost: ByteWriter.maxJSONString(text)) { $0.writeJSONString(text) }
    }

    /// Appends `text` escaped for the inside of a JSON string: `"`, `\` and control characters; everything else
    /// (non-ASCII included) as its UTF-8 bytes.
    public mutating func appendJSONStringContent(_ text: String) {
        appendWriting(atMost: ByteWriter.maxJSONString(text)) { $0.writeJSONStringContent(text) }
    }

    /// Appends an integer in decimal.
    public mutating func appendDecimal(_ value: Int64) {
        appendWriting(atMost: ByteWriter.maxDecimal) { $0.writeDecimal(value) }
    }

    /// Appends a finite number in its shortest round-tripping form (`ByteWriter.writeJSONNumber`).
    public mutating func appendJSONNumber(_ value: Double) {
        appendWriting(atMost: ByteWriter.maxJSONNumber) { $0.writeJSONNumber(value) }
    }

    /// Appends Unix seconds with millisecond resolution (`ByteWriter.writeSeconds`).
    public mutating func appendSeconds(milliseconds ms: Int64) {
        appendWriting(atMost: ByteWriter.maxSeconds) { $0.writeSeconds(milliseconds: ms) }
    }
}
