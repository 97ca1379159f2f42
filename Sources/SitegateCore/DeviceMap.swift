/// Which Modbus table a point lives in.
public enum RegisterFunction: String, Sendable, Hashable, CaseIterable, Comparable {
    case coil  // FC01
    case discrete  // FC02
    case holding  // FC03
    case input  // FC04

    public var functionCode: UInt8 {
        switch self {
        case .coil: 1
        case .discrete: 2
        case .holding: 3
        case .input: 4
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.functionCode < b.functionCode }
}

/// Order of the four bytes A B C D of a 32-bit value as they come off the wire, A being the most significant.
/// ABCD: most significant register first; CDAB: least significant register first ("word swapped");
/// BADC: bytes swapped inside each register; DCBA: fully little endian. 64-bit values extend the same pattern.
public enum WordOrder: String, Sendable, Hashable, CaseIterable {
    case abcd = "ABCD"
    case cdab = "CDAB"
    case badc = "BADC"
    case dcba = "DCBA"
}

public enum ValueType: String, Sendable, Hashable, CaseIterable {
    case u16, i16, u32, i32, u64, i64, f32, f64, string, bits

    /// Registers occupied; `string` takes its length from the point.
    public var fixedWidth: Int? {
        switch self {
        case .u16, .i16, .bits: 1
        case .u32, .i32, .f32: 2
        case .u64, .i64, .f64: 4
        case .string: nil
        }
    }

    public var isNumeric: Bool { self != .string && self != .bits }
}

/// counter: a cumulative totalizer that only grows (energy, volume). gauge: an instantaneous value. state: a status.
public enum PointKind: String, Sendable, Hashable, CaseIterable {
    case counter, gauge, state
}

public enum Medium: String, Sendable, Hashable, CaseIterable {
    case electricity, heat, water, gas, other
}

/// How the vendor's manual numbers registers. The map always stores wire addresses; this says how to read the
/// vendor's numbers given alongside them.
public enum VendorNumbering: String, Sendable, Hashable, CaseIterable {
    case wire  // the manual gives wire (PDU) addresses
    case modicon  // 30001 / 40001 based
    case modicon6 = "modicon6"  // 300001 / 400001 based
    case oneBased = "one-based"  // the manual's number is the wire address + 1

    /// The wire address for a vendor number, or nil when the number does not fit this scheme.
    public func wireAddress(forVendorNumber n: Int, function: RegisterFunction) -> Int? {
        switch self {
        case .wire: return n
        case .oneBased: return n - 1
        case .modicon: return Modicon.wireAddress(n, function: function, digits: 5)
        case .modicon6: return Modicon.wireAddress(n, function: function, digits: 6)
        }
    }
}

/// A raw value that a meter uses to mean "no value".
public enum InvalidSentinel: Sendable, Hashable {
    case nan
    case raw(UInt64)
}

public struct PointDefinition: Sendable, Hashable {
    public var id: String
    public var address: Int
    public var vendorRegister: Int?
    public var function: RegisterFunction
    public var type: ValueType
    public var length: Int  // registers
    public var wordOrder: WordOrder
    public var scale: Double
    public var offset: Double
    public var scaleRegister: Int?
    public var unit: String?
    public var kind: PointKind
    public var invalid: [InvalidSentinel]
    public var obis: String?
    public var description: String
    public var readByDefault: Bool
    public var verified: Bool
    /// Values outside this range (after scale and offset, in `unit`) cannot be right: `sitegate read` warns.
    public var plausibleRange: ClosedRange<Double>?

    public init(
        id: String, address: Int, vendorRegister: Int? = nil, function: RegisterFunction, type: ValueType,
        length: Int? = nil, wordOrder: WordOrder = .abcd, scale: Double = 1, offset: Double = 0,
        scaleRegister: Int? = nil, unit: String?, kind: PointKind, invalid: [InvalidSentinel] = [],
        obis: String? = nil, description: String = "", readByDefault: Bool = true, verified: Bool = true,
        plausibleRange: ClosedRange<Double>? = nil
    ) {
        self.id = id
        self.address = address
        self.vendorRegister = vendorRegister
        self.function = function
        self.type = type
        self.length = length ?? type.fixedWidth ?? 1
        self.wordOrder = wordOrder
        self.scale = scale
        self.offset = offset
        self.scaleRegister = scaleRegister
        self.unit = unit
        self.kind = kind
        self.invalid = invalid
        self.obis = obis
        self.description = description
        self.readByDefault = readByDefault
        self.verified = verified
        self.plausibleRange = plausibleRange
    }

    /// One past the last register this point occupies.
    public var endAddress: Int { address + length }
}

public struct ProtocolDefaults: Sendable, Hashable {
    public var function: RegisterFunction
    public var wordOrder: WordOrder
    public var vendorNumbering: VendorNumbering
    public var maxRegisters: Int
    public var evenPairs: Bool
    public var minDelay: Duration

    public init(
        function: RegisterFunction = .holding, wordOrder: WordOrder = .abcd, vendorNumbering: VendorNumbering = .wire,
        maxRegisters: Int = 125, evenPairs: Bool = false, minDelay: Duration = .zero
    ) {
        self.function = function
        self.wordOrder = wordOrder
        self.vendorNumbering = vendorNumbering
        self.maxRegisters = maxRegisters
        self.evenPairs = evenPairs
        self.minDelay = minDelay
    }
}

public struct MapSource: Sendable, Hashable {
    public var title: String
    public var version: String?
    public var url: String?
    public var pages: String?

    public init(title: String, version: String? = nil, url: String? = nil, pages: String? = nil) {
        self.title = title
        self.version = version
        self.url = url
        self.pages = pages
    }
}

/// One meter model's registers: what to read and how to decode it.
public struct DeviceMap: Sendable, Hashable {
    public var id: String
    public var manufacturer: String
    public var models: [String]
    public var medium: Medium
    public var version: Int
    public var sources: [MapSource]
    public var defaults: ProtocolDefaults
    public var points: [PointDefinition]
    /// The file it was loaded from, for messages.
    public var path: String

    public init(
        id: String, manufacturer: String, models: [String], medium: Medium, version: Int, sources: [MapSource],
        defaults: ProtocolDefaults, points: [PointDefinition], path: String = ""
    ) {
        self.id = id
        self.manufacturer = manufacturer
        self.models = models
        self.medium = medium
        self.version = version
        self.sources = sources
        self.defaults = defaults
        self.points = points
        self.path = path
    }

    public func point(_ id: String) -> PointDefinition? {
        points.first { $0.id == id }
    }
}
