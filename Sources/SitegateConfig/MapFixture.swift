import SitegateCore

/// Golden register values for a device map (`<id>.fixture.yaml`): raw words and the value they must decode to.
public struct MapFixture: Sendable {
    public struct Case: Sendable {
        public var point: String
        public var registers: [UInt16]
        /// The expected value: a number, or the text of a string point.
        public var value: DecodedValue
        public var tolerance: Double?
        public var source: String
    }

    public var map: String
    public var cases: [Case]

    public static func load(path: String) throws(ConfigurationError) -> MapFixture {
        let text = try YAMLDocument.text(of: path)
        guard let root = try YAMLParser.parse(text, file: path) else {
            throw ConfigurationError(diagnostics: [
                Diagnostic(.error, "empty fixture", at: SourceLocation(file: path, line: 1, column: 1))
            ])
        }
        let sink = DiagnosticSink()
        var cases: [Case] = []
        var mapID: String? = nil
        if let top = MappingReader(root, context: "the fixture", sink: sink) {
            top.rejectUnknownKeys(allowed: ["map", "cases"])
            mapID = top.string("map", required: true)
            for item in top.list("cases", required: true) ?? [] {
                guard let m = MappingReader(item, context: "a fixture case", sink: sink) else { continue }
                m.rejectUnknownKeys(allowed: ["point", "registers", "value", "tolerance", "source"])
                let point = m.string("point", required: true)
                var value: DecodedValue? = nil
                if case .scalar(let text, false, _)? = m.value("value") {
                    value = .text(text)
                } else if let number = m.double("value", required: true) {
                    value = .number(number)
                }
                let source = m.string("source", required: true)
                var registers: [UInt16] = []
                for word in m.list("registers", required: true) ?? [] {
                    guard let text = word.scalarText, let n = MappingReader.parseInt(text), (0...0xFFFF).contains(n) else {
                        sink.error("registers must be 16-bit values such as 0x4366", at: word)
                        continue
                    }
                    registers.append(UInt16(n))
                }
                if let point, let value, let source {
                    cases.append(
                        Case(point: point, registers: registers, value: value, tolerance: m.double("tolerance"), source: source))
                }
            }
        }
        guard !sink.hasErrors, let mapID else { throw ConfigurationError(diagnostics: sink.sorted) }
        return MapFixture(map: mapID, cases: cases)
    }
}
