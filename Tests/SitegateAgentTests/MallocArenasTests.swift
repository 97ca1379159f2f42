import Testing

@testable import SitegateAgent

/// The agent limits glibc's malloc arenas, unless the operator set glibc's own knobs. The limit itself is not set
/// in the test process (a recording stands in for mallopt); `benchmarks/park.py` measures its effect on the agent.
@Suite struct MallocArenasTests {
    @Test func limitsTheArenasUnlessGlibcIsToldOtherwise() {
        var applied: [Int] = []
        func limit(_ environment: [String: String], succeeds: Bool = true) -> Int? {
            MallocArenas.limit(environment: environment) { applied.append($0); return succeeds }
        }
        #expect(limit(["MALLOC_ARENA_MAX": "8"]) == nil, "the operator's choice stands")
        #expect(limit(["GLIBC_TUNABLES": "glibc.malloc.arena_max=4"]) == nil)
        #expect(applied.isEmpty)
        #expect(limit(["GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"]) == 2)
        #expect(limit([:]) == MallocArenas.agentLimit)
        #expect(applied == [2, 2])
        #expect(limit([:], succeeds: false) == nil, "not glibc, or mallopt refused")
    }
}
