import SitegateCore
import Testing

/// `sitegate scan`'s model scoring and unit id policy, without a bus.
@Suite struct ScanScoringTests {
    static func map(_ id: String, _ points: [(String, Int, String)]) -> DeviceMap {
        DeviceMap(
            id: id, manufacturer: "Test", models: [id], medium: .electricity, version: 1, sources: [],
            defaults: ProtocolDefaults(function: .input),
            points: points.map { PointDefinition(id: $0.0, address: $0.1, function: .input, type: .f32, unit: $0.2, kind: .gauge) })
    }

    /// Float32 registers (big-endian words) for the values.
    static func registers(_ values: [Float]) -> [UInt16] {
        values.flatMap { [UInt16($0.bitPattern >> 16), UInt16($0.bitPattern & 0xFFFF)] }
    }

    // Like an SDM630 (three voltages) and an SDM120 (one voltage at the same address).
    let threePhase = map("three-phase", [("voltage_l1", 0, "V"), ("voltage_l2", 2, "V"), ("voltage_l3", 4, "V")])
    let singlePhase = map("single-phase", [("voltage", 0, "V")])
    let frequencyOnly = map("frequency-only", [("frequency", 0, "Hz")])

    @Test func moreEvidenceWins() {
        let answer = Self.registers([230.2, 229.8, 231.0])
        let guess = ModelGuess.best(candidates: [singlePhase, threePhase, frequencyOnly]) { request in
            Array(answer.prefix(request.count))
        }
        #expect(guess?.map.id == "three-phase")
        #expect(guess?.plausible == 3 && guess?.checked == 3)
        #expect(guess?.sample == "voltage_l1 230.2 V, voltage_l2 229.8 V")
        #expect(guess?.alsoFits == [])
    }

    @Test func aLargerShareWinsAtEqualEvidence() {
        // Only the first voltage is plausible: one of one beats one of three.
        let answer = Self.registers([230, 0, 0])
        let guess = ModelGuess.best(candidates: [threePhase, singlePhase]) { Array(answer.prefix($0.count)) }
        #expect(guess?.map.id == "single-phase")
        #expect(guess?.plausible == 1 && guess?.checked == 1)
    }

    @Test func tiesAreNamedAndSilenceIsNoGuess() {
        let twin = Self.map("twin", [("voltage", 0, "V")])
        let answer = Self.registers([230])
        let guess = ModelGuess.best(candidates: [singlePhase, twin]) { Array(answer.prefix($0.count)) }
        #expect(guess?.map.id == "single-phase" && guess?.alsoFits == ["twin"])
        #expect(ModelGuess.best(candidates: [singlePhase, twin]) { _ in nil } == nil, "no answer, no guess")
        // A wrong word order gives a tiny value: answered, but nothing plausible.
        let swapped = [UInt16(0x6666), UInt16(0x4366)]
        #expect(ModelGuess.best(candidates: [singlePhase]) { _ in swapped } == nil)
    }

    @Test func plausibleValuesByUnit() {
        #expect(ModelGuess.isPlausible(230, unit: "V") && !ModelGuess.isPlausible(23_000, unit: "V"))
        #expect(ModelGuess.isPlausible(50.01, unit: "Hz") && !ModelGuess.isPlausible(0, unit: "Hz"))
        #expect(!ModelGuess.isPlausible(1e-22, unit: "W") && ModelGuess.isPlausible(-1500, unit: "W"))
        #expect(ModelGuess.isPlausible(12345.6, unit: "kWh") && !ModelGuess.isPlausible(-1, unit: "kWh"))
        #expect(!ModelGuess.isPlausible(0, unit: "Cel") && ModelGuess.isPlausible(21.5, unit: "Cel"))
        #expect(!ModelGuess.isPlausible(1, unit: nil))
    }

    @Test func unitIDs() throws {
        #expect(try ScanPolicy.unitIDs("1-3,10") == [1, 2, 3, 10])
        #expect(try ScanPolicy.unitIDs("247") == [247])
        #expect(throws: ScanPolicy.BadUnits.self) { try ScanPolicy.unitIDs("3-1") }
        #expect(throws: ScanPolicy.BadUnits.self) { try ScanPolicy.unitIDs("1-300") }
        #expect(throws: ScanPolicy.BadUnits.self) { try ScanPolicy.unitIDs("") }
    }

    @Test func gatewayExceptionsMeanNoUnit() {
        #expect(ScanPolicy.exceptionMeansPresent(code: 2), "an illegal address: a unit answered")
        #expect(!ScanPolicy.exceptionMeansPresent(code: 10) && !ScanPolicy.exceptionMeansPresent(code: 11))
        #expect(NumberDisplay.shortest(Double(Float(230.2))) == "230.2" && NumberDisplay.shortest(.nan) == "NaN")
    }
}
