#if canImport(Glibc)
import Glibc
#endif

/// Whole lines to file descriptor 2, unbuffered.
enum StandardError {
    /// One `write` for the whole line where possible, so that lines from different threads do not interleave
    /// (a pipe or the journal's stream socket takes a write of up to 4 KiB at once).
    static func write(line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return  // nowhere left to report a failing standard error
                }
            }
        }
    }
}
