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
        let path = agent.socketPath
        let text: String
        do { text = try UnixSocket.ask(path: path, "metrics") } catch {
            printError("error: no running agent answers on \(path) (\(error)); is sitegate running? (systemctl status sitegate)")
            throw ExitCode(3)
        }
        // An agent too old to know the request answers with a JSON error.
        if text.hasPrefix("{"), let message = JSONValue.parse(text)?["error"]?.string {
            printError("error: \(message)")
            throw ExitCode(1)
        }
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
