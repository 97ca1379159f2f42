import SitegateCore
import Testing

@Suite struct RequestPlannerTests {
    func f32(_ id: String, _ address: Int, _ function: RegisterFunction = .input) -> PointDefinition {
        PointDefinition(id: id, address: address, function: function, type: .f32, unit: "V", kind: .gauge)
    }

    func u16(_ id: String, _ address: Int) -> PointDefinition {
        PointDefinition(id: id, address: address, function: .holding, type: .u16, unit: "V", kind: .gauge)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var planner: RequestPlanner
        var addresses: [Int]
        var expected: [(Int, Int)]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "adjacent merge", planner: .init(maxRegisters: 60, evenPairs: true), addresses: [0, 2, 4],
             expected: [(0, 6)]),
        Case(name: "small hole is read through", planner: .init(maxRegisters: 60, evenPairs: true, maxHole: 16),
             addresses: [0, 12], expected: [(0, 14)]),
        Case(name: "large hole splits", planner: .init(maxRegisters: 125, evenPairs: false, maxHole: 4),
             addresses: [0, 0x34], expected: [(0, 2), (0x34, 2)]),
        Case(name: "max registers splits", planner: .init(maxRegisters: 4, evenPairs: false, maxHole: 16),
             addresses: [0, 2, 4], expected: [(0, 4), (4, 2)]),
        Case(name: "known hole is avoided", planner: .init(maxRegisters: 60, evenPairs: false, maxHole: 16, holes: [.input: [4..<6]]),
             addresses: [0, 2, 6], expected: [(0, 4), (6, 2)]),
    ]

    @Test(arguments: cases)
    func plans(c: Case) {
        let points = c.addresses.enumerated().map { f32("p\($0.offset)", $0.element) }
        let plan = c.planner.plan(points)
        #expect(plan.map { [$0.address, $0.count] } == c.expected.map { [$0.0, $0.1] })
        #expect(plan.flatMap(\.points).count == points.count)
    }

    @Test func evenPairsAlignOddSingleRegisters() {
        let plan = RequestPlanner(maxRegisters: 60, evenPairs: true, maxHole: 0).plan([u16("a", 5)])
        #expect(plan.map { [$0.address, $0.count] } == [[4, 2]])
    }

    @Test func functionsNeverMerge() {
        let plan = RequestPlanner(maxRegisters: 60, evenPairs: false).plan([f32("a", 0, .input), f32("b", 2, .holding)])
        #expect(plan.count == 2)
    }

    /// The shipped SDM630 default points (0x0000-0x0010, 0x0034, 0x0046-0x004E) in 60-register reads: 15 points,
    /// two transactions (0x0000+18 and 0x0034+28, reading the 16-register hole before frequency).
    @Test func sdm630DefaultPointsNeedTwoTransactions() {
        let addresses = [0, 2, 4, 6, 8, 10, 12, 14, 16, 0x34, 0x46, 0x48, 0x4A, 0x4C, 0x4E]
        let points = addresses.enumerated().map { f32("p\($0.offset)", $0.element) }
        let plan = RequestPlanner(maxRegisters: 60, evenPairs: true, maxHole: 16).plan(points)
        #expect(plan.count == 2)
        #expect(plan.allSatisfy { $0.count <= 60 && $0.count % 2 == 0 && $0.address % 2 == 0 })
    }
}
