/// The socket `NOTIFY_SOCKET` names: a file-system path (`/run/systemd/notify`) or, with a leading `@`, a name in
/// Linux's abstract socket namespace (`@/org/freedesktop/systemd1/notify/...`), as sd_notify(3) accepts them.
public struct NotifySocketAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case path
        case abstract
    }

    public let kind: Kind
    /// The name without the `@` of an abstract address.
    public let name: String

    /// `sun_path` holds 108 bytes (Linux).
    static let capacity = 108

    public init(_ value: String) throws(SystemdNotifyError) {
        let operation = "use NOTIFY_SOCKET '\(value)'"
        if value.utf8.contains(0) { throw SystemdNotifyError(operation, reason: "it contains a NUL byte") }
        if value.hasPrefix("/") {
            // Room for the terminating NUL, as libsystemd requires for path sockets.
            guard value.utf8.count < Self.capacity else {
                throw SystemdNotifyError(operation, reason: "a socket path has at most \(Self.capacity - 1) bytes")
            }
            kind = .path
            name = value
        } else if value.hasPrefix("@") {
            // The leading NUL that marks an abstract address takes the place of the '@'.
            guard value.utf8.count >= 2, value.utf8.count <= Self.capacity else {
                throw SystemdNotifyError(
                    operation, reason: "an abstract socket name has 1 to \(Self.capacity - 1) bytes")
            }
            kind = .abstract
            name = String(value.dropFirst())
        } else {
            // systemd 253 and later also accept vsock: addresses (for VMs); an edge box never gets one.
            throw SystemdNotifyError(operation, reason: "only absolute paths and @abstract names are supported")
        }
    }

    /// The bytes that go into `sun_path`, and only those: the socket address length counts exactly these. An
    /// abstract name is length-delimited (a trailing NUL would be part of the name); a path gets its NUL.
    var sunPath: [UInt8] {
        switch kind {
        case .path: Array(name.utf8) + [0]
        case .abstract: [0] + Array(name.utf8)
        }
    }

    public var description: String { kind == .abstract ? "@" + name : name }
}
