import SitegateCore
import SitegateCrypto

// `signing:`: the key that signs every committed message, and during a rotation the key it replaces.
extension SiteConfigLoader {
    static let signingKeys = ["key", "key_credential", "previous_key", "previous_key_credential"]

    /// Key files are read here, so that `sitegate check` reports a missing, foreign or broken key at its line;
    /// credentials exist only in the service's environment and are read at start (`SigningKeys.load`).
    static func readSigning(_ top: MappingReader, base: String, sink: DiagnosticSink) -> SigningSettings {
        let rule = "'signing' takes 'key' (a PEM file) or 'key_credential' (a systemd credential), or is off"
        guard top.has("signing") else { return .automatic(defaultKey: SigningSettings.defaultKeyPath) }
        guard let node = top.value("signing") else {
            sink.error("\(rule); it is empty", at: top.keyNode("signing")!)
            return .off
        }
        if case .scalar(let text, let plain, _) = node {
            if plain && text == "off" { return .off }
            sink.error("\(rule), found '\(text)'", at: node)
            return .off
        }
        guard let m = MappingReader(node, context: "signing", sink: sink) else { return .off }
        m.rejectUnknownKeys(allowed: signingKeys)
        let current = secret(m, file: "key", credential: "key_credential", base: base, sink: sink)
        let previous = secret(m, file: "previous_key", credential: "previous_key_credential", base: base, sink: sink)
        guard let current else {
            if !m.has("key") && !m.has("key_credential") {
                sink.error(
                    "'signing' needs 'key' (a PEM file, `sitegate keys generate`) or 'key_credential'; "
                        + "or write `signing: off` for unsigned messages", at: node)
            }
            return .off
        }
        let currentNode = m.value("key") ?? m.value("key_credential")!
        let currentKey = checkKeyFile(current, at: currentNode, sink: sink)
        if let previous {
            let previousName = m.has("previous_key") ? "previous_key" : "previous_key_credential"
            let previousNode = m.value(previousName)!
            let previousKey = checkKeyFile(previous, at: previousNode, sink: sink)
            let sameKey = currentKey != nil && currentKey?.publicKey == previousKey?.publicKey
            if previous == current || sameKey {
                sink.error(
                    "'\(previousName)' is the same key as the current one: in a rotation 'key' is the new key and "
                        + "'previous_key' the old one", at: previousNode)
            }
        }
        return .keys(current: current, previous: previous)
    }

    /// The key in a file, checked now; nil for a credential, or when the file cannot be used (an error), or when
    /// this user may not read it (no diagnostic: every command loads the config, and the operators' `status` must
    /// not warn about a key only the agent's user reads; `check` notes it, `SigningKeys.unreadableFiles`).
    private static func checkKeyFile(_ source: SecretSource, at node: YAMLNode, sink: DiagnosticSink) -> Ed25519Key? {
        guard case .file(let path) = source else { return nil }
        do {
            let key = try SigningKeyFile.read(path)
            if SigningKeyFile.isReadableByOthers(path) == true {
                sink.warning("signing key \(path) is readable by other users: chmod 0600 it", at: node)
            }
            return key
        } catch .permissionDenied {
            return nil
        } catch {
            sink.error("signing key \(error.description)", at: node)
        }
        return nil
    }
}
