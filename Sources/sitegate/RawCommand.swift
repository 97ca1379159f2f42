import ArgumentParser
import SitegateCore
import SitegateModbus

struct RawCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raw",
        abstract: "Read registers and show every way to decode them, side by side.",
        discussion: """
            Addresses are wire addresses (72 or 0x0048) or register numbers from a manual (30073, 40001, 300053);
            the conversion is printed. Decodings that look like a meter value are marked with *, floats and
            integers alike (docs/field-guide.md says the rules): compare them with the meter's display to find the
            type and word order for a device map.

            Examples:
              sitegate raw --tcp 192.168.1.50 --unit 1 --address 30073 --count 4
              sitegate raw --rtu /dev/ttyUSB0 --baud 9600 --unit 3 --function 4 --address 0x0000 --count 6
            """
    )

    @OptionGroup var bus: BusOptions

    @Option(help: "Unit id (slave address), 0-255.") var unit: Int = 1
    @Option(help: "Function code: 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers.")
    var function: Int?
    @Option(help: "First address: wire address or register number.") var address: String
    @Option(help: "How many registers or bits, 1-125.") var count: Int = 2
    @Flag(help: "Take a 5- or 6-digit address as a wire address, not a register number.") var wire = false
    @Option(help: "Response timeout.") var timeout: String = "1s"
    @Flag(help: "Print JSON for scripts.") var json = false

    func run() async throws {
        let requested: RegisterFunction? = try function.map { code in
            guard let f = RegisterFunction.allCases.first(where: { Int($0.functionCode) == code }) else {
                throw ValidationError("--function must be 1, 2, 3 or 4")
            }
            return f
        }
        guard (1...125).contains(count), (0...255).contains(unit) else {
            throw ValidationError("--count must be 1-125 and --unit 0-255")
        }
        let parsed: RegisterAddress
        switch RegisterAddress.parse(address, function: requested, forceWire: wire) {
        case .success(let a): parsed = a
        case .failure(let e): throw ValidationError(e.description)
        }
        guard parsed.wire + count <= 65536 else { throw ValidationError("the read runs past address 0xFFFF") }
        let config = try bus.busConfig(timeout: try parseDuration(timeout, option: "--timeout"))
        let modbus = ModbusBus(config: config)
        defer { modbus.shutdown() }
        let unit = self.unit, count = self.count
        let result: [UInt16]
        do {
            result = try await modbus.withConnection { t in
                try t.read(unit: unit, function: parsed.function, address: parsed.wire, count: count).registers
            }
        } catch let error as ModbusError {
            printError("error: \(error) (\(parsed.function.rawValue) registers, function \(parsed.function.functionCode))")
            throw ExitCode(1)
        }
        if json {
            print(RawRegisterReport(unit: unit, address: parsed, registers: result).json)
        } else {
            print(RawReport.text(unit: unit, address: parsed, registers: result))
        }
    }
}

/// The tables `sitegate raw` prints.
enum RawReport {
    static func text(unit: Int, address: RegisterAddress, registers: [UInt16]) -> String {
        let f = address.function
        var lines = [
            "unit \(unit), \(f.rawValue) (function \(f.functionCode)), \(address.explanation), \(registers.count) "
                + (registers.count == 1 ? "value" : "values")
        ]
        if f == .coil || f == .discrete {
            lines.append(registers.enumerated().map { "\(Hex.address(address.wire + $0.offset)): \($0.element)" }.joined(separator: "\n"))
            return lines.joined(separator: "\n")
        }
        var rows = [["ADDRESS", "REGISTER", "HEX", "U16", "I16"]]
        for (i, w) in registers.enumerated() {
            let a = address.wire + i
            rows.append([
                Hex.address(a), Modicon.number(a, f), Hex.word(w), String(w), String(Int16(bitPattern: w)),
            ])
        }
        lines.append(Table.render(rows))
        let sections: [(title: String, bits: Int, rows: [RawDecodings.Wide])] = [
            ("32-bit values (ABCD = most significant register first; * = looks like a meter value, float or integer):", 32,
             RawDecodings.thirtyTwo(registers)),
            ("64-bit values:", 64, RawDecodings.sixtyFour(registers)),
        ]
        for section in sections where !section.rows.isEmpty {
            lines.append("")
            lines.append(section.title)
            var rows = [["ADDRESS", "ORDER", "HEX", "U\(section.bits)", "I\(section.bits)", "F\(section.bits)"]]
            for d in section.rows {
                // A plausible integer is marked in the column that shows it: I32 when negative, else U32.
                let markUnsigned = d.plausibleInteger && d.signed >= 0
                let markSigned = d.plausibleInteger && d.signed < 0
                rows.append([
                    Hex.address(address.wire + d.offset), d.order.rawValue, d.hex,
                    String(d.unsigned) + (markUnsigned ? " *" : ""), String(d.signed) + (markSigned ? " *" : ""),
                    formatFloat(d.float) + (d.plausible ? " *" : ""),
                ])
            }
            lines.append(Table.render(rows))
        }
        return lines.joined(separator: "\n")
    }

    static func formatFloat(_ v: Double) -> String { NumberDisplay.shortest(v) }
}
