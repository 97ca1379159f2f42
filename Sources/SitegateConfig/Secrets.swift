import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

/// Reads secrets at start-up (not at config load: systemd's credentials exist only in the service's environment).
public enum Secrets {
    public struct MissingSecret: Error, Sendable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// $CREDENTIALS_DIRECTORY: where systemd puts the unit's `LoadCredential=` files for the service.
    public static var credentialsDirectory: String? { getenv("CREDENTIALS_DIRECTORY").map { String(cString: $0) } }

    /// The file that holds the secret.
    public static func path(of source: SecretSource) throws(MissingSecret) -> String {
        try path(of: source, credentialsDirectory: credentialsDirectory)
    }

    /// The file that holds the secret, credentials looked up in `credentialsDirectory`.
    public static func path(of source: SecretSource, credentialsDirectory: String?) throws(MissingSecret) -> String {
        switch source {
        case .file(let path):
            return path
        case .credential(let name):
            guard let directory = credentialsDirectory else {
                throw MissingSecret(
                    description: "credential '\(name)' needs $CREDENTIALS_DIRECTORY (LoadCredential= in the systemd unit)")
            }
            return "\(directory)/\(name)"
        }
    }

    /// The secret's text without its trailing line break. The value is never logged.
    public static func read(_ source: SecretSource) throws(MissingSecret) -> String {
        let file = try path(of: source)
        let text: String
        do { text = try TextFile.read(file) } catch {
            throw MissingSecret(description: "cannot read secret: \(error.description)")
        }
        var trimmed = Substring(text)
        while trimmed.last == "\n" || trimmed.last == "\r" { trimmed.removeLast() }
        guard !trimmed.isEmpty else { throw MissingSecret(description: "secret file \(file) is empty") }
        return String(trimmed)
    }
}
