/// Completes drafts into the bytes that are stored and published: adds `seq`, the chain link `prev`, the key id
/// and the signature, by the byte rule of docs/evidence.md. Pure: the hash and the signature are passed in.
public struct MessageSealer: Sendable {
    public let crypto: any EvidenceCrypto
    public let signer: (any MessageSigner)?
    /// The signer's key id, nil when the gateway does not sign.
    public let keyID: String?

    public init(crypto: any EvidenceCrypto, signer: (any MessageSigner)?) {
        self.crypto = crypto
        self.signer = signer
        keyID = signer.map { KeyID.of(publicKey: $0.publicKey, crypto: crypto) }
    }

    /// The message's bytes. `prev` is the hash of the previous message's bytes; nil only for a chain start.
    /// `signer` overrides the sealer's own key (a key handover is signed with the old key).
    public func seal(_ draft: MessageDraft, seq: Int64, prev: [UInt8]?, signer override: (any MessageSigner)? = nil) -> [UInt8] {
        let signer = override ?? self.signer
        let keyID = override.map { KeyID.of(publicKey: $0.publicKey, crypto: crypto) } ?? self.keyID
        // Written as bytes in one buffer sized up front: this runs for every message committed.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(draft.headBytes.count + draft.bodyBytes.count + 200)
        bytes += draft.headBytes
        bytes.appendLiteral(",\"seq\":")
        bytes.appendDecimal(seq)
        if let prev {
            bytes.appendLiteral(",\"prev\":\"")
            Base64.appendURL(prev, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }
        if let keyID {
            bytes.appendLiteral(",\"kid\":\"")
            bytes.appendUTF8(keyID)
            bytes.append(UInt8(ascii: "\""))
        }
        bytes += draft.bodyBytes
        if let signer {
            let signature = signer.sign(bytes)
            bytes.appendLiteral(",\"sig\":\"")
            Base64.appendURL(signature, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.appendLiteral(draft.form.closing)
        return bytes
    }

    /// The chain link to a message: SHA-256 of its whole payload.
    public func link(to payload: [UInt8]) -> [UInt8] { crypto.sha256(payload) }
}

/// The byte rule read back: a signed message split into its signed bytes and its signature.
public struct SignedBytes: Sendable, Hashable {
    public var signed: ArraySlice<UInt8>
    public var signature: [UInt8]

    private static let marker = Array(",\"sig\":\"".utf8)

    /// Splits `payload`; nil when it carries no `sig` in the form the byte rule prescribes.
    public init?(_ payload: [UInt8]) {
        // The tail is `"}` or `"}]` after exactly 86 base64url characters.
        let closing = payload.last == UInt8(ascii: "]") ? 3 : 2
        let tail = Self.marker.count + 86 + closing
        guard payload.count > tail else { return nil }
        let start = payload.count - tail
        guard payload[start..<(start + Self.marker.count)].elementsEqual(Self.marker),
            payload[payload.count - closing] == UInt8(ascii: "\""),
            payload[payload.count - closing + 1] == UInt8(ascii: "}"),
            let signature = Base64.decodeCanonicalURL(
                String(decoding: payload[(start + Self.marker.count)..<(payload.count - closing)], as: UTF8.self)),
            signature.count == 64
        else { return nil }
        signed = payload[..<start]
        self.signature = signature
    }
}
