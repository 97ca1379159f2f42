import Testing

@testable import SitegateAgent

/// The agent tunes glibc's malloc, unless the operator set glibc's own knobs. Nothing is set in the test process
/// (a recording stands in for mallopt); `benchmarks/park.py` and `benchmarks/threads.py` measure the effect.
@Suite struct MallocTuningTests {
    @Test func tunesWhatGlibcIsNotToldOtherwise() {
        var applied: [MallocTuning.Knob: Int] = [:]
        func tune(_ environment: [String: String], succeeds: Bool = true) -> [MallocTuning.Knob: Int] {
            applied = [:]
            return MallocTuning.applyForAgent(environment: environment) { applied[$0] = $1; return succeeds }
        }
        #expect(tune([:]) == [.arenaMax: 2, .trimThreshold: 4 << 20])
        #expect(tune(["MALLOC_ARENA_MAX": "8"]) == [.trimThreshold: 4 << 20], "the operator's choice stands")
        #expect(applied[.arenaMax] == nil)
        #expect(tune(["GLIBC_TUNABLES": "glibc.malloc.arena_max=4"]) == [.trimThreshold: 4 << 20])
        #expect(tune(["GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"]) == [.arenaMax: 2])
        #expect(tune(["MALLOC_TRIM_THRESHOLD_": "131072", "MALLOC_ARENA_MAX": "1"]).isEmpty && applied.isEmpty)
        #expect(tune([:], succeeds: false).isEmpty, "not glibc, or mallopt refused")
    }
}
