import ArgumentParser
import SitegateAgent
import SitegateCore
import SitegateCrypto

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The per-slot account of a capture: MEASURED, ESTIMATED, MISSING or INVALID per counter point, the energy, and why.",
        discussion: """
            For every device and UTC-aligned slot, each counter point (from the retained meta in the capture, or
            --counters) gets a status, the slot's energy or volume interpolated from the cumulative register at the
            slot's boundaries, the messages received against those the checkpoint counts, and the reasons for what is
            missing: failed polls, missed ticks, gap notices, messages lost. The rules are in docs/evidence.md
            ("Auditing a capture"). Exit 0 when the capture could be read, 1 when not.

            With --repair and --config, every undeclared hole of the config's gateway (messages lost after the
            gateway) is first asked for again (docs/evidence.md, "Replay"); what arrives is appended to the capture,
            which is then verified and audited again. Holes declared by gap notices are not asked for: they are gone
            by the gateway's own word. The repair report goes before a table, to standard error with csv or json.
            Exit 0 when nothing the gateway still holds is missing, 1 otherwise.

            Example:
              sitegate audit capture.ndjson --slot 15m --format csv > gw01.csv
              sitegate audit capture.ndjson --repair --config /etc/sitegate/site.yaml --keys gw01.keys
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
    @Flag(help: "Ask the gateway (through the broker of --config) for the holes first, and append them to the capture.")
    var repair = false
    @Option(name: [.short, .long], help: "The site config (with --repair): broker and gateway to ask.", completion: .file(extensions: ["yaml", "yml"]))
    var config: String?
    @Option(help: "With --repair: how long to wait for each request's answer.") var timeout: String = "120s"

    func validate() throws {
        if !repair && config != nil { throw ValidationError("--config is for --repair (the audit itself needs only the capture)") }
    }

    func run() async throws {
        let duration = try parseDuration(slot, option: "--slot")
        let (seconds, rest) = duration.components
        guard rest == 0, seconds > 0, 86_400 % seconds == 0 else {
            throw ValidationError("--slot must be whole seconds that divide a day, such as 15m or 1h")
        }
        let crypto = LibCrypto()
        let keysFile = try keys.map { try readKeys($0, crypto: crypto) }
        let verifier = CaptureVerifier(crypto: crypto, keys: keysFile)
        let names = counters?.split(separator: ",").map { String($0) }
        let options = CaptureAudit.Options(slotSeconds: seconds, counters: names)
        let audit: CaptureAudit
        var complete = true
        if repair {
            guard let config, capture != "-" else { throw ValidationError("--repair needs --config and a capture file (not -)") }
            let site = try loadConfig(config)
            let wait = try parseDuration(timeout, option: "--timeout")
            let outcome: CaptureRepair.Outcome
            do {
                outcome = try await CaptureRepair.run(capture: capture, config: site, verifier: verifier, timeout: wait)
            } catch {
                printError(error.description)
                throw ExitCode(1)
            }
            for line in RepairReport(outcome).lines {
                if format == .table { print(line) } else { printError(line) }
            }
            if format == .table { print("") }
            audit = CaptureAudit(lines: outcome.lines, verification: outcome.verification, options: options)
            complete = outcome.isComplete
        } else {
            let lines = try readCapture(capture)
            audit = CaptureAudit(lines: lines, verification: verifier.verify(lines), options: options)
        }
        switch format {
        case .table: for line in audit.table { print(line) }
        case .csv: for line in audit.csv { print(line) }
        case .json: print(audit.json)
        }
        if !complete { throw ExitCode(1) }
    }
}
