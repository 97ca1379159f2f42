import Testing

@testable import SitegateAgent

/// The agent limits glibc's malloc arenas, unless the operator set glibc's own knobs.
@Suite struct MallocArenasTests {
    @Test func limitsTheArenasUnlessGlibcIsToldOtherwise() {
        #expect(MallocArenas.limit(environment: ["MALLOC_ARENA_MAX": "8"]) == nil, "the operator's choice stands")
        #expect(MallocArenas.limit(environment: ["GLIBC_TUNABLES": "glibc.malloc.arena_max=4"]) == nil)
        #expect(MallocArenas.limit(environment: ["GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"]) == 2)
        #expect(MallocArenas.limit(environment: [:]) == MallocArenas.agentLimit)
    }
}
