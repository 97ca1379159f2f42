import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

/// NDJSON capture files (docs/evidence.md, "Verifying a capture"): appended line by line by `sitegate record`,
/// read whole by `verify` and `audit`.
public enum CaptureFile {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Every line of the capture at `path` (`-`: standard input). A line that is not a capture line is an error
    /// with its number: a capture is evidence, and a damaged one is not silently skipped.
    public static func read(_ path: String) throws(Failure) -> [CaptureRecord] {
        let file: UnsafeMutablePointer<FILE>? = path == "-" ? fdopen(0, "rb") : fopen(path, "rb")
        guard let file else { throw Failure(description: "\(path): cannot read: \(String(cString: strerror(errno)))") }
        defer { if path != "-" { fclose(file) } }
        var lines: [CaptureRecord] = []
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        var number = 0
        while true {
            let n = getline(&buffer, &capacity, file)
            if n < 0 {
                if ferror(file) != 0 { throw Failure(description: "\(path): cannot read: \(String(cString: strerror(errno)))") }
                break
            }
            number += 1
            var bytes = Array(UnsafeRawBufferPointer(start: buffer, count: n))
            while bytes.last == UInt8(ascii: "\n") || bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            if bytes.isEmpty { continue }
            guard let record = CaptureRecord(json: String(decoding: bytes, as: UTF8.self)) else {
                throw Failure(
                    description: "\(path):\(number): error: not a capture line (a JSON object with arrived_ms, topic and a base64 payload)")
            }
            lines.append(record)
        }
        return lines
    }

    /// Appends lines to a file (`-`: standard output), each with one `write`, so that a reader or a crash never
    /// sees half a line of a complete one.
    public final class Writer: @unchecked Sendable {
        // @unchecked: the descriptor is written by one recorder task at a time and closed once in `close()`.
        private var fd: Int32
        public let path: String

        public init(path: String) throws(Failure) {
            self.path = path
            if path == "-" {
                fd = 1
            } else {
                fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw Failure(description: "\(path): cannot open for appending: \(String(cString: strerror(errno)))") }
            }
        }

        public func append(_ line: CaptureRecord) throws(Failure) {
            let bytes = Array((line.json + "\n").utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw Failure(description: "\(path): cannot write: \(String(cString: strerror(errno)))") }
                offset += n
            }
        }

        public func close() {
            if fd > 2 { Glibc.close(fd) }
            fd = -1
        }
    }
}
