import SitegateSystemd
import SitegateTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The notifier against real datagram sockets of the test's own, at a path and in the abstract namespace.
@Suite(.timeLimit(.minutes(1))) struct SystemdNotifierTests {
    static func notifier(_ environment: [String: String], pid: Int32 = getpid()) -> SystemdNotifier {
        SystemdNotifier(environment: environment, processID: pid)
    }

    static func uniqueName(_ tag: String) -> String {
        "sitegate-test-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    @Test func readyWithStatusArrivesAsOneDatagramAtAPath() throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        defer { rmdir(directory) }
        let receiver = try NotifyReceiver(path: "\(directory)/notify")
        let notifier = Self.notifier(["NOTIFY_SOCKET": receiver.notifySocket])
        #expect(notifier.isActive)
        #expect(try notifier.ready(status: "polling 12 devices on 3 buses"))
        #expect(receiver.receive() == "READY=1\nSTATUS=polling 12 devices on 3 buses")
    }

    @Test func abstractNamespaceSocketsWork() throws {
        let receiver = try NotifyReceiver(abstractName: Self.uniqueName("abstract"))
        let notifier = Self.notifier(["NOTIFY_SOCKET": receiver.notifySocket])
        #expect(notifier.socket?.kind == .abstract)
        // The kernel matches abstract names by exact length: a stray trailing NUL would miss this socket.
        #expect(try notifier.watchdog())
        #expect(receiver.receive() == "WATCHDOG=1")
    }

    @Test func everyMessageKind() throws {
        let receiver = try NotifyReceiver(abstractName: Self.uniqueName("kinds"))
        let notifier = Self.notifier(["NOTIFY_SOCKET": receiver.notifySocket])
        try notifier.ready()
        try notifier.status("buffer depth 0\nbroker connected")
        try notifier.stopping()
        try notifier.extendTimeout(by: .seconds(5))
        try notifier.reloading()
        let messages = receiver.receiveAll()
        try #require(messages.count == 5, "\(messages)")
        #expect(messages[0] == "READY=1")
        #expect(messages[1] == "STATUS=buffer depth 0 broker connected", "a line break would start a new assignment")
        #expect(messages[2] == "STOPPING=1")
        #expect(messages[3] == "EXTEND_TIMEOUT_USEC=5000000")
        let reload = messages[4].split(separator: "\n")
        #expect(reload.first == "RELOADING=1")
        let monotonic = reload.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nowMicroseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        #expect(monotonic.map { $0 <= nowMicroseconds && nowMicroseconds - $0 < 10_000_000 } == true, "\(reload)")
    }

    @Test func outsideSystemdNothingIsSent() throws {
        let notifier = Self.notifier([:])
        #expect(!notifier.isActive)
        #expect(try notifier.ready() == false)
        #expect(try notifier.watchdog() == false)
        #expect(notifier.watchdogInterval == nil)
    }

    @Test(arguments: [
        "relative/notify", "vsock:2:1234", "@", "", "/" + String(repeating: "p", count: 107),
        "@" + String(repeating: "a", count: 108), "/run/with\u{0}nul",
    ])
    func unusableSocketNamesThrow(_ value: String) throws {
        #expect(throws: SystemdNotifyError.self) { try NotifySocketAddress(value) }
        let notifier = Self.notifier(["NOTIFY_SOCKET": value])
        #expect(notifier.isActive, "set but unusable: the caller hears about it")
        #expect(throws: SystemdNotifyError.self) { try notifier.ready() }
    }

    @Test func longestNamesFit() throws {
        #expect(try NotifySocketAddress("/" + String(repeating: "p", count: 106)).kind == .path)
        #expect(try NotifySocketAddress("@" + String(repeating: "a", count: 107)).kind == .abstract)
    }

    @Test func aMissingSocketIsAnErrorWithItsErrno() throws {
        let notifier = Self.notifier(["NOTIFY_SOCKET": "/nonexistent/sitegate-test/notify"])
        let error = try #require(throws: SystemdNotifyError.self) { try notifier.ready() }
        #expect(error.code == ENOENT)
        #expect(error.description.contains("/nonexistent/sitegate-test/notify"))
    }

    @Test func watchdogIntervalFromTheEnvironment() {
        let mine = getpid()
        #expect(Self.notifier(["WATCHDOG_USEC": "60000000"]).watchdogInterval == .seconds(60))
        #expect(Self.notifier(["WATCHDOG_USEC": "60000000"]).watchdogPingInterval == .seconds(30))
        #expect(
            Self.notifier(["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "\(mine)"]).watchdogInterval == .seconds(60))
        #expect(Self.notifier(["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "\(mine + 1)"]).watchdogInterval == nil)
        #expect(Self.notifier(["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "x"]).watchdogInterval == nil)
        #expect(Self.notifier(["WATCHDOG_USEC": "0"]).watchdogInterval == nil)
        #expect(Self.notifier(["WATCHDOG_USEC": "-5"]).watchdogInterval == nil)
        #expect(Self.notifier(["WATCHDOG_USEC": "soon"]).watchdogInterval == nil)
        #expect(Self.notifier(["WATCHDOG_USEC": "1500"]).watchdogInterval == .microseconds(1500))
    }
}
