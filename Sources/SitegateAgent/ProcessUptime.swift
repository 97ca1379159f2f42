import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

/// Time since this process started, from the kernel's record of it (10 ms resolution), for start-up figures.
enum ProcessUptime {
    static func milliseconds() -> Int64? {
        guard let stat = try? readStat() else { return nil }
        // Field 22 (starttime, clock ticks since boot) comes after the command name in parentheses.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Int64(fields[19]) else { return nil }
        let hz = Int64(sysconf(Int32(_SC_CLK_TCK)))
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        let nowMs = Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
        return nowMs - ticks * 1000 / hz
    }

    private static func readStat() throws -> String {
        guard let f = fopen("/proc/self/stat", "r") else { throw CancellationError() }
        defer { fclose(f) }
        var buffer = [CChar](repeating: 0, count: 1024)
        guard fgets(&buffer, Int32(buffer.count), f) != nil else { throw CancellationError() }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
