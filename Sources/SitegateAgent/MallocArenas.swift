import CSitegateShims

/// How many glibc malloc arenas the agent's threads share.
///
/// glibc gives threads arenas of their own, up to 8 per core, and each keeps its freed memory for its thread. The
/// agent runs a thread per bus plus the buffer's, the broker's and the concurrency pool's: at park scale (2,000
/// meters on 16 buses) two arenas held 1-3.7 MiB less than glibc's sixteen on 2 cores, within one run's noise,
/// at the same CPU per reading (docs/performance.md, "Park scale"). Call before the services start their threads.
public enum MallocArenas {
    public static let agentLimit = 2

    /// Limits the arenas unless the operator chose through glibc's own settings (`MALLOC_ARENA_MAX`, or
    /// `GLIBC_TUNABLES` naming `glibc.malloc.arena_max`), which then stand. Returns the limit it set, if any.
    /// - Parameter apply: sets the limit, true on success (glibc's mallopt; tests pass their own).
    @discardableResult
    public static func limit(
        to count: Int = agentLimit, environment: [String: String],
        apply: (Int) -> Bool = { sitegate_malloc_arena_max(Int32($0)) == 1 }
    ) -> Int? {
        if environment["MALLOC_ARENA_MAX"] != nil { return nil }
        if environment["GLIBC_TUNABLES"]?.contains("glibc.malloc.arena_max") == true { return nil }
        return apply(count) ? count : nil
    }
}
