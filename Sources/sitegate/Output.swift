#if canImport(Glibc)
import Glibc
#endif

/// Writes a line to standard error (unbuffered, straight to file descriptor 2).
func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Writes a line to standard output at once, so that a parent reading a pipe sees it immediately.
func printFlushed(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}
