import SitegateCore
import Testing

/// Base64 against the test vectors of RFC 4648 (section 10), not against our own encoder; base64url differs only in
/// two characters and the padding.
@Suite struct Base64Tests {
    static let vectors: [(text: String, standard: String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ]

    @Test(arguments: vectors.indices)
    func standardMatchesRFC4648(_ i: Int) {
        let (text, expected) = Self.vectors[i]
        #expect(Base64.standard(Array(text.utf8)) == expected)
        #expect(Base64.decode(expected) == Array(text.utf8))
    }

    @Test(arguments: vectors.indices)
    func urlIsUnpaddedAndAppendsAfterWhatIsThere(_ i: Int) {
        let (text, standard) = Self.vectors[i]
        let unpadded = String(standard.filter { $0 != "=" })
        #expect(Base64.url(Array(text.utf8)) == unpadded)
        var out = Array("x:".utf8)
        Base64.appendURL(Array(text.utf8), to: &out)
        #expect(out == Array("x:\(unpadded)".utf8))
    }

    /// The two characters where the alphabets differ (62 and 63), and a 32-byte hash's length (43 characters).
    @Test func urlAlphabetAndHashLength() {
        let bytes: [UInt8] = [0xFB, 0xFF, 0xBF]
        #expect(Base64.standard(bytes) == "+/+/")
        #expect(Base64.url(bytes) == "-_-_")
        #expect(Base64.url([UInt8](repeating: 0xAB, count: 32)).utf8.count == 43)
        #expect(Base64.url([UInt8](repeating: 0xAB, count: 64)).utf8.count == 86)
        let all = (0...255).map { UInt8($0) }
        #expect(Base64.decode(Base64.url(all)) == all)
        #expect(Base64.decode(Base64.standard(all)) == all)
    }
}
