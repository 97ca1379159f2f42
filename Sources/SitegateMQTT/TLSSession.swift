import CMosquitto
import COpenSSL

/// What the broker's TLS session looks like, for `sitegate mqtt-test`.
public struct TLSSession: Sendable {
    public var version: String
    public var cipher: String
    public var peerSubject: String?
    public var peerIssuer: String?
    /// The certificate's notAfter as OpenSSL prints it, e.g. "Nov 30 04:58:01 2026 GMT".
    public var peerNotAfter: String?
}

extension MQTTClient {
    /// The current TLS session, when connected over TLS.
    public func tlsSession() -> TLSSession? {
        guard let raw = mosquitto_ssl_get(handleForInspection) else { return nil }
        let ssl = OpaquePointer(raw)
        let version = SSL_get_version(ssl).map { String(cString: $0) } ?? "?"
        let cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)).map { String(cString: $0) } ?? "?"
        var session = TLSSession(version: version, cipher: cipher)
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return session }
        defer { X509_free(certificate) }
        session.peerSubject = Self.name(X509_get_subject_name(certificate))
        session.peerIssuer = Self.name(X509_get_issuer_name(certificate))
        if let notAfter = X509_get0_notAfter(certificate), let bio = BIO_new(BIO_s_mem()) {
            defer { BIO_free(bio) }
            if ASN1_TIME_print(bio, notAfter) == 1 {
                var buffer = [CChar](repeating: 0, count: 64)
                let n = BIO_read(bio, &buffer, Int32(buffer.count - 1))
                if n > 0 { session.peerNotAfter = String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            }
        }
        return session
    }

    private static func name(_ name: OpaquePointer?) -> String? {
        guard let name else { return nil }
        var buffer = [CChar](repeating: 0, count: 512)
        guard X509_NAME_oneline(name, &buffer, Int32(buffer.count)) != nil else { return nil }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
