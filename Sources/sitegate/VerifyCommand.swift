import ArgumentParser
import SitegateAgent
import SitegateConfig
import SitegateCore
import SitegateCrypto

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a capture of `sitegate record`: form, signatures, keys, duplicates, chain and gaps.",
        discussion: """
            The rules and exit codes are in docs/evidence.md ("Verifying a capture"): 0 verified, 10 undeclared gap
            (messages lost after the gateway), 11 malformed message, 12 broken chain link, 13 key error, 14 bad
            signature, 15 equivocation (the highest class found wins); 1 when the capture or the keys file cannot be
            read. Without --keys only form and chain are checked, and the report says signatures were not.

            Example:
              sitegate verify capture.ndjson --keys gw01.keys
            """
    )

    @Argument(help: "The capture (NDJSON from `sitegate record`; - for standard input).", completion: .file())
    var capture: String

    @Option(help: "The keys file: one `ed25519 PUBLIC-KEY [from=TIME] [until=TIME]` per line.", completion: .file())
    var keys: String?

    @Flag(help: "One JSON object instead of the text report.") var json = false

    func run() throws {
        let crypto = LibCrypto()
        let keysFile = try keys.map { try readKeys($0, crypto: crypto) }
        let lines = try readCapture(capture)
        let report = CaptureVerifier(crypto: crypto, keys: keysFile).verify(lines).report
        if json { print(report.json) } else { for line in report.lines { print(line) } }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}

/// The capture's lines; exit 1 when it cannot be read.
func readCapture(_ path: String) throws -> [CaptureRecord] {
    do { return try CaptureFile.read(path) } catch {
        printError(error.description)
        throw ExitCode(1)
    }
}

/// The trusted keys; exit 1 with every problem when the file cannot be read or has errors.
func readKeys(_ path: String, crypto: LibCrypto) throws -> KeysFile {
    do {
        return try KeysFile.parse(try TextFile.read(path), file: path, crypto: crypto)
    } catch let error as ConfigurationError {
        for diagnostic in error.diagnostics { printError(diagnostic.description) }
    } catch {
        printError("\(error)")
    }
    throw ExitCode(1)
}
