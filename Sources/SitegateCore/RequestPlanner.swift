/// One Modbus read transaction and the points it carries.
public struct ReadRequest: Sendable, Hashable {
    public var function: RegisterFunction
    public var address: Int
    public var count: Int
    public var points: [PointDefinition]

    public init(function: RegisterFunction, address: Int, count: Int, points: [PointDefinition]) {
        self.function = function
        self.address = address
        self.count = count
        self.points = points
    }

    public var endAddress: Int { address + count }
}

/// Turns the points due at a tick into the fewest read transactions the device accepts.
public struct RequestPlanner: Sendable, Hashable {
    public var maxRegisters: Int
    public var evenPairs: Bool
    /// Largest gap of unwanted registers read through to save a transaction.
    public var maxHole: Int
    /// Address ranges (per table) the device refused inside a merged read; plans never span them.
    public var holes: [RegisterFunction: [Range<Int>]]

    public init(maxRegisters: Int, evenPairs: Bool, maxHole: Int = 16, holes: [RegisterFunction: [Range<Int>]] = [:]) {
        self.maxRegisters = max(1, maxRegisters)
        self.evenPairs = evenPairs
        self.maxHole = maxHole
        self.holes = holes
    }

    public init(defaults: ProtocolDefaults, maxHole: Int = 16, holes: [RegisterFunction: [Range<Int>]] = [:]) {
        self.init(maxRegisters: defaults.maxRegisters, evenPairs: defaults.evenPairs, maxHole: maxHole, holes: holes)
    }

    public func plan(_ points: [PointDefinition]) -> [ReadRequest] {
        var requests: [ReadRequest] = []
        let byFunction = Dictionary(grouping: points, by: \.function)
        for function in byFunction.keys.sorted() {
            let sorted = byFunction[function]!.sorted { ($0.address, $0.length) < ($1.address, $1.length) }
            var current: ReadRequest? = nil
            for point in sorted {
                let start = alignedStart(point.address)
                let end = alignedEnd(point.endAddress)
                if var open = current {
                    let mergedEnd = max(open.endAddress, end)
                    let gap = start - open.endAddress
                    if gap <= maxHole, mergedEnd - open.address <= maxRegisters,
                        !crossesHole(open.address..<mergedEnd, function: function)
                    {
                        open.count = mergedEnd - open.address
                        open.points.append(point)
                        current = open
                        continue
                    }
                    requests.append(open)
                }
                current = ReadRequest(function: function, address: start, count: end - start, points: [point])
            }
            if let open = current { requests.append(open) }
        }
        return requests
    }

    private func alignedStart(_ address: Int) -> Int {
        evenPairs ? address & ~1 : address
    }

    private func alignedEnd(_ end: Int) -> Int {
        evenPairs ? (end + 1) & ~1 : end
    }

    private func crossesHole(_ range: Range<Int>, function: RegisterFunction) -> Bool {
        (holes[function] ?? []).contains { $0.overlaps(range) }
    }
}
