import ArgumentParser
import Logging
import ServiceLifecycle
import SitegateConfig
import SitegateCore
import SitegateSimulator
import UnixSignals

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Serve simulated meters over Modbus TCP, from device maps.",
        discussion: """
            Either name a model and unit ids, or give a site config to serve all its devices (of every bus) under their
            unit ids on one TCP port.
            Prints "listening on HOST:PORT" once ready; --port 0 picks a free port.

            Examples:
              sitegate simulate --model eastron-sdm630 --units 1,2 --port 1502
              sitegate simulate --config devicemaps/sites/demo.yaml --port 0
            """
    )

    @Option(help: "Device map id to serve (with --units).")
    var model: String?

    @Option(help: "Comma-separated unit ids to serve the model under.")
    var units: String = "1"

    @Option(help: "Serve the devices of this site config instead of --model.", completion: .file(extensions: ["yaml", "yml"]))
    var config: String?

    @Option(help: "Folder of device maps (with --model).", completion: .directory)
    var maps: String = "devicemaps/models"

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "TCP port; 0 picks a free one.")
    var port: Int = 1502

    @Flag(help: "Keep values constant (counters do not advance).")
    var frozen = false

    @Option(help: "Serve Modbus RTU on this serial device or pty instead of TCP.", completion: .file())
    var rtu: String?

    @OptionGroup var serial: SerialOptions

    @Option(help: "Fault: answer every request this late (e.g. 200ms).")
    var delay: String?

    @Option(help: "Fault: comma-separated unit ids that never answer (a dead meter).")
    var silentUnits: String?

    @Option(
        help: "Fault: reads touching these wire addresses get this exception, e.g. 0x0040-0x0045:2 (repeatable).")
    var exception: [String] = []

    @Option(help: "Fault: leave every Nth request unanswered.")
    var dropEvery: Int = 0

    @Option(help: "Fault: answer every Nth request with garbage bytes.")
    var garbageEvery: Int = 0

    @OptionGroup var logOptions: LogOptions

    func run() async throws {
        let logger = logOptions.bootstrap()
        let devices = try devicesToServe()
        let endpoint: ModbusSimulator.Endpoint
        if let rtu {
            let line = try serial.line()
            endpoint = .rtu(
                device: rtu, baud: line.baud, parity: line.parity, dataBits: line.dataBits, stopBits: line.stopBits)
        } else {
            endpoint = .tcp(host: host, port: port)
        }
        let simulator = try ModbusSimulator(
            endpoint: endpoint, devices: devices, faults: try faults(), frozen: frozen, logger: logger)
        printFlushed(rtu.map { "serving \($0)" } ?? "listening on \(host):\(simulator.port)")
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: SimulatorService(simulator: simulator))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    private func faults() throws -> SimulatorFaults {
        var faults = SimulatorFaults()
        if let delay {
            guard let d = DurationNotation.parse(delay) else { throw ValidationError("--delay must be a duration like 200ms") }
            faults.responseDelay = d
        }
        if let silentUnits {
            faults.silentUnits = Set(silentUnits.split(separator: ",").compactMap { Int($0) })
        }
        for rule in exception {
            guard let parsed = SimulatorFaults.ExceptionRule(rule) else {
                throw ValidationError("--exception must look like 0x0040-0x0045:2 (addresses, then an exception code 1-11)")
            }
            faults.exceptions.append(parsed)
        }
        faults.dropEvery = dropEvery
        faults.garbageEvery = garbageEvery
        return faults
    }

    private func devicesToServe() throws -> [ModbusSimulator.Device] {
        if let config {
            let site = try loadConfig(config)
            return site.devices.compactMap { d in site.maps[d.model].map { .init(unit: d.unit, map: $0) } }
        }
        guard let model else {
            throw ValidationError("give --model MODEL or --config FILE")
        }
        let library = MapLibrary(searchPaths: [maps])
        let map: DeviceMap
        switch library.load(model) {
        case .found(let m, _): map = m
        case .invalid(let diagnostics):
            for d in diagnostics { printError(d.description) }
            throw ExitCode(ConfigurationError.exitCode)
        case .notFound:
            throw ValidationError("no device map '\(model)' in \(maps)")
        }
        let unitIDs = units.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: " ")) }
        guard !unitIDs.isEmpty, unitIDs.allSatisfy({ (0...255).contains($0) }) else {
            throw ValidationError("--units must be a comma-separated list of unit ids 0-255")
        }
        return unitIDs.map { .init(unit: $0, map: map) }
    }
}

/// Keeps the simulator serving until shutdown.
struct SimulatorService: Service {
    let simulator: ModbusSimulator

    func run() async throws {
        try? await gracefulShutdown()
        simulator.stop()
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(self.drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
