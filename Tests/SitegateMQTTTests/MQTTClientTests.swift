import SitegateCore
import SitegateMQTT
import SitegateTestSupport
import SitegateThreads
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// MQTTClient against a private mosquitto on a free loopback port: the events its one callback bridge reports
/// for a session, a QoS 1 publish, a broker restart, a refusal, and a last will. Reconnect delays are short, so
/// each test takes a second or two.
@Suite(.timeLimit(.minutes(1))) struct MQTTClientTests {
    static func options(_ id: String, port: Int, will: MQTTClient.Will? = nil, username: String? = nil, password: String? = nil)
        -> MQTTClient.Options
    {
        MQTTClient.Options(
            clientID: id, host: "127.0.0.1", port: port, keepaliveSeconds: 5,
            reconnectDelay: (.milliseconds(100), .milliseconds(400)), username: username, password: password, will: will)
    }

    /// A started client and the events it reports; stopped after `body`, also when it throws.
    @discardableResult
    static func with<T>(_ options: MQTTClient.Options, _ body: (MQTTClient, EventLog) async throws -> T) async throws -> T {
        let client = try MQTTClient(options: options)
        let log = EventLog(client.events)
        client.start()
        do {
            let result = try await body(client, log)
            client.stop()
            await log.drained()
            return result
        } catch {
            client.stop()
            throw error
        }
    }

    /// A private mosquitto for `body`, stopped after it, also when it throws.
    static func withBroker(
        authentication: MosquittoBroker.Authentication? = nil, _ body: (MosquittoBroker) async throws -> Void
    ) async throws {
        let broker = try await MosquittoBroker(
            directory: try TestEnvironment.makeTemporaryDirectory("mqtt-client"), authentication: authentication)
        do {
            try await body(broker)
        } catch {
            await broker.stop()
            throw error
        }
        await broker.stop()
    }

    @Test func publishIsAcknowledgedAndDelivered() async throws {
        try await Self.withBroker { broker in
            try await Self.with(Self.options("reader", port: broker.port)) { reader, readerLog in
                try await readerLog.wait { $0 == .connected(code: 0) }
                try reader.subscribe("site/#")
                try await Task.sleep(for: .milliseconds(200))  // SUBACK: no event for it
                try await Self.with(Self.options("writer", port: broker.port)) { writer, log in
                    #expect(try await log.wait { if case .connecting = $0 { true } else { false } } == .connecting(node: 0))
                    try await log.wait { $0 == .connected(code: 0) }
                    let mid = try writer.publish(topic: "site/data", payload: "{\"v\":1}", qos: 1)
                    try await log.wait { $0 == .acknowledged(mid: mid) }
                    let message = try await readerLog.wait { if case .message = $0 { true } else { false } }
                    #expect(message == .message(topic: "site/data", payload: Array("{\"v\":1}".utf8), retain: false))
                }
            }
        }
    }

    /// `deliverEvents(to:)` (the publisher's path): the session's events and a PUBACK reach the sink, in order,
    /// and no longer the `events` stream.
    @Test func eventsGoToTheSinkOnceSet() async throws {
        try await Self.withBroker { broker in
            let client = try MQTTClient(options: Self.options("sink", port: broker.port))
            let streamed = EventLog(client.events)
            let (sunk, continuation) = AsyncStream.makeStream(of: MQTTEvent.self)
            let log = EventLog(sunk)
            client.deliverEvents { continuation.yield($0) }
            client.start()
            do {
                try await log.wait { $0 == .connected(code: 0) }
                let mid = try client.publish(topic: "site/data", payload: "{}", qos: 1)
                try await log.wait(after: .connected(code: 0)) { $0 == .acknowledged(mid: mid) }
                #expect(log.events.first == .connecting(node: 0), "\(log.events)")
            } catch {
                client.stop()
                continuation.finish()
                throw error
            }
            client.stop()
            continuation.finish()
            await streamed.drained()
            #expect(streamed.events.isEmpty, "\(streamed.events)")
        }
    }

    @Test func stopDisconnectsCleanlyAndEndsTheEvents() async throws {
        try await Self.withBroker { broker in
            let client = try MQTTClient(options: Self.options("stopper", port: broker.port))
            let log = EventLog(client.events)
            client.start()
            try await log.wait { $0 == .connected(code: 0) }
            client.stop()
            await log.drained()
            #expect(log.events.last == .disconnected(code: 0), "\(log.events)")
            client.stop()  // twice is safe
        }
    }

    @Test func reconnectsAfterABrokerRestart() async throws {
        try await Self.withBroker { broker in
            try await Self.with(Self.options("restart", port: broker.port)) { client, log in
                try await log.wait { $0 == .connected(code: 0) }
                await broker.stop()
                let lost = try await log.wait { if case .disconnected = $0 { true } else { false } }
                #expect(lost != .disconnected(code: 0), "the broker went away: not a disconnect we asked for")
                try await broker.start()
                try await log.wait(after: lost) { $0 == .connected(code: 0) }
                let mid = try client.publish(topic: "site/after", payload: "x", qos: 1)
                try await log.wait { $0 == .acknowledged(mid: mid) }
            }
        }
    }

    @Test func refusedConnectionIsReportedWithTheBrokersReason() async throws {
        try await Self.withBroker(
            authentication: .init(users: ["gw": "right"], acl: "user gw\ntopic readwrite #\n")) { broker in
            try await Self.with(Self.options("refused", port: broker.port, username: "gw", password: "wrong")) { _, log in
                let refused = try await log.wait { if case .connected = $0 { true } else { false } }
                guard case .connected(let code) = refused else { return }
                #expect(code == 5)
                #expect(MQTTClient.connackReason(code).lowercased().contains("not authori"), "\(MQTTClient.connackReason(code))")
            }
        }
    }

    @Test func nothingListeningIsAConnectFailureThatIsRetried() async throws {
        let port = try FreePort.find()
        try await Self.with(Self.options("nobody", port: port)) { _, log in
            let failed = try await log.wait { if case .connectFailed = $0 { true } else { false } }
            guard case .connectFailed(let reason, let retryIn) = failed else { return }
            #expect(reason.contains("refused"), "\(reason)")
            #expect(retryIn > .zero && retryIn <= .milliseconds(400))
            try await log.wait(after: failed) { if case .connectFailed = $0 { true } else { false } }
        }
    }

    @Test func willIsPublishedWhenTheConnectionIsLostNotOnStop() async throws {
        try await Self.withBroker { broker in
            try await Self.with(Self.options("watcher", port: broker.port)) { watcher, watcherLog in
                try await watcherLog.wait { $0 == .connected(code: 0) }
                try watcher.subscribe("site/+/status")
                try await Task.sleep(for: .milliseconds(200))
                let before = BrokerSockets.connected(to: broker.port)
                let will = MQTTClient.Will(topic: "site/gw/status", payload: "offline", retain: false)
                // A clean stop sends DISCONNECT: the broker drops the will.
                try await Self.with(Self.options("clean", port: broker.port, will: will)) { _, log in
                    try await log.wait { $0 == .connected(code: 0) }
                }
                // A connection that just ends (its socket shut down under the client): the broker publishes the will.
                try await Self.with(Self.options("vanishing", port: broker.port, will: will)) { _, log in
                    let up = try await log.wait { $0 == .connected(code: 0) }
                    let mine = BrokerSockets.connected(to: broker.port).subtracting(before)
                    try #require(mine.count == 1, "the client's socket: \(mine)")
                    for fd in mine { shutdown(fd, Int32(SHUT_RDWR)) }
                    let message = try await watcherLog.wait { if case .message = $0 { true } else { false } }
                    #expect(message == .message(topic: "site/gw/status", payload: Array("offline".utf8), retain: false))
                    try await log.wait(after: up) { $0 == .connected(code: 0) }  // and the client is back
                }
                let wills = watcherLog.events.filter { if case .message = $0 { true } else { false } }
                #expect(wills.count == 1, "only the lost connection left a will: \(wills)")
            }
        }
    }
}

