// libFuzzer target: register decoding, the buffer's reading codec and SenML encoding must never crash, whatever
// the registers, types, orders and scales. Built by scripts/fuzz.sh with -sanitize=fuzzer and -DFUZZING.
import SitegateCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoding(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard size >= 4 else { return 0 }
    let type = ValueType.allCases[Int(bytes[0]) % ValueType.allCases.count]
    let order = WordOrder.allCases[Int(bytes[1]) % WordOrder.allCases.count]
    let scaleExponent = Int(Int8(bitPattern: bytes[2])) % 12
    var words: [UInt16] = []
    var i = 3
    while i + 1 < size {
        words.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]))
        i += 2
    }
    let length = type.fixedWidth ?? max(1, min(words.count, 125))
    guard words.count >= length else { return 0 }
    let point = PointDefinition(
        id: "p", address: 0, function: .input, type: type, length: length, wordOrder: order,
        scale: scaleExponent >= 0 ? Double(1 << min(scaleExponent, 30)) : 1 / Double(1 << min(-scaleExponent, 30)),
        unit: type.isNumeric ? "kWh" : nil, kind: .counter, invalid: [.raw(0xFFFF), .raw(0x7FFF_FFFF), .nan])
    let decoded = RegisterDecoder.decode(words[0..<length], as: point, scaleFactor: Int(Int8(bitPattern: bytes[2])) % 20)
    // What the agent does next with a decoded value: buffer it, read it back, write it as SenML.
    let value: Reading.Value
    switch decoded {
    case .number(let v): value = .number(v)
    case .text(let s): value = .text(s)
    case .invalid: value = .invalid(raw: "ffff")
    }
    let readings = [Reading(pointID: "p", unit: point.unit, value: value, offset: .milliseconds(Int64(bytes[0])))]
    let poll = Poll(deviceID: "d", takenAt: UnixTime(seconds: 1_767_225_600), readings: readings)
    _ = SenMLEncoder(siteID: "s", gatewayID: "g").draft(poll)
    _ = SenMLEncoder(siteID: "s", gatewayID: "g").encodeV1(StoredPoll(seq: 1, committedAt: poll.takenAt, poll: poll))
    _ = try? ReadingCodec.decode(ReadingCodec.encode(readings))
    _ = try? ReadingCodec.decode(Array(bytes))  // garbage from a damaged buffer row
    _ = RawDecodings.thirtyTwo(words)
    _ = RawDecodings.sixtyFour(words)
    return 0
}

#if FUZZING
// SwiftPM links an executable's entry point as `fuzz_decoding_main`; under libFuzzer that entry hands over to its driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("fuzz_decoding_main")
func fuzzerEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data, size > 0 else { return 0 }
        return fuzzDecoding(data, size)
    }
}
#else
@main
struct ReplayDecoding {
    static func main() {
        // Without libFuzzer: a fixed sweep, so that the target is exercised by an ordinary build too.
        var state: UInt64 = 42
        for _ in 0..<10_000 {
            var bytes = [UInt8](repeating: 0, count: 20)
            for k in bytes.indices {
                state = state &* 6_364_136_223_846_793_005 &+ 1
                bytes[k] = UInt8(truncatingIfNeeded: state >> 33)
            }
            _ = bytes.withUnsafeBufferPointer { fuzzDecoding($0.baseAddress!, $0.count) }
        }
        print("replayed 10000 inputs")
    }
}
#endif
