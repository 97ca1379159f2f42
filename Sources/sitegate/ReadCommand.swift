import ArgumentParser
import SitegateAgent
import SitegateConfig
import SitegateCore
import SitegateModbus

struct ReadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Poll one configured device once and show every point: raw registers, value, unit, status.",
        discussion: """
            While the agent runs, the read goes through the agent (its bus thread), so it never collides with the
            agent's own polls on a serial line. Without a running agent it reads the bus directly.
            A value outside its point's plausible range (`range` in the device map) is marked "out of range" and
            warned about; the exit status stays 0 for it.

            Examples:
              sitegate read main-incomer
              sitegate read main-incomer --json
            """
    )

    @Argument(
        help: "The device id from the site config.",
        completion: .custom { words, index, _ in
            ShellCompletion.deviceIDs(words: words, prefix: ShellCompletion.currentWord(words, index: index))
        })
    var device: String
    @OptionGroup var agent: AgentSocketOptions
    @Flag(help: "Print JSON for scripts.") var json = false

    func run() async throws {
        let report: ReadReport
        do {
            report = try agent.client.read(device: device)
            if !json { printError("(read through the running agent)") }
        } catch .unreachable {
            report = try await readDirectly()
            if !json { printError("(no running agent on \(agent.socketPath): read the bus directly)") }
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        if json {
            print(report.json)
            return
        }
        print("\(report.device): \(report.model), unit \(report.unit) on bus \(report.bus), taken \(report.takenAt ?? "-"), \(report.transactions) transactions")
        var rows = [["POINT", "ADDRESS", "RAW", "VALUE", "UNIT", "STATUS"]]
        var warnings: [String] = []
        for p in report.points {
            let value = p.value.map(RawReport.formatFloat) ?? p.text ?? ""
            rows.append([
                p.id, Hex.address(p.address), p.raw ?? "", value, p.unit ?? "",
                p.status + (p.outOfRange ? ", out of range" : ""),
            ])
            if p.outOfRange, let range = p.range {
                let unit = p.unit.map { " \($0)" } ?? ""
                warnings.append(
                    "warning: \(p.id) = \(value)\(unit) is outside its plausible range "
                        + "\(RawReport.formatFloat(range.lowerBound))...\(RawReport.formatFloat(range.upperBound))\(unit) "
                        + "(device map): check word order, scale and the map against the meter's display")
            }
        }
        print(Table.render(rows))
        for w in warnings { print(w) }
        let errors = report.errors
        for e in errors { print("error: \(e)") }
        if !errors.isEmpty { throw ExitCode(2) }
    }

    private func readDirectly() async throws -> ReadReport {
        let config = try loadConfig(agent.config)
        guard let d = config.device(device), let map = config.maps[d.model], let busConfig = config.bus(d.busID) else {
            throw ValidationError("no device '\(device)' in \(agent.config)")
        }
        let ids = d.configuredPoints(in: map)
        let plan = DevicePlan(device: d, map: map, pointIDs: ids)
        let bus = ModbusBus(config: busConfig)
        defer { bus.shutdown() }
        let outcome = try await bus.withConnection { DeviceReader.read(plan, on: $0, keepRaw: true) }
        if case .connectionFailed(let why)? = outcome.errors.first, case .rtu(let port, _, _, _, _) = busConfig.transport {
            printError("error: cannot open \(port): \(why) (is another program using the port?)")
            throw ExitCode(1)
        }
        return ReadReport(device: d, map: map, plan: plan, outcome: outcome)
    }
}
