import ArgumentParser
import SitegateCore

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show each device's Modbus transactions and the estimated bus time per cycle.",
        discussion: """
            Estimates use the RTU timing model (character times, a 40 ms device turnaround, the idle gap the map
            and bus ask for); TCP assumes a 5 ms round trip, plus the maps' min_delay behind a TCP-to-RTU gateway
            (rtu_gateway: true). On RTU lines the share the frames alone need is shown too: above 100% no meter can
            keep up. `sitegate status` shows the measured figures of a running agent.

            A park's config prints a table row per device: --summary prints only each bus's line, --bus ID only
            that bus.

            Examples:
              sitegate plan --config /etc/sitegate/site.yaml
              sitegate plan --config /etc/sitegate/site.yaml --summary
              sitegate plan --config /etc/sitegate/site.yaml --bus rs485-a
            """
    )

    @OptionGroup var configOption: ConfigOption

    @Flag(help: "Only each bus's line: transport, estimated share of bus time, devices.")
    var summary = false

    @Option(help: "Only this bus (its id in the config).")
    var bus: String?

    func run() throws {
        let config = try loadConfig(configOption.config)
        var buses = config.buses
        if let bus {
            buses = buses.filter { $0.id == bus }
            guard !buses.isEmpty else {
                throw ValidationError(
                    "no bus '\(bus)' in \(configOption.config); its buses: \(config.buses.map(\.id).joined(separator: ", "))")
            }
        }
        for bus in buses {
            let load = BusLoad(bus: bus, config: config)
            var line = "bus \(bus.id) (\(describe(bus))): about \(Int((load.utilisation * 100).rounded()))% of bus time"
            if case .rtu = bus.transport {
                line += " (frames alone \(Int((load.wireUtilisation * 100).rounded()))%)"
            }
            let devices = Set(load.entries.map(\.deviceID)).count
            line += ", \(devices) device\(devices == 1 ? "" : "s")"
            print(line)
            if summary { continue }
            var rows: [[String]] = [["DEVICE", "GROUP", "UNIT", "POINTS", "READS", "TRANSACTIONS", "BUS TIME", "INTERVAL"]]
            for e in load.entries {
                let reads = e.plan.requests.map { "\($0.function.rawValue) \(Hex.address($0.address))+\($0.count)" }
                rows.append([
                    e.deviceID, e.group, String(e.plan.unit), String(e.plan.points.count), reads.joined(separator: ", "),
                    String(e.plan.requests.count), "\(Int((e.pollTime * 1000).rounded())) ms",
                    DurationNotation.format(e.interval),
                ])
            }
            print(Table.render(rows).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        }
    }

    private func describe(_ bus: BusConfig) -> String {
        switch bus.transport {
        case .tcp(let host, let port): "tcp \(host):\(port)" + (bus.rtuGateway ? ", RTU gateway" : "")
        case .rtu(let device, let baud, let parity, let dataBits, let stopBits):
            "rtu \(device) \(baud) \(dataBits)\(parity.rawValue.prefix(1).uppercased())\(stopBits)"
        }
    }
}
