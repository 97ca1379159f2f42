import SitegateCore
import Testing

@Suite struct HexTests {
    @Test func addressesHaveAPrefixAndAtLeastFourUppercaseDigits() {
        #expect(Hex.address(0) == "0x0000")
        #expect(Hex.address(72) == "0x0048")
        #expect(Hex.address(0xABCDE) == "0xABCDE")
    }

    @Test func rangesShowFirstAndLastAddress() {
        #expect(Hex.addressRange(72..<73) == "0x0048")
        #expect(Hex.addressRange(72..<76) == "0x0048-0x004B")
    }

    @Test func wordsArePaddedInEitherCase() {
        #expect(Hex.word(0xFF) == "00FF")
        #expect(Hex.word(0xBEEF, uppercase: false) == "beef")
        #expect(Hex.padded(UInt64(0x1F), digits: 16, uppercase: false) == "000000000000001f")
    }
}

@Suite struct ModiconTests {
    @Test(arguments: [
        (RegisterFunction.coil, 5, 1), (.discrete, 5, 10001), (.input, 5, 30001), (.holding, 5, 40001),
        (.coil, 6, 1), (.discrete, 6, 100001), (.input, 6, 300001), (.holding, 6, 400001),
    ])
    func bases(function: RegisterFunction, digits: Int, base: Int) {
        #expect(Modicon.base(function, digits: digits) == base)
    }

    @Test func wireAddressesStayInsideTheirTable() {
        #expect(Modicon.wireAddress(30073, function: .input, digits: 5) == 72)
        #expect(Modicon.wireAddress(39999, function: .input, digits: 5) == 9998)
        #expect(Modicon.wireAddress(40001, function: .input, digits: 5) == nil)
        #expect(Modicon.wireAddress(365536, function: .input, digits: 6) == 65535)
        #expect(Modicon.wireAddress(365537, function: .input, digits: 6) == nil)
    }

    @Test func aNumberNamesItsTableButCoilNumbersAreNeverGuessed() {
        #expect(Modicon.table(of: 30073, digits: 5)?.function == .input)
        #expect(Modicon.table(of: 40001, digits: 5)?.base == 40001)
        #expect(Modicon.table(of: 300053, digits: 6)?.function == .input)
        #expect(Modicon.table(of: 10001, digits: 5)?.function == .discrete)
        #expect(Modicon.table(of: 20001, digits: 5) == nil)
        #expect(Modicon.table(of: 72, digits: 2) == nil)
    }

    @Test func numbersUseFiveDigitsWhileTheySuffice() {
        #expect(Modicon.number(72, .input) == "30073")
        #expect(Modicon.number(9998, .holding) == "49999")
        #expect(Modicon.number(9999, .holding) == "410000")
        #expect(Modicon.number(5, .coil) == "6")
    }

    @Test func vendorNumberingReadsTheSameTable() {
        #expect(VendorNumbering.modicon.wireAddress(forVendorNumber: 30073, function: .input) == 72)
        #expect(VendorNumbering.modicon6.wireAddress(forVendorNumber: 300073, function: .input) == 72)
        #expect(VendorNumbering.modicon.wireAddress(forVendorNumber: 30073, function: .holding) == nil)
    }
}

@Suite struct BrokerURLTests {
    @Test func schemesGiveTheirDefaultPorts() throws {
        let plain = try #require(BrokerURL("mqtt://broker.example"))
        #expect(plain.host == "broker.example" && plain.port == 1883 && !plain.tls)
        let tls = try #require(BrokerURL("mqtts://broker.example/"))
        #expect(tls.host == "broker.example" && tls.port == 8883 && tls.tls)
    }

    @Test func portsAndIPv6Literals() throws {
        #expect(BrokerURL("mqtt://10.0.0.5:11883")?.port == 11883)
        let v6 = try #require(BrokerURL("mqtts://[::1]:8884"))
        #expect(v6.host == "::1" && v6.port == 8884)
        #expect(BrokerURL("mqtt://[::1]")?.port == 1883)
    }

    @Test(arguments: [
        "http://broker", "mqtt://", "mqtt://host:0", "mqtt://host:65536", "mqtt://host:x", "mqtt://user@host",
        "mqtt://host/path", "mqtt://[::1", "mqtt://[::1]x",
    ])
    func refuses(_ text: String) {
        #expect(BrokerURL(text) == nil)
    }
}
