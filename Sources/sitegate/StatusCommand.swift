import ArgumentParser
import SitegateAgent
import SitegateConfig
import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

/// Finds the running agent's control socket: --socket, else the config's control_socket, else the default.
struct AgentSocketOptions: ParsableArguments {
    @Option(
        name: [.short, .long], help: "The site config (to find the agent's control socket).",
        completion: .file(extensions: ["yaml", "yml"]))
    var config: String = "/etc/sitegate/site.yaml"

    @Option(
        help: "The agent's control socket (default: the config's control_socket, /run/sitegate/sitegate.sock).",
        completion: .file())
    var socket: String?

    var socketPath: String {
        if let socket { return socket }
        return (try? SiteConfigLoader.load(path: config).config.controlSocket) ?? "/run/sitegate/sitegate.sock"
    }

    var client: ControlClient { ControlClient(path: socketPath) }

    /// Asks the running agent; exits 3 with a clear message when no agent answers, 1 when it refuses.
    func ask<T>(_ request: (ControlClient) throws -> T) throws -> T {
        do { return try request(client) } catch let error as ControlClient.Failure {
            printError("error: \(error)")
            if case .unreachable = error { throw ExitCode(3) }
            throw ExitCode(1)
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the running agent's state: devices, buffer, broker.",
        discussion: """
            Talks to the agent through its control socket. Exit 0 when every device answers and the broker is
            connected, 2 when something needs attention, 3 when no agent runs.

            Examples:
              sitegate status
              sitegate status --json | jq '.devices[] | select(.state != "ok")'
            """
    )

    @OptionGroup var agent: AgentSocketOptions
    @Flag(help: "Print the agent's JSON for scripts.") var json = false

    func run() throws {
        let status = try agent.ask { try $0.status() }
        if json {
            print(status.json)
        } else {
            print(StatusView.render(status, colour: StatusView.terminalSupportsColour))
        }
        if !status.allGood { throw ExitCode(2) }
    }
}

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Show the running agent's state and refresh it until Ctrl-C.",
        discussion: "Example:\n  sitegate watch --interval 2s"
    )

    @OptionGroup var agent: AgentSocketOptions
    @Option(help: "Refresh interval.") var interval: String = "2s"

    func run() throws {
        let every = try parseDuration(interval, option: "--interval")
        while true {
            let status = try agent.ask { try $0.status() }
            // Clear the screen and go home, then draw.
            // Written at once: a pipe or file must see each frame before the next sleep.
            printFlushed("\u{1B}[2J\u{1B}[H" + StatusView.render(status, colour: StatusView.terminalSupportsColour))
            printFlushed("\nrefreshing every \(interval); Ctrl-C to stop")
            var ts = timespec(tv_sec: Int(every.components.seconds), tv_nsec: Int(every.components.attoseconds / 1_000_000_000))
            nanosleep(&ts, nil)
        }
    }
}

/// The status table for people.
enum StatusView {
    static var terminalSupportsColour: Bool {
        isatty(1) == 1 && getenv("NO_COLOR") == nil && (getenv("TERM").map { String(cString: $0) } ?? "dumb") != "dumb"
    }

    /// "busy 42% of the last minute, 1.3 ms per transaction, 0 ticks missed (0 in the last minute)", with the
    /// advice when the bus is overloaded.
    static func busLoad(_ load: BusLoadFigures) -> String {
        var text = "busy \(Int((load.utilisation * 100).rounded()))% of the last minute"
        if let ms = load.transactionMS {
            text += ", " + (ms < 10 ? String(Double(Int((ms * 10).rounded())) / 10) : String(Int(ms.rounded()))) + " ms per transaction"
        }
        text += ", \(load.transactions) transactions, \(load.timeouts) timeouts"
        text += ", \(load.missedTicks) ticks missed (\(load.missedTicksRecent) in the last minute)"
        if let advice = load.advice { text += "\n    OVERLOADED: " + advice }
        return text
    }

    static func render(_ s: StatusReply, colour: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        func counts(_ errors: [String: Int]) -> [String] { errors.keys.sorted().map { "\($0) \(errors[$0]!)" } }
        var out: [String] = []
        out.append("sitegate \(s.version) - site \(s.site), gateway \(s.gateway) - \(s.time)")
        let broker = s.broker
        // A cluster: which of its nodes is in use (or being tried).
        let which = broker.nodes.count > 1
            ? " (node \((broker.nodes.firstIndex(of: broker.url) ?? 0) + 1) of \(broker.nodes.count))" : ""
        // Older agents send no "state": their "detail" alone.
        let state = broker.state.map { "\($0): " } ?? ""
        out.append(
            "broker \(broker.url)\(which): "
                + (broker.connected
                    ? paint("connected", "32")
                    : paint("NOT CONNECTED, \(state)\(broker.detail)", "31"))
                + ", \(broker.published) polls delivered")
        let b = s.buffer.outbox
        var bufferLine = "buffer: \(b?.depth ?? 0) unsent polls"
        if let oldest = b?.oldest { bufferLine += ", oldest taken \(oldest)" }
        if let b, b.maxBytes > 0 {
            bufferLine += ", \(Int(Double(b.usedBytes) / Double(b.maxBytes) * 100))% of its size bound"
        }
        let drops = b?.drops ?? 0
        bufferLine += drops > 0 ? paint(", \(drops) dropped", "31") : ", nothing dropped"
        out.append(bufferLine)
        for bus in s.buses {
            let errors = counts(bus.errors)
            let summary = "\(bus.ok)/\(bus.devices) devices answering" + (errors.isEmpty ? "" : ", errors: \(errors.joined(separator: ", "))")
            out.append("bus \(bus.id) (\(bus.transport)): " + (bus.ok == bus.devices ? summary : paint(summary, "31")))
            if let load = bus.load {
                let text = busLoad(load)
                out.append("  " + (load.overloaded ? paint(text, "31") : text))
            }
        }
        out.append("")
        var rows = [["DEVICE", "BUS", "UNIT", "STATE", "LAST GOOD READ", "RESPONSE", "READS", "ERRORS", "MISSED"]]
        for d in s.devices {
            let h = d.health
            let errors = counts(h.errors)
            rows.append([
                d.id, d.bus, String(d.unit), h.state.rawValue + (h.backoff ? " (backoff)" : ""), h.lastGoodRead ?? "never",
                d.lastResponseMS.map { "\($0) ms" } ?? "-", String(h.readsOK),
                errors.isEmpty ? "-" : errors.joined(separator: ", "), String(h.missedTicks),
            ])
        }
        var table = Table.render(rows).split(separator: "\n").map(String.init)
        if colour {
            // Colour the state column's words after alignment, so that escape codes do not break the widths.
            table = table.map { line in
                line.replacingFirst(" ok ", with: " " + paint("ok", "32") + " ")
                    .replacingFirst(" failing", with: " " + paint("failing", "31"))
            }
        }
        out += table
        for d in s.devices where d.health.state != .ok {
            if let error = d.health.lastError { out.append("  \(d.id): \(error)") }
        }
        return out.joined(separator: "\n")
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = firstRange(of: target) else { return self }
        return String(self[..<r.lowerBound]) + replacement + String(self[r.upperBound...])
    }

    private func firstRange(of target: String) -> Range<String.Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(target) { return i..<index(i, offsetBy: target.count) }
            i = index(after: i)
        }
        return nil
    }
}
