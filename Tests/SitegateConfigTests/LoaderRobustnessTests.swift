import SitegateConfig
import SitegateCore
import SitegateTestSupport
import Testing

/// The loader never crashes or hangs, whatever the input: thousands of mutated configs and maps must each end in a
/// loaded config or a list of diagnostics. `scripts/fuzz-config.sh` runs the same with many more iterations.
@Suite(.timeLimit(.minutes(2))) struct LoaderRobustnessTests {
    static var iterations: Int {
        if let text = ProcessEnvironmentValue("SITEGATE_FUZZ_ITERATIONS"), let n = Int(text) { return n }
        return 2000
    }

    /// Fragments that stress YAML and the validators.
    static let tokens = [
        "{", "}", "[", "]", ":", "- ", "\n", "  ", "\t", "#", "&a", "*a", "!!binary", "'", "\"", "|", ">", "---", "...",
        "0x", "-1", "99999999999999999999999", "1e309", "nan", ".inf", "~", "null", "true", "\u{0}", "\u{FEFF}", "ä",
        "interval: ", "unit: ", "model: ", "type: f64", "word_order: DCBA", "address: 0xFFFF", "length: 125",
    ]

    static func mutate(_ text: String, rng: inout SplitMix64) -> String {
        var bytes = Array(text.utf8)
        for _ in 0..<(1 + Int(rng.next() % 4)) {
            guard !bytes.isEmpty else { break }
            let at = Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % 5 {
            case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            case 1: bytes.remove(at: at)
            case 2: bytes.insert(contentsOf: Array(tokens[Int(rng.next() % UInt64(tokens.count))].utf8), at: at)
            case 3:  // duplicate a slice (lines, keys)
                let end = min(bytes.count, at + Int(rng.next() % 80))
                bytes.insert(contentsOf: bytes[at..<end], at: at)
            default:  // cut the rest
                bytes.removeSubrange(at...)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Each mutation of `base` either loads or is refused with located diagnostics; some must be refused.
    static func expectLoadsOrDiagnoses(
        _ base: String, rng: inout SplitMix64, _ load: (String) throws(ConfigurationError) -> Void
    ) {
        var loaded = 0
        for _ in 0..<iterations {
            let text = mutate(base, rng: &rng)
            do throws(ConfigurationError) {
                try load(text)
                loaded += 1
            } catch {
                #expect(!error.diagnostics.isEmpty)
                #expect(error.diagnostics.allSatisfy { $0.location.line >= 1 && $0.location.column >= 1 })
            }
        }
        #expect(loaded < iterations, "mutations must produce errors too")
    }

    @Test func mutatedConfigsNeverCrash() throws {
        let base = SiteConfigValidationTests.valid
        var rng = SplitMix64(seed: 0x5173_6761_7465)
        Self.expectLoadsOrDiagnoses(base, rng: &rng) { text throws(ConfigurationError) in
            _ = try SiteConfigLoader.parse(text, file: "f.yaml")
        }
    }

    @Test func mutatedMapsNeverCrash() throws {
        let base = try readFile("\(TestEnvironment.shippedMaps)/carlogavazzi-em340.yaml")
        var rng = SplitMix64(seed: 42)
        Self.expectLoadsOrDiagnoses(base, rng: &rng) { text throws(ConfigurationError) in
            _ = try DeviceMapLoader.parse(text, file: "m.yaml")
        }
    }

    @Test func deepNestingIsRefusedNotOverflowed() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: ConfigurationError.self) { try SiteConfigLoader.parse(deep, file: "deep.yaml") }
        let deepMap = String(repeating: "{a: ", count: 20_000) + "1" + String(repeating: "}", count: 20_000)
        #expect(throws: ConfigurationError.self) { try DeviceMapLoader.parse(deepMap, file: "deep.yaml") }
    }

    @Test func emptyAndBinaryInputs() {
        for text in ["", "\n", "---\n", "\u{0}\u{1}\u{2}", "- 1\n- 2\n", "a: b\n---\nc: d\n"] {
            #expect(throws: ConfigurationError.self) { try SiteConfigLoader.parse(text, file: "x.yaml") }
        }
    }
}

func ProcessEnvironmentValue(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

#if canImport(Glibc)
import Glibc
#endif
