/// What a point's registers decode to.
public enum DecodedValue: Sendable, Hashable {
    case number(Double)
    case text(String)
    /// The registers matched one of the map's invalid sentinels (or are NaN/infinite): no value.
    case invalid
}

/// Turns raw register words into values. Pure; the same code serves the agent, `sitegate raw` and tests.
public enum RegisterDecoder {
    /// Reassembles `registers` (in wire order) into one big-endian integer of 16 × count bits, A being the most
    /// significant byte, according to `order`.
    /// Concrete (not generic) so that callers in other modules get a specialised, allocation-free loop.
    public static func assemble(_ registers: ArraySlice<UInt16>, order: WordOrder) -> UInt64 {
        var bits: UInt64 = 0
        switch order {
        case .abcd: for w in registers { bits = bits << 16 | UInt64(w) }
        case .cdab: for w in registers.reversed() { bits = bits << 16 | UInt64(w) }
        case .badc: for w in registers { bits = bits << 16 | UInt64(w.byteSwapped) }
        case .dcba: for w in registers.reversed() { bits = bits << 16 | UInt64(w.byteSwapped) }
        }
        return bits
    }

    public static func assemble(_ registers: [UInt16], order: WordOrder) -> UInt64 {
        assemble(registers[...], order: order)
    }

    /// The raw integer before scaling, or nil for strings.
    public static func rawBits(_ registers: ArraySlice<UInt16>, type: ValueType, order: WordOrder) -> UInt64? {
        guard type != .string else { return nil }
        return assemble(registers, order: order)
    }

    /// Decodes one point. `registers` must hold exactly `point.length` words.
    /// `scaleFactor` is the SunSpec power of ten read from the point's scale register, if it has one.
    public static func decode(_ registers: [UInt16], as point: PointDefinition, scaleFactor: Int = 0) -> DecodedValue {
        decode(registers[...], as: point, scaleFactor: scaleFactor)
    }

    public static func decode(_ registers: ArraySlice<UInt16>, as point: PointDefinition, scaleFactor: Int = 0)
        -> DecodedValue
    {
        precondition(registers.count == point.length, "point \(point.id) needs \(point.length) registers")
        return decode(
            registers, type: point.type, order: point.wordOrder, invalid: point.invalid, scale: point.scale,
            offset: point.offset, scaleFactor: scaleFactor)
    }

    /// Decodes one point given as its fields: what the Modbus reader calls for every reading, its points read in
    /// place. Given the whole `PointDefinition`, each call copied it (five reference-counted members).
    @inlinable
    public static func decode(
        _ registers: ArraySlice<UInt16>, type: ValueType, order: WordOrder, invalid: [InvalidSentinel], scale: Double,
        offset: Double, scaleFactor: Int
    ) -> DecodedValue {
        if type == .string {
            return .text(decodeString(registers))
        }
        let bits = assemble(registers, order: order)
        for sentinel in invalid {
            if case .raw(let value) = sentinel, value == bits { return .invalid }
        }
        guard let raw = number(bits: bits, type: type) else { return .invalid }
        if raw.isNaN || raw.isInfinite { return .invalid }
        var value = raw * scale
        if scaleFactor != 0 { value *= power10(scaleFactor) }
        value += offset
        // A scale that overflows is no value, not an infinity in a payload.
        return value.isFinite ? .number(value) : .invalid
    }

    /// The numeric value of `bits` read as `type`, before scaling.
    public static func number(bits: UInt64, type: ValueType) -> Double? {
        switch type {
        case .u16, .bits: return Double(UInt16(truncatingIfNeeded: bits))
        case .i16: return Double(Int16(bitPattern: UInt16(truncatingIfNeeded: bits)))
        case .u32: return Double(UInt32(truncatingIfNeeded: bits))
        case .i32: return Double(Int32(bitPattern: UInt32(truncatingIfNeeded: bits)))
        case .u64: return Double(bits)
        case .i64: return Double(Int64(bitPattern: bits))
        case .f32: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
        case .f64: return Double(bitPattern: bits)
        case .string: return nil
        }
    }

    /// ASCII, two characters per register, high byte first; stops at the first NUL and trims spaces.
    public static func decodeString(_ registers: ArraySlice<UInt16>) -> String {
        var bytes: [UInt8] = []
        for word in registers {
            bytes.append(UInt8(word >> 8))
            bytes.append(UInt8(word & 0xFF))
        }
        if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
        let scalars = bytes.map { (0x20...0x7E).contains($0) ? Character(Unicode.Scalar($0)) : "?" }
        return String(scalars).trimmingSpaces()
    }

    @usableFromInline
    static func power10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
