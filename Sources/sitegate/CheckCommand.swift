import ArgumentParser
import SitegateConfig
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
        for path in SigningKeys.unreadableFiles(config.signing) {
            printError(
                "note: signing key \(path) not checked: this user may not read it "
                    + "(run `sitegate check` as root or as the agent's user to check it)")
        }
        let points = config.devices.reduce(0) { sum, device in
            sum + device.groups.reduce(0) { $0 + $1.pointIDs.count }
        }
        print(
            "\(configOption.config): ok: site \(config.site.id), gateway \(config.site.gateway), "
                + "\(config.buses.count) buses, \(config.devices.count) devices, \(points) points, "
                + "\(config.maps.count) maps")
    }
}
