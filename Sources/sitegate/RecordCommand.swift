import ArgumentParser
import Logging
import ServiceLifecycle
import SitegateAgent
import SitegateConfig
import SitegateCore
import SitegateMQTT
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record every message of a gateway, as received, into an NDJSON capture for `verify` and `audit`.",
        discussion: """
            Subscribes with QoS 1 to {prefix}/{site}/{gateway}/# (or each --topic) and appends one line per message:
            arrival time, topic, retain flag and the exact payload bytes in base64 (docs/evidence.md). Runs until
            SIGINT or SIGTERM, --duration or --count. The broker comes from the site config, or from --broker.

            With --persistent the broker keeps the session (a fixed client id, clean session off): messages published
            while the recorder is stopped are queued for it (up to the broker's queue limit) and arrive when it
            restarts. Without it, what is published while it is not connected is not in the capture.

            Examples:
              sitegate record --config /etc/sitegate/site.yaml --output gw01.ndjson
              sitegate record --broker mqtt://10.0.0.5 --topic 'gia/v1/demo-park/gw01/#' --duration 30m -o gw01.ndjson
            """
    )

    @Option(name: [.short, .long], help: "The site config file (YAML); not with --broker.", completion: .file(extensions: ["yaml", "yml"]))
    var config: String?

    @Option(help: "The broker, mqtt://HOST[:PORT] or mqtts://HOST[:PORT], instead of a config.")
    var broker: String?

    @Option(help: "Username (with --broker).") var username: String?
    @Option(help: "A file whose first line is the password (with --broker); never logged.", completion: .file())
    var passwordFile: String?
    @Option(help: "CA certificates for mqtts:// (with --broker; default: the system store).", completion: .file())
    var caFile: String?

    @Option(help: "A topic pattern to subscribe to (repeatable; default with a config: {prefix}/{site}/{gateway}/#).")
    var topic: [String] = []

    @Option(name: [.short, .long], help: "The capture file to append to (default: standard output).", completion: .file())
    var output: String = "-"

    @Option(help: "Stop after this long, e.g. 30m.") var duration: String?
    @Option(help: "Stop after this many messages.") var count: Int?

    @Option(help: "The MQTT client id (default: sitegate-record-{site}-{gateway}, with the process id unless --persistent).")
    var clientID: String?
    @Flag(help: "A persistent session: the broker queues messages for this client id while the recorder is away.")
    var persistent = false

    @OptionGroup var logOptions: LogOptions

    func run() async throws {
        let logger = logOptions.bootstrap()
        var settings = try recorderSettings(logger: logger)
        if let duration { settings.duration = try parseDuration(duration, option: "--duration") }
        if let count {
            guard count > 0 else { throw ValidationError("--count must be at least 1") }
            settings.count = count
        }
        let writer: CaptureFile.Writer
        do { writer = try CaptureFile.Writer(path: output) } catch {
            printError(error.description)
            throw ExitCode(1)
        }
        defer { writer.close() }
        let recorder = CaptureRecorder(settings: settings, output: writer, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: recorder, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do { try await group.run() } catch {
            // Only our own errors by their text: the group's would describe the service, settings included.
            switch error {
            case let error as MQTTError: printError("record: \(error)")
            case let error as CaptureFile.Failure: printError("record: \(error)")
            default: printError("record: stopped by an error (\(type(of: error)))")
            }
            throw ExitCode(1)
        }
        printError("recorded \(recorder.recorded.current) messages" + (output == "-" ? "" : " to \(output)"))
    }

    private func recorderSettings(logger: Logger) throws -> CaptureRecorder.Settings {
        var options: MQTTClient.Options
        var topics = topic
        let defaultID: String
        if let broker {
            guard config == nil else { throw ValidationError("give either --config or --broker, not both") }
            guard let url = BrokerURL(broker) else { throw ValidationError("--broker must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT]") }
            guard !topics.isEmpty else { throw ValidationError("--broker needs at least one --topic") }
            var password: String?
            if let passwordFile {
                do { password = try Secrets.read(.file(passwordFile)) } catch {
                    throw ValidationError(error.description)
                }
            }
            options = MQTTClient.Options(
                clientID: "", host: url.host, port: url.port, tls: url.tls ? MQTTClient.TLS(caFile: caFile) : nil,
                username: username, password: password)
            defaultID = "sitegate-record"
        } else {
            guard username == nil, passwordFile == nil, caFile == nil else {
                throw ValidationError("--username, --password-file and --ca-file go with --broker (a config has its own)")
            }
            let site = try loadConfig(config ?? "/etc/sitegate/site.yaml")
            do { options = try MQTTClient.Options(site, logger: logger) } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
            if topics.isEmpty {
                topics = [TopicLayout(prefix: site.mqtt.topicPrefix, site: site.site.id, gateway: site.site.gateway).gatewayRoot + "/#"]
            }
            defaultID = "sitegate-record-\(site.site.id)-\(site.site.gateway)"
        }
        // Never the agent's own id: the broker would disconnect the agent. A persistent session needs a fixed id.
        options.clientID = clientID ?? (persistent ? defaultID : "\(defaultID)-\(getpid())")
        options.cleanSession = !persistent
        options.reconnectDelay = (.seconds(1), .seconds(30))
        options.will = nil
        return CaptureRecorder.Settings(client: options, topics: topics)
    }
}
