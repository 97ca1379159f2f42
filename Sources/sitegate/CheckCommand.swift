import ArgumentParser
import SitegateCore

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a site config and the device maps it uses.",
        discussion: """
            Prints every problem as file:line:column: error: message. Exit 0 when valid, 78 when not.

            Example:
              sitegate check --config /etc/sitegate/site.yaml
            """
    )

    @OptionGroup var configOption: ConfigOption

    func run() throws {
        let config = try loadConfig(configOption.config)
        let points = config.devices.reduce(0) { sum, device in
            sum + device.groups.reduce(0) { $0 + $1.pointIDs.count }
        }
        print(
            "\(configOption.config): ok: site \(config.site.id), gateway \(config.site.gateway), "
                + "\(config.buses.count) buses, \(config.devices.count) devices, \(points) points, "
                + "\(config.maps.count) maps")
    }
}
