// sitegate's benchmarks: `make bench` runs them all and writes benchmarks/report.md.
//
//   sitegate-bench ingest [POLLS]          readings committed per second, one transaction per poll of 15 readings
//   sitegate-bench drain [READINGS]        drain rate of a backlog to a local mosquitto at QoS 1
//   sitegate-bench modbus HOST PORT N U    Modbus TCP polls per second through the agent's path (SDM630 plan,
//                                          U unit ids polled per cycle, one bus-thread job per cycle)
//   sitegate-bench wear full|normal [CYCLES] [page=N] [checkpoint=PAGES] [limit=BYTES] [delay=SECONDS]
//                                          the agent's writes for 20 SDM630s every 5 s (a commit per cycle, the
//                                          cycle's PUBACKs deleted), on a simulated clock: bytes written to storage
//                                          per reading (/proc/self/io) with the buffer tuning given
//   sitegate-bench backlog PATH [READINGS] [--drain]
//                                          builds a week-long backlog in the buffer at PATH by inserting directly
//                                          (100 meters x 30 points every 10 s, back from now; kept if PATH exists),
//                                          then times opening it, statistics (health and status ask for them) and,
//                                          with --drain, its drain to a local mosquitto
//
// Each prints one `name: value unit` line per figure, for the report.
import Logging
import SitegateAgent
import SitegateBuffer
import SitegateConfig
import SitegateCrypto
import SitegateCore
import SitegateModbus
import SitegateMQTT
import SitegateSystemd
import SitegateThreads
import SitegateTestSupport

#if canImport(Glibc)
import Glibc
#endif

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func samplePoll(_ i: Int, at time: UnixTime) -> Poll {
    let names = [
        "voltage_l1", "voltage_l2", "voltage_l3", "current_l1", "current_l2", "current_l3", "power_l1", "power_l2",
        "power_l3", "power", "frequency", "energy_import", "energy_export", "reactive_energy_import",
        "reactive_energy_export",
    ]
    let units = ["V", "V", "V", "A", "A", "A", "W", "W", "W", "W", "Hz", "kWh", "kWh", "kvarh", "kvarh"]
    return Poll(
        deviceID: "meter-\(i % 10)", takenAt: time,
        readings: (0..<15).map {
            Reading(pointID: names[$0], unit: units[$0], value: .number(230.12345 + Double(i % 1000) + Double($0)))
        })
}

func ingest(polls: Int) async throws {
    for durability in [Durability.full, .normal] {
        let dir = try TestEnvironment.makeTemporaryDirectory("bench-ingest")
        let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: "\(dir)/b.db", durability: durability, maxBytes: 4 << 30))
        let now = SystemWallClock().now()
        let start = monotonicSeconds()
        for i in 0..<polls {
            try await outbox.append([samplePoll(i, at: now)])
        }
        let seconds = monotonicSeconds() - start
        let stats = try await outbox.stats()
        outbox.close()
        print("ingest_\(durability.rawValue): \(Int(Double(polls * 15) / seconds)) readings/s (\(polls) polls of 15 readings, one commit each)")
        print("bytes_per_reading_\(durability.rawValue): \(String(format2(Double(stats.usedBytes) / Double(polls * 15)))) bytes")
    }
    // A poll cycle of ten devices committed together.
    let dir = try TestEnvironment.makeTemporaryDirectory("bench-ingest")
    let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: "\(dir)/b.db", durability: .full, maxBytes: 4 << 30))
    let now = SystemWallClock().now()
    let start = monotonicSeconds()
    for cycle in 0..<(polls / 10) {
        try await outbox.append((0..<10).map { samplePoll(cycle * 10 + $0, at: now) })
    }
    let seconds = monotonicSeconds() - start
    outbox.close()
    print("ingest_full_cycle10: \(Int(Double(polls * 15) / seconds)) readings/s (cycles of 10 polls per commit)")
}

