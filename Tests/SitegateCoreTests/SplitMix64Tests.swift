import SitegateCore
import Testing

/// The seeded generator the simulator and the tests replay with: Vigna's SplitMix64, checked against the reference
/// implementation's first outputs for seed 0 (splitmix64.c).
@Suite struct SplitMix64Tests {
    @Test func matchesTheReferenceSequence() {
        var random = SplitMix64(seed: 0)
        #expect([random.next(), random.next(), random.next()] == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
    }

    @Test func theSameSeedGivesTheSameNumbers() {
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
        var c = SplitMix64(seed: 43)
        #expect(UInt8.random(in: 0...255, using: &a) != UInt8.random(in: 0...255, using: &c) || a.next() != c.next())
    }
}
