import ArgumentParser
import SitegateCore

/// Where `raw` and `scan` talk: a Modbus TCP endpoint or a serial line, independent of any config.
struct BusOptions: ParsableArguments {
    @Option(help: "Modbus TCP endpoint: HOST or HOST:PORT (default port 502).")
    var tcp: String?

    @Option(help: "Serial device for Modbus RTU, e.g. /dev/ttyUSB0.", completion: .file())
    var rtu: String?

    @Option(help: "RTU baud rate.") var baud: Int = 9600
    @Option(help: "RTU parity: none, even, odd.") var parity: String = "none"
    @Option(help: "RTU data bits.") var dataBits: Int = 8
    @Option(help: "RTU stop bits.") var stopBits: Int = 1

    func busConfig(timeout: Duration) throws -> BusConfig {
        switch (tcp, rtu) {
        case (let endpoint?, nil):
            let parts = endpoint.split(separator: ":")
            guard (1...2).contains(parts.count), let port = parts.count == 2 ? Int(parts[1]) : 502, (1...65535).contains(port)
            else { throw ValidationError("--tcp must be HOST or HOST:PORT") }
            return BusConfig(id: "cli", transport: .tcp(host: String(parts[0]), port: port), responseTimeout: timeout)
        case (nil, let device?):
            guard let p = Parity(rawValue: parity) else { throw ValidationError("--parity must be none, even or odd") }
            return BusConfig(
                id: "cli", transport: .rtu(device: device, baud: baud, parity: p, dataBits: dataBits, stopBits: stopBits),
                responseTimeout: timeout)
        default:
            throw ValidationError("give either --tcp HOST[:PORT] or --rtu DEVICE")
        }
    }
}

func parseDuration(_ text: String, option: String) throws -> Duration {
    guard let d = DurationNotation.parse(text) else { throw ValidationError("\(option) must be a duration such as 500ms or 2s") }
    return d
}
