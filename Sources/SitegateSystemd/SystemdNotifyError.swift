#if canImport(Glibc)
import Glibc
#endif

/// Why a notification could not be sent: a bad `NOTIFY_SOCKET`, or a failed socket call with its errno.
public struct SystemdNotifyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was being done, e.g. "sendto /run/systemd/notify".
    public var operation: String
    /// The errno of the failed call, or 0 when the problem is the address itself.
    public var code: Int32
    public var reason: String

    init(_ operation: String, errno code: Int32) {
        self.operation = operation
        self.code = code
        reason = String(cString: strerror(code))
    }

    init(_ operation: String, reason: String) {
        self.operation = operation
        code = 0
        self.reason = reason
    }

    public var description: String { "cannot \(operation): \(reason)" }
}
