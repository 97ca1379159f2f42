import ArgumentParser
import SitegateAgent
import SitegateConfig
import SitegateCore

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print the running agent's metrics in Prometheus's text format.",
        discussion: """
            Talks to the agent through its control socket, like status. With --output the metrics are written to a
            file atomically (a temporary file renamed over it), for node_exporter's textfile collector. Exit 3 when
            no agent runs. Names and meanings: docs/operations.md, "Metrics".

            Examples:
              sitegate metrics | grep sitegate_polls_total
              sitegate metrics --output /var/lib/prometheus/node-exporter/sitegate.prom
            """
    )

    @OptionGroup var agent: AgentSocketOptions
    @Option(help: "Write to this file (atomically) instead of standard output.") var output: String?

    func run() throws {
        let text = try agent.ask { try $0.metrics() }
        guard let output else {
            print(text, terminator: "")
            return
        }
        do { try TextFile.replace(output, with: text) } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}
