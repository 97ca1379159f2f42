import SitegateCore
import SitegateCrypto

/// What the outbox needs to turn polls and evidence drafts into the bytes it stores and the publisher sends.
public struct OutboxSealing: Sendable {
    public var encoder: SenMLEncoder
    public var sealer: MessageSealer
    /// The key before the current one, during a rotation: signs the key handover (docs/evidence.md).
    public var previousSigner: (any MessageSigner)?

    public init(encoder: SenMLEncoder, sealer: MessageSealer, previousSigner: (any MessageSigner)? = nil) {
        self.encoder = encoder
        self.sealer = sealer
        self.previousSigner = previousSigner
    }

    /// Over libcrypto: signed with `signer`, or unsigned (still chained) without one.
    public init(
        siteID: String, gatewayID: String, signer: (any MessageSigner)? = nil, previousSigner: (any MessageSigner)? = nil
    ) {
        self.init(
            encoder: SenMLEncoder(siteID: siteID, gatewayID: gatewayID),
            sealer: MessageSealer(crypto: LibCrypto(), signer: signer), previousSigner: previousSigner)
    }

    var previousKeyID: String? {
        previousSigner.map { KeyID.of(publicKey: $0.publicKey, crypto: sealer.crypto) }
    }
}