/// The events a client reported, collected by a task of their own.
final class EventLog: Sendable {
    // LockedValue, not Synchronization.Mutex: ThreadSanitizer has reported false races on Mutex on Linux.
    private let seen = LockedValue<[MQTTEvent]>([])
    private let finished = LockedValue(false)

    init(_ stream: AsyncStream<MQTTEvent>) {
        Task { [self] in
            for await event in stream { seen.withLock { $0.append(event) } }
            finished.withLock { $0 = true }
        }
    }

    var events: [MQTTEvent] { seen.withLock { $0 } }

    /// The first event matching `predicate` (after `previous`, when given); throws after `timeout`.
    @discardableResult
    func wait(
        after previous: MQTTEvent? = nil, timeout: Duration = .seconds(15), _ predicate: (MQTTEvent) -> Bool
    ) async throws -> MQTTEvent {
        let deadline = ContinuousClock.now + timeout
        while true {
            let all = events
            let start = previous.flatMap { p in all.firstIndex(of: p).map { $0 + 1 } } ?? 0
            if let match = all[start...].first(where: predicate) { return match }
            guard ContinuousClock.now < deadline else { throw TestSupportError("no such event in \(all)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until the stream ended (after `stop()`).
    func drained() async {
        let deadline = ContinuousClock.now + .seconds(10)
        while !finished.withLock({ $0 }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// This process's TCP sockets connected to 127.0.0.1:`port`, found through /proc: a way to cut a client's
/// connection under it without the client's help.
enum BrokerSockets {
    static func connected(to port: Int) -> Set<Int32> {
        var hexPort = String(port, radix: 16, uppercase: true)
        while hexPort.count < 4 { hexPort = "0" + hexPort }
        hexPort = ":" + hexPort
        var inodes: Set<String> = []
        for line in ((try? readFile("/proc/self/net/tcp")) ?? "").split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            // local_address rem_address st ... inode (field 9); 01 = ESTABLISHED
            guard fields.count > 9, fields[2].hasSuffix(hexPort), fields[3] == "01" else { continue }
            inodes.insert(String(fields[9]))
        }
        var result: Set<Int32> = []
        guard let dir = opendir("/proc/self/fd") else { return result }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name) else { continue }
            var buffer = [CChar](repeating: 0, count: 256)
            let n = readlink("/proc/self/fd/\(name)", &buffer, buffer.count - 1)
            guard n > 0 else { continue }
            let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast())) { result.insert(fd) }
        }
        return result
    }
}
