import ArgumentParser
import SitegateAgent
import SitegateBuffer
import SitegateConfig
import SitegateCore
import SitegateModbus
import SitegateMQTT

#if canImport(Glibc)
import Glibc
#endif

struct SupportBundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "support-bundle",
        abstract: "Collect what support needs into one archive: config, maps, versions, status, buffer, logs.",
        discussion: """
            Secrets are never in the config (only file references), and the files they point to are not collected.

            Example:
              sitegate support-bundle --output /tmp/site-support.tar.gz
            """
    )

    @OptionGroup var agent: AgentSocketOptions
    @Option(help: "Where to write the archive (.tar.gz).") var output: String = "sitegate-support.tar.gz"

    func run() async throws {
        var template = Array("/tmp/sitegate-support.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ValidationError("cannot create a temporary folder") }
        let dir = String(cString: made)
        var notes: [String] = []

        // The config, as written, and what validation says about it.
        if let text = try? TextFile.read(agent.config) {
            try write("\(dir)/site.yaml", text)
        } else {
            notes.append("config \(agent.config) could not be read")
        }
        var config: SiteConfig? = nil
        do {
            let loaded = try SiteConfigLoader.load(path: agent.config)
            config = loaded.config
            try write("\(dir)/check.txt", (["ok"] + loaded.warnings.map(\.description)).joined(separator: "\n") + "\n")
        } catch let error as ConfigurationError {
            try write("\(dir)/check.txt", error.description + "\n")
        }
        if let config {
            try? mkdirs("\(dir)/maps")
            for map in config.maps.values {
                if let text = try? TextFile.read(map.path) { try write("\(dir)/maps/\(map.id).yaml", text) }
            }
        }
        try write("\(dir)/versions.txt", versions())

        // The running agent's view, if one runs.
        if let status = try? agent.client.ask("status") {
            try write("\(dir)/status.json", status + "\n")
        } else {
            notes.append("no running agent answered on \(agent.socketPath)")
        }
        if let config, !TextFile.exists(config.buffer.path) {
            notes.append("no buffer at \(config.buffer.path)")
        } else if let config {
            do {
                let outbox = try await Outbox(
                    sealing: OutboxSealing(siteID: config.site.id, gatewayID: config.site.gateway), settings: config.buffer)
                let s = try await outbox.stats()
                let check = try await outbox.integrityCheck()
                outbox.close()
                try write(
                    "\(dir)/buffer.txt",
                    """
                    path: \(config.buffer.path)
                    unsent polls: \(s.depth)
                    oldest unsent: \(s.oldestTakenAt.map { "\($0)" } ?? "-")
                    last seq: \(s.lastSeq)
                    used bytes: \(s.usedBytes) of \(s.maxBytes); file bytes: \(s.fileBytes)
                    dropped: \(s.drops.count) (\(s.drops.oldest.map { "\($0)" } ?? "-") to \(s.drops.newest.map { "\($0)" } ?? "-"))
                    integrity: \(check)

                    """)
            } catch {
                notes.append("buffer: \(error)")
            }
        }
        // Recent logs from the journal, when there is one.
        let journal = ProcessRunner.run(["journalctl", "-u", "sitegate", "-n", "5000", "--no-pager", "-o", "short-iso"])
        if journal.status == 0 {
            try write("\(dir)/journal.txt", journal.output)
        } else {
            notes.append("no journal logs (journalctl: \(journal.output.prefix(200)))")
        }
        try write("\(dir)/notes.txt", (notes.isEmpty ? ["nothing missing"] : notes).joined(separator: "\n") + "\n")

        let tar = ProcessRunner.run(["tar", "-czf", output, "-C", dir, "."])
        _ = ProcessRunner.run(["rm", "-rf", dir])
        guard tar.status == 0 else {
            printError("error: tar failed: \(tar.output)")
            throw ExitCode(1)
        }
        print("wrote \(output)")
        for note in notes { print("note: \(note)") }
    }

    private func versions() -> String {
        var lines = ["sitegate \(SitegateVersion.current)"]
        lines.append("libmodbus \(ModbusLibrary.version)")
        lines.append("libmosquitto \(MosquittoLibrary.version)")
        lines.append("sqlite \(SQLiteLibrary.version)")
        var u = utsname()
        uname(&u)
        let field = { (t: Any) -> String in
            withUnsafeBytes(of: t) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        lines.append("kernel \(field(u.sysname)) \(field(u.release)) \(field(u.machine))")
        if let release = try? TextFile.read("/etc/os-release"),
            let pretty = release.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") })
        {
            lines.append("os \(pretty.dropFirst(12).filter { $0 != "\"" })")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func write(_ path: String, _ text: String) throws {
        guard let f = fopen(path, "wb") else { throw ValidationError("cannot write \(path)") }
        defer { fclose(f) }
        let bytes = Array(text.utf8)
        _ = fwrite(bytes, 1, bytes.count, f)
    }

    private func mkdirs(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw ValidationError("cannot create \(path)") }
    }
}
