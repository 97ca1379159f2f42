import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

/// The CLI's side of the agent's control socket (ControlServer): one request line out, the whole answer back, as
/// the typed message it is.
public struct ControlClient: Sendable {
    public enum Failure: Error, CustomStringConvertible, Sendable {
        /// No agent answers on the socket (none runs, or the path is wrong).
        case unreachable(path: String, reason: String)
        /// The answer is not JSON.
        case notJSON(String)
        /// JSON, but not the message asked for (an agent of another version).
        case notUnderstood(String)
        /// The agent answered with an error (`ControlErrorReply`).
        case refused(String)

        public var description: String {
            switch self {
            case .unreachable(let path, let reason):
                "no running agent answers on \(path) (\(reason)); is sitegate running? (systemctl status sitegate)"
            case .notJSON(let answer): "the agent sent an answer that is not JSON: \(answer.prefix(200))"
            case .notUnderstood(let answer): "the agent sent an answer this sitegate does not understand: \(answer.prefix(200))"
            case .refused(let message): message
            }
        }
    }

    public let path: String

    public init(path: String) { self.path = path }

    /// The raw answer to `request`.
    public func ask(_ request: String) throws(Failure) -> String {
        let fd: Int32
        do { fd = try UnixSocket.connect(path: path) } catch { throw .unreachable(path: path, reason: error.description) }
        defer { close(fd) }
        UnixSocket.writeAll(fd, request + "\n")
        shutdown(fd, Int32(SHUT_WR))
        return UnixSocket.readAll(fd)
    }

    public func status() throws(Failure) -> StatusReply { try message(ask("status")) }

    /// One read of every configured point of `device`, on the agent's bus thread.
    public func read(device: String) throws(Failure) -> ReadReport { try message(ask("read \(device)")) }

    /// Prometheus's text format.
    public func metrics() throws(Failure) -> String {
        let text = try ask("metrics")
        // An agent too old to know the request answers with a JSON error.
        if text.hasPrefix("{"), let reply = ControlErrorReply(json: text) { throw .refused(reply.error) }
        return text
    }

    private func message<M: JSONMessage>(_ answer: String) throws(Failure) -> M {
        guard let fields = JSONObjectReader(JSONValue.parse(answer)) else { throw .notJSON(answer) }
        if let reply = ControlErrorReply(fields: fields) { throw .refused(reply.error) }
        guard let message = M(fields: fields) else { throw .notUnderstood(answer) }
        return message
    }
}
