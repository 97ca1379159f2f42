import ArgumentParser
import SitegateConfig
import SitegateCore
import SitegateModbus

#if canImport(Glibc)
import Glibc
#endif

struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Find the unit ids that answer on a bus and guess their meter model from the map library.",
        discussion: """
            Each unit id gets one short probe (--timeout); a device that answers, even with an exception, is
            there. Known models are recognised by reading each map's first registers and checking that the values
            look like what the map says (a voltage near 230 V, a frequency near 50 Hz, ...).

            With --write-config FILE it also writes a draft site config for what it found: the bus, one device per
            unit id with its guessed model, every device polled at --interval, and a CHECK comment wherever the scan
            could only guess (a unit that matches no map is written commented out). It never replaces an existing
            file unless --force is given.

            Examples:
              sitegate scan --rtu /dev/ttyUSB0 --baud 9600
              sitegate scan --tcp 10.20.0.15:502 --units 1-60 --timeout 300ms
              sitegate scan --rtu /dev/ttyUSB0 --units 1-30 --write-config /etc/sitegate/site.yaml
            """
    )

    @OptionGroup var bus: BusOptions
    @Option(help: "Unit ids to try: a range like 1-247, or a list like 1,2,10.") var units: String = "1-247"
    @Option(help: "How long to wait for each unit id.") var timeout: String = "200ms"
    @Option(
        name: .customLong("maps"), help: "Folder of device maps used to recognise models (repeatable).",
        completion: .directory)
    var maps: [String] = []
    @Option(
        help: "Also write a draft site config for what was found to this file.",
        completion: .file(extensions: ["yaml", "yml"]))
    var writeConfig: String?
    @Flag(help: "With --write-config: replace the file if it exists.") var force = false
    @Option(help: "With --write-config: the polling interval of every device.") var interval: String = "15m"

    func run() async throws {
        let ids = try parseUnits(units)
        let perUnit = try parseDuration(timeout, option: "--timeout")
        let config = try bus.busConfig(timeout: perUnit)
        if let writeConfig {
            _ = try parseDuration(interval, option: "--interval")
            // Before a scan of minutes, not after it.
            if !force && TextFile.exists(writeConfig) {
                throw ValidationError("\(writeConfig) exists; give --force to replace it, or another file name")
            }
        }
        let folders = maps.isEmpty ? ["devicemaps/models", "/usr/share/sitegate/devicemaps/models"] : maps
        let library = MapLibrary(searchPaths: folders)
        let candidates = library.availableModels().compactMap { model -> DeviceMap? in
            if case .found(let m, _) = library.load(model) { return m }
            return nil
        }
        let modbus = ModbusBus(config: config)
        defer { modbus.shutdown() }
        var found: [(unit: Int, guess: ModelGuess?)] = []
        let started = SystemWallClock().now()
        // A bus that cannot even be opened makes every id look silent: say that instead of blaming the wiring.
        let opened: ModbusError? = try await modbus.withConnection { t -> ModbusError? in
            do {
                _ = try t.read(unit: ids[0], function: .holding, address: 0, count: 1)
                return nil
            } catch let error as ModbusError {
                if case .connectionFailed = error { return error }
                return nil
            } catch {
                return nil
            }
        }
        if let opened {
            printError("error: cannot reach the bus: \(opened)")
            throw ExitCode(1)
        }
        for (n, unit) in ids.enumerated() {
            let present = try await modbus.withConnection { t in Self.probe(unit: unit, on: t) }
            if present {
                let guess = try await modbus.withConnection { t in
                    ModelGuess.best(candidates: candidates) { request in
                        try? t.read(unit: unit, function: request.function, address: request.address, count: request.count).registers
                    }
                }
                found.append((unit, guess))
            }
            progress(done: n + 1, of: ids.count, found: found.count, since: started)
        }
        printError("")
        if found.isEmpty {
            print("no device answered on unit ids \(units); check wiring (A/B swapped?), baud rate, parity and termination")
            throw ExitCode(2)
        }
        var rows = [["UNIT", "MODEL", "MATCH", "SAMPLE"]]
        for f in found {
            rows.append([
                String(f.unit), f.guess?.map.id ?? "unknown", f.guess.map { "\($0.plausible)/\($0.checked) values plausible" } ?? "-",
                f.guess?.sample ?? "",
            ])
        }
        print(Table.render(rows))
        if let writeConfig {
            let units = found.map { f in
                DraftSiteConfig.Unit(
                    unit: f.unit, model: f.guess?.map.id, plausible: f.guess?.plausible ?? 0,
                    checked: f.guess?.checked ?? 0, sample: f.guess?.sample ?? "", alsoFits: f.guess?.alsoFits ?? [])
            }
            // Absolute: the config may be moved to /etc/sitegate, and relative folders count from its own folder.
            let cwd = currentDirectory()
            let draft = DraftSiteConfig(
                transport: config.transport, units: units,
                mapFolders: folders.filter(TextFile.isDirectory).map { TextFile.resolve($0, relativeTo: cwd) },
                interval: interval, scannedAt: started)
            try writeDraft(draft.render(), to: writeConfig)
            let unknown = draft.units.filter { $0.model == nil }.count
            let weak = draft.units.filter(\.isWeak).count
            print(
                "wrote \(writeConfig): \(draft.units.count - unknown) devices polled every \(interval)"
                    + (weak > 0 ? ", \(weak) weak guesses" : "") + (unknown > 0 ? ", \(unknown) unknown (commented out)" : "")
                    + "; edit the lines marked CHECK, then: sitegate check -c \(writeConfig)")
        }
    }

    /// Creates the file; without --force only if it does not exist yet (O_EXCL: also when it appeared meanwhile).
    private func writeDraft(_ text: String, to path: String) throws {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL)
        let fd = open(path, flags, 0o644)
        if fd < 0 {
            let why = String(cString: strerror(errno))
            printError("error: cannot write \(path): \(why)" + (errno == EEXIST ? " (give --force to replace it)" : ""))
            throw ExitCode(1)
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            printError("error: cannot write \(path): \(String(cString: strerror(errno)))")
            throw ExitCode(1)
        }
    }

    private func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        return getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
    }

    /// A unit is there when it answers at all; a gateway's "target failed to respond" means it is not.
    static func probe(unit: Int, on t: ModbusTransaction) -> Bool {
        for function in [RegisterFunction.holding, .input] {
            do {
                _ = try t.read(unit: unit, function: function, address: 0, count: 1)
                return true
            } catch .exception(let code) {
                return ScanPolicy.exceptionMeansPresent(code: code.rawValue)
            } catch {
                continue
            }
        }
        return false
    }

    private func parseUnits(_ text: String) throws -> [Int] {
        do { return try ScanPolicy.unitIDs(text) } catch { throw ValidationError(error.description) }
    }

    private func progress(done: Int, of total: Int, found: Int, since start: UnixTime) {
        let width = 30
        let filled = width * done / total
        let elapsed = Double((SystemWallClock().now() - start).milliseconds) / 1000
        let left = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\r[\(bar)] \(done)/\(total) unit ids, \(found) found, about \(Int(left.rounded())) s left "
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