func drain(readings: Int) async throws {
    let polls = readings / 15
    let dir = try TestEnvironment.makeTemporaryDirectory("bench-drain")
    let settings = BufferSettings(path: "\(dir)/b.db", durability: .full, maxBytes: 8 << 30)
    let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: settings)
    let now = SystemWallClock().now()
    var i = 0
    while i < polls {
        let n = min(1000, polls - i)
        try await outbox.append((0..<n).map { samplePoll(i + $0, at: now) })
        i += n
    }
    let broker = try await MosquittoBroker(directory: dir)
    let logger = Logger(label: "bench")
    let client = try MQTTClient(options: .init(clientID: "bench-drain", host: "127.0.0.1", port: broker.port))
    let publisher = try benchPublisher(port: broker.port, client: client, outbox: outbox, logger: logger)
    let start = monotonicSeconds()
    let task = Task { try await publisher.run() }
    while try await outbox.stats().depth > 0 {
        try await Task.sleep(for: .milliseconds(200))
    }
    let seconds = monotonicSeconds() - start
    task.cancel()
    _ = try? await task.value
    outbox.close()
    await broker.stop()
    print("drain: \(Int(Double(polls * 15) / seconds)) readings/s (\(polls) polls, \(polls * 15) readings, QoS 1, window 100, deleted on PUBACK)")
}

final class SimulatedClock: WallClock, @unchecked Sendable {
    // @unchecked: set between awaited buffer calls only, never while one runs.
    var time = UnixTime(seconds: 1_767_225_600)
    func now() -> UnixTime { time }
}

func writeBytes() -> Int64 {
    guard let text = try? TextFile.read("/proc/self/io") else { return 0 }
    let line = text.split(separator: "\n").first { $0.hasPrefix("write_bytes:") }
    return line.flatMap { Int64($0.split(separator: " ").last ?? "") } ?? 0
}

func wear(durability: Durability, cycles: Int, options: [String]) async throws {
    var tuning = BufferTuning.default
    for option in options {
        let parts = option.split(separator: "=").map(String.init)
        guard parts.count == 2, let n = Int(parts[1]) else { throw TestSupportError("bad option \(option)") }
        switch parts[0] {
        case "page": tuning.pageSize = n
        case "checkpoint": tuning.walAutocheckpoint = n
        case "limit": tuning.journalSizeLimit = n
        case "delay": tuning.deleteDelay = .seconds(n)
        default: throw TestSupportError("unknown option \(option)")
        }
    }
    let dir = try TestEnvironment.makeTemporaryDirectory("bench-wear")
    let clock = SimulatedClock()
    let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: BufferSettings(path: "\(dir)/b.db", durability: durability), tuning: tuning, clock: clock)
    let meters = 20
    let warmup = cycles / 5
    var start: Int64 = 0
    for cycle in 0..<(warmup + cycles) {
        if cycle == warmup { start = writeBytes() }
        clock.time = clock.time + .seconds(5)
        let seqs = try await outbox.append((0..<meters).map { samplePoll(cycle * meters + $0, at: clock.time) }).seqs
        clock.time = clock.time + .milliseconds(50)
        try await outbox.acknowledge(seqs)
    }
    let written = writeBytes() - start
    outbox.close()
    let label = options.isEmpty ? "defaults" : options.joined(separator: " ")
    print(
        "wear_\(durability.rawValue): \(format2(Double(written) / Double(cycles * meters * 15))) bytes per reading "
            + "(\(label); \(written / Int64(cycles)) bytes per cycle of \(meters) polls, \(cycles) cycles after \(warmup))")
}

func backlogPoll(_ meter: Int, at time: UnixTime) -> Poll {
    Poll(
        deviceID: "m\(meter)", takenAt: time,
        readings: (0..<30).map {
            Reading(pointID: "value_\($0 < 10 ? "0" : "")\($0)", unit: "V", value: .number(230.1 + Double((meter * 7 + $0) % 97) / 10))
        })
}

/// A week offline, 100 meters x 30 points every 10 s: the buffer's settings the figures hold for.
func backlogSettings(_ path: String) -> BufferSettings {
    BufferSettings(path: path, durability: .normal, maxBytes: 16 << 30, maxAge: .seconds(365 * 86400))
}

