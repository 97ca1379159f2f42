import CSitegateShims

/// glibc malloc settings for the long-running agent (issue 16, docs/performance.md "CPU and memory").
public enum MallocTuning {
    /// Free memory an arena keeps instead of returning it to the kernel. With glibc's default (128 KiB), the buffer
    /// thread's arena gave back the memory of each poll cycle (its messages, SQLite's statements) when the cycle
    /// ended and faulted it in again at the next: about 160 page faults a second at 100 meters, with their
    /// `madvise` and `brk` calls, some 5% of the agent's CPU. The memory kept is the memory the next cycle uses:
    /// it is resident at every cycle's peak anyway.
    public static let trimThreshold: Int32 = 4 << 20

    /// Applies the settings to this process; call once, before the agent starts its threads.
    public static func applyForAgent() {
        _ = sitegate_malloc_trim_threshold(trimThreshold)
    }
}
