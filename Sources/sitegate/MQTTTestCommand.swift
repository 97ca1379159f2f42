import ArgumentParser
import SitegateAgent

struct MQTTTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqtt-test",
        abstract: "Connect with the site's MQTT settings, publish a test message and read it back.",
        discussion: """
            Reports the TLS version, the broker certificate's subject and expiry, and the round trip; or the reason
            it failed: name not resolved, connection refused, TLS failure, bad credentials, not authorised.
            Uses its own client id, so a running agent stays connected. Exit 0 on success, 1 on failure.

            Example:
              sitegate mqtt-test --config /etc/sitegate/site.yaml
            """
    )

    @OptionGroup var configOption: ConfigOption
    @Option(help: "How long to wait.") var timeout: String = "10s"

    func run() async throws {
        let config = try loadConfig(configOption.config)
        let report = await BrokerCheck.run(config: config, timeout: try parseDuration(timeout, option: "--timeout"))
        for line in report.lines { print(line) }
        if !report.ok { throw ExitCode(1) }
    }
}