func backlog(path: String, readings: Int, drainToo: Bool) async throws {
    let polls = readings / 30
    if access(path, F_OK) != 0 {
        let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: backlogSettings(path))
        let now = SystemWallClock().now()
        let cycles = (polls + 99) / 100
        let start = monotonicSeconds()
        var written = 0
        for cycle in 0..<cycles {
            let at = now + .seconds(-10 * Int64(cycles - cycle))
            let batch = (0..<min(100, polls - written)).map { backlogPoll($0, at: at) }
            _ = try await outbox.append(batch)
            written += batch.count
        }
        outbox.close()
        print("backlog_build: \(Int(Double(written * 30) / (monotonicSeconds() - start))) readings/s (\(written) polls inserted directly)")
    }
    var start = monotonicSeconds()
    let outbox = try await Outbox(sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01"), settings: backlogSettings(path))
    print("backlog_open: \(Int((monotonicSeconds() - start) * 1000)) ms (open, quick_check, count)")
    start = monotonicSeconds()
    var stats = try await outbox.stats()
    for _ in 0..<99 { stats = try await outbox.stats() }
    print("backlog_stats: \(format2((monotonicSeconds() - start) * 1000 / 100)) ms per statistics call (depth \(stats.depth))")
    var st = stat()
    var fileBytes: Int64 = 0
    if stat(path, &st) == 0 { fileBytes = Int64(st.st_size) }
    print("backlog_readings: \(stats.depth * 30)")
    print("backlog_file_bytes: \(fileBytes) bytes (\(format2(Double(fileBytes) / Double(stats.depth * 30))) bytes per reading)")
    guard drainToo else {
        outbox.close()
        return
    }
    let dir = try TestEnvironment.makeTemporaryDirectory("bench-backlog")
    let broker = try await MosquittoBroker(directory: dir)
    let client = try MQTTClient(options: .init(clientID: "bench-backlog", host: "127.0.0.1", port: broker.port))
    let publisher = try benchPublisher(port: broker.port, client: client, outbox: outbox, logger: Logger(label: "bench"))
    let before = stats.depth
    start = monotonicSeconds()
    let task = Task { try await publisher.run() }
    // Two minutes of drain are enough for a rate; the rest of the backlog stays for the next run.
    while monotonicSeconds() - start < 120, try await outbox.stats().depth > 0 {
        try await Task.sleep(for: .milliseconds(500))
    }
    let seconds = monotonicSeconds() - start
    let sent = before - (try await outbox.stats().depth)
    task.cancel()
    _ = try? await task.value
    outbox.close()
    await broker.stop()
    print("backlog_drain: \(Int(Double(sent * 30) / seconds)) readings/s (\(sent) polls in \(Int(seconds)) s, QoS 1, window 100)")
}

/// Polls `units` SDM630s (units 1...units) as the agent does: one bus-thread job per poll cycle of all units.
func modbus(host: String, port: Int, polls: Int, units: Int) async throws {
    guard case .found(let map, _) = MapLibrary(searchPaths: ["devicemaps/models"]).load("eastron-sdm630") else {
        throw TestSupportError("run from the repository root")
    }
    let plans = (1...units).map { unit in
        let device = DeviceConfig(
            id: "bench-\(unit)", busID: "b", unit: unit, model: map.id,
            groups: [PollGroup(name: "all", interval: .seconds(1), pointIDs: map.points.map(\.id))], minDelay: .zero)
        return DevicePlan(device: device, map: map, pointIDs: map.points.map(\.id))
    }
    let bus = ModbusBus(config: BusConfig(id: "b", transport: .tcp(host: host, port: port)))
    _ = try await bus.withConnection { t in plans.map { DeviceReader.read($0, on: t) } }  // connect and warm up
    let start = monotonicSeconds()
    for _ in 0..<(polls / units) {
        let outcomes = try await bus.withConnection { t in plans.map { DeviceReader.read($0, on: t) } }
        guard outcomes.allSatisfy({ $0.errors.isEmpty }) else { throw TestSupportError("\(outcomes.map(\.errors))") }
    }
    let seconds = monotonicSeconds() - start
    bus.shutdown()
    print("polls=\(polls / units * units) seconds=\(seconds)")
}

