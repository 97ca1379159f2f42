/// Which keys sign the messages the gateway commits (`signing:`, docs/config.md#signing).
public enum SigningSettings: Sendable, Hashable {
    /// `signing: off`: messages carry no `kid` and `sig` (they are still chained).
    case off
    /// No `signing` section: the key at `defaultKey` if that file exists, else no signature and a warning at
    /// start, so that configs written before signing existed keep loading.
    case automatic(defaultKey: String)
    /// `key`/`key_credential`, and during a rotation the key being replaced (`previous_key`/`previous_key_credential`),
    /// which signs the key handover (docs/evidence.md, "Key ids, keys files and rotation").
    case keys(current: SecretSource, previous: SecretSource?)

    /// Where `sitegate keys generate` and the Debian package put the key.
    public static let defaultKeyPath = "/etc/sitegate/signing.key"
}
