import Logging
import SitegateCore
import SitegateLogging
import Testing

@Suite struct JournalLineTests {
    static let t0 = UnixTime(milliseconds: 1_767_226_500_123)  // 2026-01-01T00:15:00.123Z

    static func line(
        _ message: String, _ metadata: Logger.Metadata = [:], level: Logger.Level = .info, timestamp: UnixTime? = nil
    ) -> String {
        JournalLine.format(level: level, message: message, metadata: metadata, timestamp: timestamp)
    }

    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func prioritiesAreSdDaemonLevels(_ level: Logger.Level, _ priority: Int) {
        #expect(JournalLine.priority(level) == priority)
        #expect(Self.line("x", level: level).hasPrefix("<\(priority)>x"))
    }

    @Test func underJournaldThePriorityThenTheMessage() {
        #expect(Self.line("connected to the broker") == "<6>connected to the broker")
    }

    @Test func metadataFollowsSortedByKey() {
        let line = Self.line(
            "device not answering", ["modbus.unit": "1", "device.id": "main-incomer", "bus.id": "plant-lan"],
            level: .warning)
        #expect(line == "<4>device not answering bus.id=plant-lan device.id=main-incomer modbus.unit=1")
    }

    @Test func valuesWithSpacesAreQuoted() {
        #expect(Self.line("x", ["error": "connection refused"]) == #"<6>x error="connection refused""#)
        #expect(Self.line("x", ["empty": ""]) == #"<6>x empty="""#)
        #expect(Self.line("x", ["q": #"say "hi""#]) == #"<6>x q="say \"hi\"""#)
        #expect(Self.line("x", ["eq": "a=b"]) == #"<6>x eq="a=b""#)
        #expect(Self.line("x", ["path": #"C:\maps"#]) == #"<6>x path="C:\\maps""#)
        #expect(Self.line("x", ["plain": "/dev/ttyUSB0"]) == "<6>x plain=/dev/ttyUSB0")
    }

    @Test func everyEventIsOneLine() {
        let line = Self.line("first\nsecond\r\tthird", ["detail": "a\nb", "bell": "\u{7}"], level: .error)
        #expect(!line.contains("\n") && !line.contains("\r"))
        #expect(line == #"<3>first\nsecond\r\tthird bell="\u{7}" detail="a\nb""#)
    }

    @Test func keysCannotBreakThePairs() {
        #expect(Self.line("x", ["two words": "v", "a=b": "w", "": "z"]) == "<6>x _=z a_b=w two_words=v")
    }

    @Test func nestedMetadataBecomesDottedKeys() {
        let metadata: Logger.Metadata = [
            "mqtt": ["host": "broker.example", "port": "8883"], "points": ["voltage_l1", "energy_import"],
            "n": .stringConvertible(42),
        ]
        #expect(
            Self.line("connected", metadata)
                == #"<6>connected mqtt.host=broker.example mqtt.port=8883 n=42 points="[voltage_l1, energy_import]""#)
    }

    @Test func outsideTheJournalTheTimeAndLevelNameReplaceThePrefix() {
        #expect(
            Self.line("lost the broker connection", ["mqtt.inflight": "3"], level: .warning, timestamp: Self.t0)
                == "2026-01-01T00:15:00.123Z warning lost the broker connection mqtt.inflight=3")
    }
}
