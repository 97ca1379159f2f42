import ArgumentParser
import SitegateAgent
import SitegateConfig
import SitegateCore

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Ask the gateway, through the broker, to publish archived messages again.",
        discussion: """
            Sends a replay request for the given sequence numbers and waits for the answer: what the gateway
            republished (byte for byte, as first sent), what was still unsent (it goes out anyway) and what it no
            longer holds. With --capture, every message received meanwhile is appended to that NDJSON capture, to
            be checked again with `sitegate verify` and `sitegate audit`. Exit 0 when the gateway answered `done`,
            1 on an error answer or no answer.

            Example:
              sitegate replay --config /etc/sitegate/site.yaml --seqs 1764547200000100-1764547200000199 \\
                --capture capture.ndjson
            """
    )

    @OptionGroup var configOption: ConfigOption
    @Option(help: "Sequence numbers: ranges and single numbers, e.g. 100-199,250.") var seqs: String
    @Option(help: "Only these devices' data messages (comma-separated ids).") var devices: String?
    @Option(help: "Append what arrives to this NDJSON capture.") var capture: String?
    @Option(help: "How long to wait for the answer.") var timeout: String = "120s"
    @Option(help: "The request id (default: a random one).") var id: String?

    func run() async throws {
        let config = try loadConfig(configOption.config)
        guard let ranges = SeqRanges.parse(text: seqs) else {
            printError("error: --seqs must be ranges such as 100-199,250")
            throw ExitCode(2)
        }
        let requestID = id ?? "replay-\(UInt32.random(in: 0...UInt32.max))"
        guard ReplayRequest.isValidID(requestID) else {
            printError("error: --id must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
            throw ExitCode(2)
        }
        let request = ReplayRequest(
            id: requestID, ranges: ranges, devices: devices.map { Set($0.split(separator: ",").map(String.init)) })
        let outcome = await ReplayClient.run(
            config: config, request: request, timeout: try parseDuration(timeout, option: "--timeout"))
        if let capture {
            let lines = outcome.received.map {
                CaptureRecord(arrivedAt: $0.arrivedAt, topic: $0.topic, retain: $0.retained, payload: $0.payload).json
            }
            try TextFile.append(lines.map { $0 + "\n" }.joined(), to: capture)
        }
        print(ReplayReport(request: request, outcome: outcome).lines.joined(separator: "\n"))
        if outcome.finished?.status != .done { throw ExitCode(1) }
    }
}
