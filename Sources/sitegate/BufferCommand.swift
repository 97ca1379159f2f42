import ArgumentParser
import SitegateBuffer
import SitegateConfig
import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

struct BufferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "buffer",
        abstract: "Inspect, export or purge the local buffer of unsent readings.",
        subcommands: [Stats.self, Export.self, Purge.self, Check.self]
    )

    /// Runs `body` on the buffer named by the site config (it may be in use by the running agent: SQLite's WAL
    /// allows that) and closes the buffer after it, whatever happens.
    static func withOutbox(_ option: ConfigOption, _ body: (Outbox, SiteConfig) async throws -> Void) async throws {
        let config = try existingBuffer(option)
        // No key: a tool never seals messages (a purge leaves its gap notices for the agent to sign).
        let sealing = OutboxSealing(siteID: config.site.id, gatewayID: config.site.gateway)
        let outbox = try await Outbox(sealing: sealing, settings: config.buffer)
        defer { outbox.close() }
        try await body(outbox, config)
    }

    /// The config, once its buffer is known to exist: looking must never create an empty buffer.
    static func existingBuffer(_ option: ConfigOption) throws -> SiteConfig {
        let config = try loadConfig(option.config)
        guard TextFile.exists(config.buffer.path) else {
            printError("error: no buffer at \(config.buffer.path) (the agent creates it at its first start)")
            throw ExitCode(1)
        }
        return config
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Depth, oldest reading, size and drops of the buffer.",
            discussion: "Example:\n  sitegate buffer stats --config /etc/sitegate/site.yaml")

        @OptionGroup var configOption: ConfigOption
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() async throws {
            try await BufferCommand.withOutbox(configOption) { outbox, _ in
                let s = try await outbox.stats()
                if json {
                    let report = BufferStatsReport(
                        path: outbox.path, depth: s.depth, oldestSeq: s.oldestSeq, oldestTakenAt: s.oldestTakenAt.map { "\($0)" },
                        lastSeq: s.lastSeq, usedBytes: s.usedBytes, fileBytes: s.fileBytes, maxBytes: s.maxBytes,
                        drops: s.drops.count, dropsFrom: s.drops.oldest.map { "\($0)" }, dropsTo: s.drops.newest.map { "\($0)" },
                        archive: BufferStatsReport.Archive(
                            messages: s.archive.count, bytes: s.archive.bytes, maxBytes: s.archive.maxBytes,
                            oldestSeq: s.archive.oldestSeq, oldest: s.archive.oldestCommittedAt.map { "\($0)" },
                            evicted: s.archive.evicted))
                    print(report.json)
                    return
                }
                print("buffer:          \(outbox.path)")
                print("unsent messages: \(s.depth)")
                print("oldest unsent:   \(s.oldestTakenAt.map { "\($0) (seq \(s.oldestSeq!))" } ?? "-")")
                print("last seq:        \(s.lastSeq)")
                print("size:            \(megabytes(s.usedBytes)) used of \(megabytes(s.maxBytes)) allowed; file \(megabytes(s.fileBytes))")
                if s.archive.maxBytes > 0 {
                    let oldest = s.archive.oldestCommittedAt.map { ", oldest \($0) (seq \(s.archive.oldestSeq!))" } ?? ""
                    print(
                        "archive:         \(s.archive.count) sent messages kept for replays, \(megabytes(s.archive.bytes)) "
                            + "of \(megabytes(s.archive.maxBytes)), up to \(DurationNotation.format(s.archive.retain))\(oldest)")
                    print("archive evicted: \(s.archive.evicted == 0 ? "none" : "\(s.archive.evicted) messages (space was short)")")
                } else {
                    print("archive:         off (buffer.retain: 0)")
                }
                if s.drops.count > 0 {
                    print("dropped unsent:  \(s.drops.count) messages taken \(s.drops.oldest.map { "\($0)" } ?? "?") to \(s.drops.newest.map { "\($0)" } ?? "?")")
                } else {
                    print("dropped unsent:  none")
                }
            }
        }

        private func megabytes(_ bytes: Int64) -> String {
            let tenths = (bytes * 10 + (1 << 19)) >> 20
            return "\(tenths / 10).\(tenths % 10) MiB"
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the unsent messages as NDJSON or their payloads, one line each, for manual upload.",
            discussion: """
                Export does not delete anything. SenML lines are the exact data payloads (marked backfill).

                Examples:
                  sitegate buffer export --format senml > backlog.senml
                  sitegate buffer export --format ndjson --config site.yaml > backlog.ndjson
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable { case ndjson, senml }

        @OptionGroup var configOption: ConfigOption
        @Option(help: "ndjson or senml.") var format: Format = .ndjson

        func run() async throws {
            try await BufferCommand.withOutbox(configOption) { outbox, config in
                let topics = TopicLayout(prefix: config.mqtt.topicPrefix, site: config.site.id, gateway: config.site.gateway)
                var after: Int64 = 0
                var count = 0
                while true {
                    let batch = try await outbox.messages(after: after, limit: 1000)
                    if batch.isEmpty { break }
                    for stored in batch {
                        let payload = String(decoding: stored.payload, as: UTF8.self)
                        switch format {
                        case .senml: print(payload)
                        case .ndjson:
                            print(
                                BufferExportLine(
                                    seq: stored.seq, topic: stored.deviceID.map(topics.data(device:)) ?? topics.evidence,
                                    device: stored.deviceID, committedAt: "\(stored.committedAt)", payload: payload
                                ).json)
                        }
                        after = stored.seq
                        count += 1
                    }
                }
                printError("exported \(count) messages")
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete every unsent poll (counted as drops). Asks for confirmation unless --yes.",
            discussion: "Export first if the data may still be needed:\n  sitegate buffer export > backlog.ndjson\n  sitegate buffer purge")

        @OptionGroup var configOption: ConfigOption
        @Flag(help: "Do not ask.") var yes = false

        func run() async throws {
            try await BufferCommand.withOutbox(configOption) { outbox, _ in
                let depth = try await outbox.stats().depth
                guard depth > 0 else {
                    print("the buffer is empty")
                    return
                }
                if !yes {
                    print("delete \(depth) unsent messages from \(outbox.path)? They will never reach the backend. Type yes: ", terminator: "")
                    guard readLine()?.lowercased() == "yes" else {
                        print("nothing deleted")
                        throw ExitCode(1)
                    }
                }
                let report = try await outbox.purge()
                print("deleted \(report.count) messages (declared by gap notices the agent signs at its next commit)")
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run SQLite's integrity check on the buffer.",
            discussion: "Exit 0 when it reports ok.")

        @OptionGroup var configOption: ConfigOption

        func run() async throws {
            let config = try BufferCommand.existingBuffer(configOption)
            // Read-only and without recovery: a damaged buffer is reported, not moved aside.
            let result = Outbox.integrityCheck(path: config.buffer.path)
            print(result)
            if result != "ok" { throw ExitCode(1) }
        }
    }
}
