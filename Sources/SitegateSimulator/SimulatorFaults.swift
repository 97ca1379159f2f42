import SitegateCore

/// Faults the simulator injects on request, to test how the agent copes with real-world meters and lines.
public struct SimulatorFaults: Sendable, Hashable {
    /// Wait this long before answering (a slow meter).
    public var responseDelay: Duration = .zero
    /// Unit ids that never answer (a dead meter: the client times out).
    public var silentUnits: Set<Int> = []
    /// Reads touching these register ranges get this exception code (a meter with holes in its map).
    public var exceptions: [ExceptionRule] = []
    /// Every Nth request gets no answer (0: off).
    public var dropEvery = 0
    /// Every Nth request gets a few random bytes instead of an answer (0: off).
    public var garbageEvery = 0

    public struct ExceptionRule: Sendable, Hashable {
        public var addresses: ClosedRange<Int>
        public var code: UInt8
        public init(addresses: ClosedRange<Int>, code: UInt8) {
            self.addresses = addresses
            self.code = code
        }

        /// Parses `0x0040-0x0045:2` or `100:2` (a single address).
        public init?(_ text: String) {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let code = UInt8(parts[1]), (1...11).contains(code) else { return nil }
            let bounds = parts[0].split(separator: "-").map { Self.parseAddress(String($0)) }
            guard (1...2).contains(bounds.count), let low = bounds.first!, let high = bounds.last!, low <= high else {
                return nil
            }
            self.init(addresses: low...high, code: code)
        }

        static func parseAddress(_ s: String) -> Int? {
            let value = s.hasPrefix("0x") ? Int(s.dropFirst(2), radix: 16) : Int(s)
            return value.flatMap { (0...65535).contains($0) ? $0 : nil }
        }
    }

    public init() {}

    public enum Action: Sendable, Equatable {
        case answer
        case exception(UInt8)
        case silence
        case garbage
    }

    /// What to do with request number `count` (1-based) for `unit` reading `addresses`.
    public func action(count: Int, unit: Int, addresses: Range<Int>?) -> Action {
        if silentUnits.contains(unit) { return .silence }
        if dropEvery > 0 && count % dropEvery == 0 { return .silence }
        if garbageEvery > 0 && count % garbageEvery == 0 { return .garbage }
        if let addresses, let rule = exceptions.first(where: { $0.addresses.overlaps(addresses) }) {
            return .exception(rule.code)
        }
        return .answer
    }
}
