import ArgumentParser
import SitegateAgent
import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the gateway agent: poll the meters, buffer every reading, publish to the broker.",
        discussion: """
            Stops cleanly on SIGTERM or SIGINT; nothing already buffered is lost.

            Example:
              sitegate run --config /etc/sitegate/site.yaml
            """
    )

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var logOptions: LogOptions

    func run() async throws {
        // Before any service starts a thread: their arenas are shared from then on.
        MallocTuning.applyForAgent(environment: Self.environment())
        let config = try loadConfig(configOption.config)
        let logger = logOptions.bootstrap(configured: config.logLevel)
        try await Agent(config: config, version: SitegateVersion.current, logger: logger, faults: Self.faults()).run()
    }

    /// The process's environment, for glibc's malloc settings (`MallocTuning`).
    static func environment() -> [String: String] {
        var out: [String: String] = [:]
        for name in MallocTuning.environmentNames {
            if let value = getenv(name) { out[name] = String(cString: value) }
        }
        return out
    }

    /// Faults for tests, read here at the entry point so that no product type reads the environment:
    /// SITEGATE_FAULT_HANG_BUS=<bus id> hangs that bus's thread (the watchdog tests);
    /// SITEGATE_FAULT_CLOCK=synchronised|unsynchronised replaces the kernel's clock state (the evidence tests).
    static func faults() -> FaultInjection {
        let clock: ClockState? =
            switch getenv("SITEGATE_FAULT_CLOCK").map({ String(cString: $0) }) {
            case "synchronised": .synchronisedExample
            case "unsynchronised": .unsynchronised
            default: nil
            }
        return FaultInjection(hangingBus: getenv("SITEGATE_FAULT_HANG_BUS").map { String(cString: $0) }, clock: clock)
    }
}
