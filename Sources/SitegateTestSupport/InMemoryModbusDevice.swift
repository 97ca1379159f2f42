import SitegateCore
import SitegateModbus

/// A Modbus device in memory, for tests of what reads registers (`DeviceReader`), as swift-nio's `EmbeddedChannel`
/// stands in for a socket: registers are served from a dictionary, a register that is not there is refused with
/// exception 2 ("illegal data address") as a meter refuses it, faults are injected per address range or per
/// request, and time advances a fixed step per transaction. No thread, no socket: every read is synchronous.
public final class InMemoryModbusDevice: RegisterSource {
    /// One read as the device saw it.
    public struct Request: Sendable, Hashable, CustomStringConvertible {
        public var unit: Int
        public var function: RegisterFunction
        public var address: Int
        public var count: Int
        public var minDelay: Duration
        public var addresses: Range<Int> { address..<(address + count) }
        public var description: String { "\(function.rawValue) \(address)+\(count)" }
    }

    private enum Fault {
        case addresses(Range<Int>, ModbusError)
        case request(Int, ModbusError)
    }

    public let bus: BusConfig
    /// The unit id that answers; any other stays silent (a timeout), as on an RS-485 line.
    public var unit: Int
    /// Register (or bit, 0/1) values per function and address.
    public var registers: [RegisterFunction: [Int: UInt16]] = [:]
    /// Every read so far, in order.
    public private(set) var requests: [Request] = []
    /// The device's clock: the `sentAt` of the next request.
    public var now: UnixTime
    /// How far `now` moves per transaction.
    public var transactionTime: Duration
    private var faults: [Fault] = []

    public init(
        unit: Int, bus: BusConfig = BusConfig(id: "memory", transport: .tcp(host: "127.0.0.1", port: 502)),
        now: UnixTime = UnixTime(seconds: 1_800_000_000), transactionTime: Duration = .milliseconds(20)
    ) {
        self.unit = unit
        self.bus = bus
        self.now = now
        self.transactionTime = transactionTime
    }

    /// Serves `value` at `point`'s registers, encoded as the map says (what a meter would hold).
    public func serve(_ value: Double, as point: PointDefinition) {
        store(RegisterEncoder.encode(value, as: point), at: point)
    }

    /// Serves `text` at a string point's registers.
    public func serve(text: String, as point: PointDefinition) {
        store(RegisterEncoder.encodeString(text, length: point.length), at: point)
    }

    /// Serves `words` from `address` on.
    public func store(_ words: [UInt16], function: RegisterFunction, at address: Int) {
        for (i, word) in words.enumerated() { registers[function, default: [:]][address + i] = word }
    }

    private func store(_ words: [UInt16], at point: PointDefinition) {
        store(words, function: point.function, at: point.address)
    }

    /// Any read that touches `addresses` fails with `error` (a hole a meter refuses, a register that times out).
    public func fail(_ addresses: Range<Int>, with error: ModbusError) {
        faults.append(.addresses(addresses, error))
    }

    /// Read number `request` (1-based, counted over the device's life) fails with `error`.
    public func fail(request: Int, with error: ModbusError) {
        faults.append(.request(request, error))
    }

    public func read(unit: Int, function: RegisterFunction, address: Int, count: Int, minDelay: Duration)
        throws(ModbusError) -> (registers: [UInt16], sentAt: UnixTime)
    {
        let request = Request(unit: unit, function: function, address: address, count: count, minDelay: minDelay)
        requests.append(request)
        let sentAt = now
        now = now + transactionTime
        guard unit == self.unit else { throw .timeout }
        for fault in faults {
            switch fault {
            case .request(let n, let error) where n == requests.count: throw error
            case .addresses(let range, let error) where range.overlaps(request.addresses): throw error
            default: continue
            }
        }
        let table = registers[function] ?? [:]
        var words: [UInt16] = []
        words.reserveCapacity(count)
        for a in request.addresses {
            guard let word = table[a] else { throw .exception(.illegalDataAddress) }
            words.append(word)
        }
        return (words, sentAt)
    }
}
