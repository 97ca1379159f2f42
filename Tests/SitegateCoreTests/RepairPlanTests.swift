@testable import SitegateCore
import Testing

/// What `audit --repair` asks for (docs/evidence.md, "Replay"): undeclared holes only, in requests the gateway's
/// limits accept.
@Suite struct RepairPlanTests {
    static func hole(_ from: Int64, _ to: Int64, _ reason: String?) -> VerifyReport.Hole {
        VerifyReport.Hole(fromSeq: from, toSeq: to, declaredReason: reason, fromTime: nil, toTime: nil)
    }

    @Test func asksOnlyForUndeclaredHolesOfItsGateway() {
        var g = VerifyReport.Gateway(gateway: "gia/v1/demo-park/gw01")
        g.holes = [Self.hole(10, 12, nil), Self.hole(20, 29, "buffer-bounds"), Self.hole(40, 40, nil)]
        var other = VerifyReport.Gateway(gateway: "gia/v1/demo-park/gw02")
        other.holes = [Self.hole(5, 6, nil)]
        let report = VerifyReport(gateways: [other, g], signaturesChecked: false, otherLines: 0)
        let plan = RepairPlan(report: report, gateway: "gia/v1/demo-park/gw01")
        #expect(plan.wanted == SeqRanges([10...12, 40...40]))
        #expect(plan.declared == SeqRanges([20...29]))
        let requests = plan.requests(id: "r")
        #expect(requests.map(\.id) == ["r-1"])
        #expect(requests.first?.ranges == plan.wanted)
        #expect(RepairPlan(report: report, gateway: "gia/v1/demo-park/gw09").requests(id: "r").isEmpty)
    }

    @Test func splitsWithinTheLimits() {
        var limits = ReplayLimits()
        limits.maxRanges = 2
        limits.maxRangeLength = 10
        limits.maxTotal = 15
        // 1...25 must be cut (longer than a range may be); its pieces go to separate requests, or they would merge.
        let plan = RepairPlan(wanted: SeqRanges([1...25, 30...30, 40...41, 50...50]), declared: SeqRanges())
        let requests = plan.requests(id: "r", limits: limits)
        var covered = SeqRanges()
        for request in requests {
            #expect(request.ranges.ranges.count <= limits.maxRanges, "\(request.ranges.text)")
            #expect(request.ranges.count <= limits.maxTotal, "\(request.ranges.text)")
            #expect(request.ranges.ranges.allSatisfy { $0.count <= Int(limits.maxRangeLength) }, "\(request.ranges.text)")
            covered = SeqRanges(covered.ranges + request.ranges.ranges)
        }
        #expect(covered == plan.wanted)
        #expect(requests.map(\.ranges.text) == ["1-10", "11-20", "21-25,30", "40-41,50"])
        #expect(Set(requests.map(\.id)).count == requests.count)
    }
}

@Suite struct SeqRangesInsertTests {
    @Test func insertMergesWhatItTouchesInAnyOrder() {
        var r = SeqRanges()
        for seq: Int64 in [5, 3, 9, 4, 12, 11, 1] { r.insert(seq...seq) }
        #expect(r.ranges == [1...1, 3...5, 9...9, 11...12])
        r.insert(6...10)
        #expect(r.ranges == [1...1, 3...12])
        r.insert(0...20)
        #expect(r.ranges == [0...20])
        r.insert(22...22)
        r.insert(21...21)
        #expect(r.ranges == [0...22] && r.contains(21) && !r.contains(23))
    }
}
