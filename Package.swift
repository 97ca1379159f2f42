// swift-tools-version:6.0
import PackageDescription

// Strict concurrency is the default in Swift 6 mode; these keep module boundaries honest.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

func cLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let package = Package(
    name: "sitegate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sitegate", targets: ["sitegate"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SitegateLogging implements `LogHandler.log(event:)` (SLG-0005); built and tested with 1.16.2.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        cLibrary("CModbus", pkgConfig: "libmodbus", apt: "libmodbus-dev"),
        cLibrary("CMosquitto", pkgConfig: "libmosquitto", apt: "libmosquitto-dev"),
        cLibrary("CSQLite", pkgConfig: "sqlite3", apt: "libsqlite3-dev"),
        cLibrary("CYAML", pkgConfig: "yaml-0.1", apt: "libyaml-dev"),
        // Only to report the broker's TLS session (version, certificate) in `sitegate mqtt-test`.
        cLibrary("COpenSSL", pkgConfig: "openssl", apt: "libssl-dev"),
        // SHA-256 and Ed25519 for the evidence chain (docs/evidence.md).
        cLibrary("CLibCrypto", pkgConfig: "libcrypto", apt: "libssl-dev"),

        // Pure logic: models, decoding, planning, schedules, payloads. No C, no I/O.
        .target(name: "SitegateCore", swiftSettings: strictSettings),
        // Dedicated threads for blocking C calls, and the lock that guards state shared with them.
        .target(name: "SitegateThreads", dependencies: ["CSitegateShims"], swiftSettings: strictSettings),
        // Only what Swift cannot call directly (_GNU_SOURCE symbols).
        .target(name: "CSitegateShims"),
        // YAML text to Core types, with file:line:column diagnostics; signing keys are checked as the config loads.
        .target(name: "SitegateConfig", dependencies: ["SitegateCore", "SitegateCrypto", "CYAML"], swiftSettings: strictSettings),
        // One libmodbus connection per bus, each on a thread of its own.
        .target(
            name: "SitegateModbus",
            dependencies: ["SitegateCore", "SitegateThreads", "CModbus", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // Signing keys and hashes for the evidence chain, over libcrypto.
        .target(name: "SitegateCrypto", dependencies: ["SitegateCore", "CLibCrypto"], swiftSettings: strictSettings),
        // The SQLite outbox: readings are durable before anything else happens.
        .target(
            name: "SitegateBuffer",
            dependencies: ["SitegateCore", "SitegateCrypto", "SitegateThreads", "CSQLite", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // libmosquitto behind one callback bridge.
        .target(
            name: "SitegateMQTT",
            dependencies: ["SitegateCore", "SitegateThreads", "CMosquitto", "COpenSSL", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // The long-running services: pollers and publisher.
        .target(
            name: "SitegateAgent",
            dependencies: [
                "SitegateCore", "SitegateConfig", "SitegateModbus", "SitegateBuffer", "SitegateMQTT", "SitegateSystemd", "SitegateThreads",
                // adjtimex (the clock's state) and SHA-256 (the config hash) for the checkpoints.
                "CSitegateShims", "SitegateCrypto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // A libmodbus server that serves device maps: test fixture and training tool.
        .target(
            name: "SitegateSimulator",
            dependencies: ["SitegateCore", "SitegateModbus", "CModbus", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "sitegate",
            dependencies: [
                "SitegateCore", "SitegateConfig", "SitegateModbus", "SitegateBuffer", "SitegateMQTT",
                "SitegateAgent", "SitegateSimulator", "SitegateLogging", "SitegateCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings,
            plugins: ["VersionFromChangelog"]
        ),
        // `SitegateVersion.current` from debian/changelog's top entry: one version for the binary and the package.
        .plugin(name: "VersionFromChangelog", capability: .buildTool()),
        // Benchmarks (`make bench`): not part of the product.
        .executableTarget(
            name: "sitegate-bench",
            dependencies: [
                "SitegateAgent", "SitegateBuffer", "SitegateConfig", "SitegateCore", "SitegateModbus", "SitegateMQTT",
                "SitegateCrypto", "SitegateSystemd", "SitegateThreads", "SitegateTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "benchmarks/Sources/sitegate-bench",
            swiftSettings: strictSettings
        ),
        // libFuzzer targets (scripts/fuzz.sh builds them with -sanitize=fuzzer); plain builds replay inputs.
        .executableTarget(name: "fuzz-loaders", dependencies: ["SitegateConfig", "SitegateCore"], swiftSettings: strictSettings),
        .executableTarget(name: "fuzz-decoding", dependencies: ["SitegateCore"], swiftSettings: strictSettings),
        // sd_notify over its datagram protocol, and the progress watchdog that gates WATCHDOG=1. No C library.
        .target(name: "SitegateSystemd", swiftSettings: strictSettings),
        // swift-log to standard error in the line format journald reads (priority prefix, logfmt metadata).
        .target(
            name: "SitegateLogging",
            dependencies: ["SitegateCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // Launching mosquitto, socat and the simulator for tests; free ports.
        // InMemoryModbusDevice: a RegisterSource double for DeviceReader (as swift-nio's NIOEmbedded).
        .target(name: "SitegateTestSupport", dependencies: ["SitegateCore", "SitegateModbus"], swiftSettings: strictSettings),

        // SitegateCrypto only to build signed test chains for the capture verifier (Core stays pure).
        .testTarget(name: "SitegateCoreTests", dependencies: ["SitegateCore", "SitegateCrypto"], swiftSettings: strictSettings),
        // Ed25519 against RFC 8032's vectors and openssl's own output; key files; the documented worked example.
        .testTarget(
            name: "SitegateCryptoTests",
            dependencies: ["SitegateCrypto", "SitegateCore", "SitegateTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SitegateConfigTests",
            dependencies: ["SitegateConfig", "SitegateCore", "SitegateCrypto", "SitegateTestSupport"],
            swiftSettings: strictSettings
        ),
        // The notifier against a socket of its own, the watchdog, and the unit files under systemd-analyze.
        .testTarget(
            name: "SitegateSystemdTests",
            dependencies: ["SitegateSystemd", "SitegateTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SitegateBufferTests",
            dependencies: [
                "SitegateBuffer", "SitegateCore", "SitegateConfig", "SitegateCrypto", "SitegateThreads", "SitegateTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SitegateLoggingTests",
            dependencies: [
                "SitegateLogging", "SitegateCore", "SitegateThreads", "SitegateTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Test targets that mirror the library modules (swift-nio style); each suite runs in seconds.
        // DedicatedThread and the locks: what the blocking C calls run on.
        .testTarget(
            name: "SitegateThreadsTests",
            dependencies: ["SitegateThreads"],
            swiftSettings: strictSettings
        ),
        // DeviceReader's split-and-learn against InMemoryModbusDevice: no bus, no thread.
        .testTarget(
            name: "SitegateModbusTests",
            dependencies: ["SitegateModbus", "SitegateCore", "SitegateTestSupport"],
            swiftSettings: strictSettings
        ),
        // MQTTClient against a private mosquitto.
        .testTarget(
            name: "SitegateMQTTTests",
            dependencies: ["SitegateMQTT", "SitegateCore", "SitegateThreads", "SitegateTestSupport"],
            swiftSettings: strictSettings
        ),
        // The simulator's registers and faults, read through SitegateModbus's libmodbus connection.
        .testTarget(
            name: "SitegateSimulatorTests",
            dependencies: [
                "SitegateSimulator", "SitegateModbus", "SitegateCore", "SitegateTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The agent's services against in-memory stand-ins for the buffer and a clock moved by hand; the whole agent
        // in-process (drain, reload) against a real mosquitto and the simulator, stopped with the lifecycle test kit.
        .testTarget(
            name: "SitegateAgentTests",
            dependencies: [
                "SitegateAgent", "SitegateBuffer", "SitegateConfig", "SitegateCore", "SitegateCrypto", "SitegateSimulator",
                "SitegateThreads", "SitegateTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SitegateIntegrationTests",
            dependencies: [
                "SitegateCore", "SitegateConfig", "SitegateBuffer", "SitegateModbus", "SitegateSimulator",
                "SitegateCrypto", "SitegateTestSupport",
            ],
            swiftSettings: strictSettings
        ),
    ]
)
