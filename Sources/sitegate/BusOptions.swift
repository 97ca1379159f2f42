import ArgumentParser
import SitegateCore

/// Where `raw` and `scan` talk: a Modbus TCP endpoint or a serial line, independent of any config.
struct BusOptions: ParsableArguments {
    @Option(help: "Modbus TCP endpoint: HOST or HOST:PORT (default port 502).")
    var tcp: String?

    @Option(help: "Serial device for Modbus RTU, e.g. /dev/ttyUSB0.", completion: .file())
    var rtu: String?

    @OptionGroup var serial: SerialOptions

    func busConfig(timeout: Duration) throws -> BusConfig {
        switch (tcp, rtu) {
        case (let endpoint?, nil):
            let parts = endpoint.split(separator: ":")
            guard (1...2).contains(parts.count), let port = parts.count == 2 ? Int(parts[1]) : 502, (1...65535).contains(port)
            else { throw ValidationError("--tcp must be HOST or HOST:PORT") }
            return BusConfig(id: "cli", transport: .tcp(host: String(parts[0]), port: port), responseTimeout: timeout)
        case (nil, let device?):
            let line = try serial.line()
            return BusConfig(
                id: "cli",
                transport: .rtu(
                    device: device, baud: line.baud, parity: line.parity, dataBits: line.dataBits, stopBits: line.stopBits),
                responseTimeout: timeout)
        default:
            throw ValidationError("give either --tcp HOST[:PORT] or --rtu DEVICE")
        }
    }
}

/// The framing of a serial line (`--rtu`): for the commands that talk Modbus RTU and for `simulate`, which serves it.
struct SerialOptions: ParsableArguments {
    @Option(help: "RTU baud rate.") var baud: Int = 9600
    @Option(help: "RTU parity: none, even, odd.") var parity: String = "none"
    @Option(help: "RTU data bits.") var dataBits: Int = 8
    @Option(help: "RTU stop bits.") var stopBits: Int = 1

    /// The options checked: the parity is one libmodbus knows.
    func line() throws -> (baud: Int, parity: Parity, dataBits: Int, stopBits: Int) {
        guard let p = Parity(rawValue: parity) else { throw ValidationError("--parity must be none, even or odd") }
        return (baud, p, dataBits, stopBits)
    }
}

func parseDuration(_ text: String, option: String) throws -> Duration {
    guard let d = DurationNotation.parse(text) else { throw ValidationError("\(option) must be a duration such as 500ms or 2s") }
    return d
}
