import ArgumentParser
import SitegateCore
import SitegateCrypto

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The per-slot account of a capture: MEASURED, ESTIMATED, MISSING or INVALID per counter point, the energy, and why.",
        discussion: """
            For every device and UTC-aligned slot, each counter point (from the retained meta in the capture, or
            --counters) gets a status, the slot's energy or volume interpolated from the cumulative register at the
            slot's boundaries, the messages received against those the checkpoint counts, and the reasons for what is
            missing: failed polls, missed ticks, gap notices, messages lost. The rules are in docs/evidence.md
            ("Auditing a capture"). Exit 0 when the capture could be read, 1 when not.

            Example:
              sitegate audit capture.ndjson --slot 15m --format csv > gw01.csv
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, json }

    @Argument(help: "The capture (NDJSON from `sitegate record`; - for standard input).", completion: .file())
    var capture: String

    @Option(help: "The slot length, dividing a day (UTC-aligned).") var slot: String = "15m"
    @Option(help: "Output: table, csv or json.") var format: Format = .table
    @Option(help: "Counter points to account for, comma-separated, instead of the meta's `counter` points.")
    var counters: String?
    @Option(help: "A keys file: signatures are checked too (see `verify`).", completion: .file()) var keys: String?

    func run() throws {
        let duration = try parseDuration(slot, option: "--slot")
        let (seconds, rest) = duration.components
        guard rest == 0, seconds > 0, 86_400 % seconds == 0 else {
            throw ValidationError("--slot must be whole seconds that divide a day, such as 15m or 1h")
        }
        let crypto = LibCrypto()
        let keysFile = try keys.map { try readKeys($0, crypto: crypto) }
        let lines = try readCapture(capture)
        let names = counters?.split(separator: ",").map { String($0) }
        let audit = CaptureAudit(
            lines: lines, verification: CaptureVerifier(crypto: crypto, keys: keysFile).verify(lines),
            options: .init(slotSeconds: seconds, counters: names))
        switch format {
        case .table: for line in audit.table { print(line) }
        case .csv: for line in audit.csv { print(line) }
        case .json: print(audit.json)
        }
    }
}
