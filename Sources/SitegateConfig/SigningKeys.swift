import SitegateCore
import SitegateCrypto

/// The keys the agent signs with, read at start-up: credentials exist only in the service's environment, so the
/// loader can check key files but not them. Never logs key material.
public struct SigningKeys: Sendable {
    /// The key that signs every message; nil when messages are not signed.
    public var current: Ed25519Key?
    /// During a rotation, the key being replaced: it signs the key handover (docs/evidence.md).
    public var previous: Ed25519Key?
    /// The file `current` was read from (a credential's copy in $CREDENTIALS_DIRECTORY included).
    public var currentPath: String?
    /// Set when messages go unsigned because the config has no `signing` section and the default key file does
    /// not exist: the agent logs it once at start. Nil when they are signed, or when `signing: off` says so.
    public var warning: String?

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The keys `settings` name; credentials are looked up in `credentialsDirectory` (the service's
    /// $CREDENTIALS_DIRECTORY by default).
    public static func load(
        _ settings: SigningSettings, credentialsDirectory: String? = Secrets.credentialsDirectory
    ) throws(Failure) -> SigningKeys {
        switch settings {
        case .off:
            return SigningKeys()
        case .automatic(let path):
            do {
                return SigningKeys(current: try SigningKeyFile.read(path), currentPath: path)
            } catch .missing {
                return SigningKeys(
                    warning: "messages are not signed: the config has no 'signing' section and there is no \(path) "
                        + "(make one with `sitegate keys generate`, or write `signing: off` to say so)")
            } catch {
                throw Failure(
                    description: "default signing key \(error.description) (the config has no 'signing' section; "
                        + "fix the key, or write `signing: off`)")
            }
        case .keys(let current, let previous):
            let (key, path) = try read(current, what: "signing key", credentials: credentialsDirectory)
            let old = try previous.map { source throws(Failure) in
                try read(source, what: "previous signing key", credentials: credentialsDirectory).key
            }
            if let old, old.publicKey == key.publicKey {
                throw Failure(description: "the previous signing key is the same key as the current one")
            }
            return SigningKeys(current: key, previous: old, currentPath: path)
        }
    }

    /// The key files `settings` name that this user may not read, so the loader could not check them (the agent
    /// reads them as user sitegate): `sitegate check` says so.
    public static func unreadableFiles(_ settings: SigningSettings) -> [String] {
        guard case .keys(let current, let previous) = settings else { return [] }
        return [current, previous].compactMap { source -> String? in
            guard case .file(let path) = source else { return nil }
            do throws(SigningKeyFile.Failure) { _ = try SigningKeyFile.read(path) } catch .permissionDenied {
                return path
            } catch {
                return nil
            }
            return nil
        }
    }

    private static func read(
        _ source: SecretSource, what: String, credentials: String?
    ) throws(Failure) -> (key: Ed25519Key, path: String) {
        let path: String
        do { path = try Secrets.path(of: source, credentialsDirectory: credentials) } catch {
            throw Failure(description: "\(what): \(error.description)")
        }
        do { return (try SigningKeyFile.read(path), path) } catch {
            if case .credential(let name) = source {
                throw Failure(description: "\(what) (credential '\(name)'): \(error.description)")
            }
            throw Failure(description: "\(what) \(error.description)")
        }
    }
}