/// The agent's publisher for a site with no devices on the bench's broker: data only, no meta messages.
func benchPublisher(port: Int, client: MQTTClient, outbox: Outbox, logger: Logger) throws -> Publisher {
    let yaml = """
        site: { id: test-site, gateway: gw01 }
        mqtt: { url: "mqtt://127.0.0.1:\(port)", health_interval: 1h }
        buffer: { path: /dev/null }
        maps: ["\(TestEnvironment.shippedMaps)"]
        buses: []
        devices: []
        """
    let config = try SiteConfigLoader.parse(yaml, file: "bench.yaml").config
    return Publisher(
        config: config, version: "bench", client: client, outbox: outbox, health: HealthBoard(),
        watchdog: LockedValue(ProgressWatchdog()), logger: logger)
}

func format2(_ v: Double) -> String {
    let scaled = (v * 100).rounded()
    return "\(Int(scaled) / 100).\(String(format: Int(scaled) % 100))"
}

extension String {
    init(format value: Int) {
        self = value < 10 ? "0\(value)" : "\(value)"
    }
}

/// CPU seconds (user + system) of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// The evidence chain's cost (issue 14): the same cycles of 10 polls committed without a key, then signed, in one
/// run; CPU per 1,000 readings and the bytes a message gains.
func signing(cycles: Int) async throws {
    var figures: [String: (cpu: Double, bytes: Double)] = [:]
    for signed in [false, true, false, true] {
        let dir = try TestEnvironment.makeTemporaryDirectory("bench-signing")
        let signer = signed ? try Ed25519Key.generate() : nil
        let outbox = try await Outbox(
            sealing: OutboxSealing(siteID: "test-site", gatewayID: "gw01", signer: signer),
            settings: BufferSettings(path: "\(dir)/b.db", durability: .normal, maxBytes: 4 << 30))
        let now = SystemWallClock().now()
        let start = cpuSeconds()
        for cycle in 0..<cycles {
            try await outbox.append((0..<10).map { samplePoll(cycle * 10 + $0, at: now) })
        }
        let cpu = cpuSeconds() - start
        let messages = try await outbox.messages(after: 0, limit: 1000).filter { $0.deviceID != nil }
        let bytes = Double(messages.reduce(0) { $0 + $1.payload.count }) / Double(max(1, messages.count))
        outbox.close()
        // The second round of each counts (the first warms caches and the allocator).
        figures[signed ? "signed" : "unsigned"] = (cpu / Double(cycles * 10 * 15) * 1000, bytes)
    }
    let off = figures["unsigned"]!, on = figures["signed"]!
    print("signing_cpu_per_1000_readings_off: \(format2(off.cpu * 1000)) ms")
    print("signing_cpu_per_1000_readings_on: \(format2(on.cpu * 1000)) ms")
    print("signing_cpu_ratio: \(format2(on.cpu / off.cpu))")
    print("signing_bytes_per_message_off: \(Int(off.bytes)) (15 readings)")
    print("signing_bytes_per_message_on: \(Int(on.bytes)) (+\(Int(on.bytes - off.bytes)): kid and sig)")
}

let args = CommandLine.arguments
switch args.count > 1 ? args[1] : "" {
case "ingest": try await ingest(polls: args.count > 2 ? Int(args[2])! : 20_000)
case "drain": try await drain(readings: args.count > 2 ? Int(args[2])! : 1_000_000)
case "backlog" where args.count >= 3:
    try await backlog(
        path: args[2], readings: args.count > 3 && args[3] != "--drain" ? Int(args[3])! : 20_000_000,
        drainToo: args.contains("--drain"))
case "wear" where args.count >= 3:
    let cycles = args.count > 3 ? Int(args[3]) : nil
    try await wear(
        durability: Durability(rawValue: args[2])!, cycles: cycles ?? 720,
        options: Array(args.dropFirst(cycles == nil ? 3 : 4)))
case "signing": try await signing(cycles: args.count > 2 ? Int(args[2])! : 2000)
case "modbus" where args.count == 6:
    try await modbus(host: args[2], port: Int(args[3])!, polls: Int(args[4])!, units: Int(args[5])!)
default:
    print("usage: sitegate-bench ingest [POLLS] | signing [CYCLES] | drain [READINGS] | modbus HOST PORT POLLS UNITS | backlog PATH [READINGS] [--drain] | wear full|normal [CYCLES] [KNOB=N ...]")
    exit(64)
}
