import CSitegateShims

/// glibc malloc settings for the long-running agent, applied once by `sitegate run` before the services start their
/// threads (docs/performance.md, "CPU and memory" and "Park scale"). A setting the operator made through glibc's own
/// knobs (`MALLOC_ARENA_MAX`, `MALLOC_TRIM_THRESHOLD_`, or `GLIBC_TUNABLES`) stands.
public enum MallocTuning {
    public enum Knob: Sendable, Hashable, CaseIterable {
        /// How many arenas the threads share. glibc gives threads arenas of their own, up to 8 per core, and each
        /// keeps its freed memory (up to the trim threshold, below) for its thread: the agent runs a thread per bus
        /// plus the buffer's, the broker's and the concurrency pool's. Two arenas held 1-3.7 MiB less at park scale
        /// (2,000 meters on 16 buses) than glibc's sixteen on 2 cores, at the same CPU per reading.
        case arenaMax
        /// Free memory an arena keeps instead of returning it to the kernel. With glibc's default (128 KiB), the
        /// buffer thread's arena gave back the memory of each poll cycle when the cycle ended and faulted it in
        /// again at the next: about 160 page faults a second at 100 meters, some 5% of the agent's CPU. The memory
        /// kept is the memory the next cycle uses: it is resident at every cycle's peak anyway.
        case trimThreshold

        public var agentValue: Int {
            switch self {
            case .arenaMax: 2
            case .trimThreshold: 4 << 20
            }
        }

        /// glibc's environment variable and tunable for this knob.
        var environmentName: String { self == .arenaMax ? "MALLOC_ARENA_MAX" : "MALLOC_TRIM_THRESHOLD_" }
        var tunable: String { self == .arenaMax ? "glibc.malloc.arena_max" : "glibc.malloc.trim_threshold" }
    }

    /// The environment variables that carry the operator's choice.
    public static let environmentNames = ["MALLOC_ARENA_MAX", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"]

    /// Applies the agent's values for every knob the environment leaves to it; returns those set.
    /// - Parameter apply: sets a knob, true on success (glibc's mallopt; tests pass their own).
    @discardableResult
    public static func applyForAgent(
        environment: [String: String], apply: (Knob, Int) -> Bool = MallocTuning.mallopt
    ) -> [Knob: Int] {
        var set: [Knob: Int] = [:]
        for knob in Knob.allCases {
            if environment[knob.environmentName] != nil { continue }
            if environment["GLIBC_TUNABLES"]?.contains(knob.tunable) == true { continue }
            if apply(knob, knob.agentValue) { set[knob] = knob.agentValue }
        }
        return set
    }

    public static func mallopt(_ knob: Knob, _ value: Int) -> Bool {
        switch knob {
        case .arenaMax: sitegate_malloc_arena_max(Int32(value)) == 1
        case .trimThreshold: sitegate_malloc_trim_threshold(Int32(value)) == 1
        }
    }
}
