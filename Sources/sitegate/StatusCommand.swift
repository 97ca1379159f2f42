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

    /// Asks the running agent; exits 3 with a clear message when no agent answers.
    func ask(_ request: String) throws -> JSONValue {
        let path = socketPath
        let answer: String
        do { answer = try UnixSocket.ask(path: path, request) } catch {
            printError("error: no running agent answers on \(path) (\(error)); is sitegate running? (systemctl status sitegate)")
            throw ExitCode(3)
        }
        guard let json = JSONValue.parse(answer) else {
            printError("error: the agent sent an answer that is not JSON: \(answer.prefix(200))")
            throw ExitCode(1)
        }
        if let message = json["error"]?.string {
            printError("error: \(message)")
            throw ExitCode(1)
        }
        return json
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
        let status = try agent.ask("status")
        if json {
            print(JSONText.render(status))
        } else {
            print(StatusView.render(status, colour: StatusView.terminalSupportsColour))
        }
        if !StatusView.allGood(status) { throw ExitCode(2) }
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
            let status = try agent.ask("status")
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

    static func allGood(_ s: JSONValue) -> Bool {
        let devicesOK = (s["devices"]?.array ?? []).allSatisfy { $0["state"]?.string == "ok" }
        return devicesOK && s["broker"]?["connected"]?.bool == true
    }

    static func render(_ s: JSONValue, colour: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var out: [String] = []
        out.append("sitegate \(s["version"]?.string ?? "?") - site \(s["site"]?.string ?? "?"), gateway \(s["gateway"]?.string ?? "?") - \(s["time"]?.string ?? "")")
        let broker = s["broker"]
        let connected = broker?["connected"]?.bool == true
        // A cluster: which of its nodes is in use (or being tried).
        let url = broker?["url"]?.string ?? "?"
        let nodes = broker?["nodes"]?.array?.compactMap(\.string) ?? []
        let which = nodes.count > 1 ? " (node \((nodes.firstIndex(of: url) ?? 0) + 1) of \(nodes.count))" : ""
        // Older agents send no "state": their "detail" alone.
        let state = broker?["state"]?.string.map { "\($0): " } ?? ""
        out.append(
            "broker \(url)\(which): "
                + (connected
                    ? paint("connected", "32")
                    : paint("NOT CONNECTED, \(state)\(broker?["detail"]?.string ?? "")", "31"))
                + ", \(broker?["published"]?.int ?? 0) polls delivered")
        let b = s["buffer"]
        let depth = b?["depth"]?.int ?? 0
        var bufferLine = "buffer: \(depth) unsent polls"
        if let oldest = b?["oldest"]?.string { bufferLine += ", oldest taken \(oldest)" }
        if let used = b?["used_bytes"]?.number, let max = b?["max_bytes"]?.number, max > 0 {
            bufferLine += ", \(Int(used / max * 100))% of its size bound"
        }
        let drops = b?["drops"]?.int ?? 0
        bufferLine += drops > 0 ? paint(", \(drops) dropped", "31") : ", nothing dropped"
        out.append(bufferLine)
        for bus in s["buses"]?.array ?? [] {
            let ok = bus["ok"]?.int ?? 0, total = bus["devices"]?.int ?? 0
            let errors = (bus["errors"]?.object ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.int ?? 0)" }
            let summary = "\(ok)/\(total) devices answering" + (errors.isEmpty ? "" : ", errors: \(errors.joined(separator: ", "))")
            out.append("bus \(bus["id"]?.string ?? "?") (\(bus["transport"]?.string ?? "")): " + (ok == total ? summary : paint(summary, "31")))
        }
        out.append("")
        var rows = [["DEVICE", "BUS", "UNIT", "STATE", "LAST GOOD READ", "RESPONSE", "READS", "ERRORS", "MISSED"]]
        for d in s["devices"]?.array ?? [] {
            let state = d["state"]?.string ?? "?"
            let backoff = d["backoff"]?.bool == true
            let errors = (d["errors"]?.object ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.int ?? 0)" }
            rows.append([
                d["id"]?.string ?? "?", d["bus"]?.string ?? "", String(d["unit"]?.int ?? 0),
                state + (backoff ? " (backoff)" : ""), d["last_good_read"]?.string ?? "never",
                d["last_response_ms"]?.int.map { "\($0) ms" } ?? "-", String(d["reads_ok"]?.int ?? 0),
                errors.isEmpty ? "-" : errors.joined(separator: ", "), String(d["missed_ticks"]?.int ?? 0),
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
        for d in s["devices"]?.array ?? [] where d["last_error"]?.string != nil && d["state"]?.string != "ok" {
            out.append("  \(d["id"]?.string ?? "?"): \(d["last_error"]!.string!)")
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
