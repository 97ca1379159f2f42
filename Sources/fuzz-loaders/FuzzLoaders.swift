// libFuzzer target: the site config and device map loaders must never crash or hang, whatever the bytes.
// Built by scripts/fuzz.sh with -sanitize=fuzzer and -DFUZZING; without them it replays files given as arguments.
import SitegateConfig
import SitegateCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLoaders(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    // Both loaders on the same input: a config, and a device map (the first byte picks which comes first).
    _ = try? SiteConfigLoader.parse(text, file: "fuzz.yaml")
    _ = try? DeviceMapLoader.parse(text, file: "fuzz.yaml")
    _ = JSONValue.parse(text)
    return 0
}

#if FUZZING
// SwiftPM links an executable's entry point as `fuzz_loaders_main`; under libFuzzer that entry hands over to its driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("fuzz_loaders_main")
func fuzzerEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data, size > 0 else { return 0 }
        return fuzzLoaders(data, size)
    }
}
#else
@main
struct ReplayLoaders {
    static func main() throws {
        for path in CommandLine.arguments.dropFirst() {
            let text = try TextFile.read(path)
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBufferPointer { fuzzLoaders($0.baseAddress!, $0.count) }
        }
    }
}
#endif
