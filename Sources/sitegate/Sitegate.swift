import ArgumentParser
import Logging
import SitegateConfig
import SitegateCore
import SitegateLogging

@main
struct Sitegate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sitegate",
        abstract: "Reads energy, heat and water meters over Modbus and publishes their readings over MQTT.",
        discussion: """
            Exit codes: 0 success, 1 failure, 2 needs attention (status: a device failing or the broker down; read: a
            point failed; scan: nothing found), 3 no running agent (status, watch), 64 usage error, 78 configuration
            error. Shell completions: sitegate --generate-completion-script bash|zsh|fish.
            Documentation: docs/config.md, docs/devicemaps.md, docs/payload.md.
            """,
        version: SitegateVersion.current,
        subcommands: [
            RunCommand.self, CheckCommand.self, PlanCommand.self, StatusCommand.self, WatchCommand.self, MetricsCommand.self,
            ReadCommand.self,
            RawCommand.self, ScanCommand.self, MQTTTestCommand.self, MapsCommand.self, BufferCommand.self,
            SupportBundleCommand.self, SimulateCommand.self, ReplayCommand.self, KeysCommand.self, RecordCommand.self,
            VerifyCommand.self, AuditCommand.self,
        ]
    )
}

/// Options every command that reads a site config shares.
struct ConfigOption: ParsableArguments {
    @Option(name: [.short, .long], help: "The site config file (YAML).", completion: .file(extensions: ["yaml", "yml"]))
    var config: String = "/etc/sitegate/site.yaml"
}

struct LogOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: the config's log.level, or info).")
    var logLevel: Logger.Level?

    /// Starts logging once per process; the command line wins over the config's `log.level`.
    func bootstrap(configured: LogLevel? = nil) -> Logger {
        let level = logLevel ?? configured.flatMap { Logger.Level(rawValue: $0.rawValue) } ?? .info
        LoggingSystem.bootstrap { label in
            // Priority prefixes for journald, timestamps only when not writing to the journal.
            var handler = JournalLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "sitegate")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Loads a config, printing every diagnostic; exits 78 when it has errors.
func loadConfig(_ path: String) throws -> SiteConfig {
    do {
        let loaded = try SiteConfigLoader.load(path: path)
        for warning in loaded.warnings { printError(warning.description) }
        return loaded.config
    } catch {
        for diagnostic in error.diagnostics { printError(diagnostic.description) }
        throw ExitCode(ConfigurationError.exitCode)
    }
}
