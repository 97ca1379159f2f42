import SitegateTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The contract between the unit (Type=notify, WatchdogSec=) and the agent, with the test standing in for systemd:
/// `sitegate run` sends READY=1 once started, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM. Neither
/// the broker nor the meter answers here: readiness must not wait for them.
@Suite(.timeLimit(.minutes(1)))
struct AgentNotifyTests {
    /// The next datagram for which `matches` holds, polling without blocking the task.
    static func next(
        _ receiver: NotifyReceiver, within timeout: Duration, where matches: (String) -> Bool
    ) async
        -> String?
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            while let message = receiver.receive(timeout: .zero) {
                if matches(message) { return message }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Writes a site config (one bus, the given devices) into `work` and starts the agent as systemd would, with a
    /// notify socket of the test's own and `WATCHDOG_USEC`; the caller kills the agent.
    static func startAgent(
        in work: String, name: String, mqtt: String, bus: String, devices: String, watchdogUSec: String,
        environment: [String: String] = [:]
    ) throws -> (NotifyReceiver, ChildProcess) {
        let config = """
            site: { id: test-park, gateway: gw01 }
            mqtt: \(mqtt)
            buffer: { path: \(work)/buffer.db }
            control_socket: \(work)/control.sock
            maps: [\(TestEnvironment.shippedMaps)]
            buses:
              - \(bus)
            devices:
            \(devices)
            """
        try writeFile("\(work)/site.yaml", config)
        let receiver = try NotifyReceiver(abstractName: "sitegate-test-\(name)-\(getpid())-\(UInt32.random(in: 0...9999))")
        let agent = try ChildProcess(
            [TestEnvironment.sitegateBinary, "run", "--config", "\(work)/site.yaml"], directory: work, name: "agent",
            environment: environment.merging(["NOTIFY_SOCKET": receiver.notifySocket, "WATCHDOG_USEC": watchdogUSec]) { a, _ in a })
        return (receiver, agent)
    }

    @Test func readyWatchdogAndStopping() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-notify")
        let (receiver, agent) = try Self.startAgent(
            in: work, name: "agent", mqtt: "{ url: \"mqtt://127.0.0.1:\(try FreePort.find())\" }",
            bus: "{ id: lan, tcp: { host: 127.0.0.1, port: \(try FreePort.find()) }, response_timeout: 200ms }",
            devices: "  - { id: meter, bus: lan, unit: 1, model: eastron-sdm630, interval: 1s }", watchdogUSec: "2000000")
        defer { agent.signal(SIGKILL) }

        let ready = await Self.next(receiver, within: .seconds(15)) { $0.split(separator: "\n").contains("READY=1") }
        #expect(ready != nil, "no READY=1; agent log:\n\(agent.standardError.suffix(2000))")
        let ping = await Self.next(receiver, within: .seconds(5)) { $0.split(separator: "\n").contains("WATCHDOG=1") }
        #expect(ping != nil, "no WATCHDOG=1 within 5 s of a 2 s watchdog")

        agent.signal(SIGTERM)
        let stopping = await Self.next(receiver, within: .seconds(10)) {
            $0.split(separator: "\n").contains("STOPPING=1")
        }
        #expect(stopping != nil, "no STOPPING=1 after SIGTERM")
        #expect(await agent.wait(timeout: .seconds(25)) == 0, "\(agent.standardError.suffix(2000))")
    }

    /// A bus thread that hangs (a driver stuck in a system call, forced by a test hook) stops the watchdog pings, so
    /// that systemd restarts the agent; STATUS= names the stalled bus.
    @Test func hungBusStopsTheWatchdog() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-hang")
        let (receiver, agent) = try Self.startAgent(
            in: work, name: "hang", mqtt: "{ url: \"mqtt://127.0.0.1:\(try FreePort.find())\" }",
            bus: "{ id: lan, tcp: { host: 127.0.0.1, port: \(try FreePort.find()) }, response_timeout: 200ms }",
            devices: "  - { id: meter, bus: lan, unit: 1, model: eastron-sdm630, interval: 1s }", watchdogUSec: "1000000",
            environment: ["SITEGATE_FAULT_HANG_BUS": "lan"])
        defer { agent.signal(SIGKILL) }
        #expect(await Self.next(receiver, within: .seconds(15)) { $0.contains("READY=1") } != nil)
        // The allowance is 2 x 1 s + 2 x 200 ms: well past it, pings must have stopped.
        try await Task.sleep(for: .seconds(5))
        _ = receiver.receiveAll(quietFor: .milliseconds(50))
        let later = await Self.next(receiver, within: .seconds(3)) { $0.contains("WATCHDOG=1") }
        #expect(later == nil, "a hung bus must stop the pings")
        let status = await Self.next(receiver, within: .seconds(12)) { $0.contains("STATUS=") }
        #expect(status?.contains("STALLED: bus:lan") == true, "\(status ?? "no STATUS")")
        #expect(agent.standardError.contains("withholding the watchdog ping"))
    }

    /// A bus that cannot keep up with its ticks is named in STATUS= with the advice (the measured figures, not the
    /// estimate: `check` only warned).
    @Test func overloadedBusIsNamedInStatus() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-overload")
        let simulator = try ChildProcess(
            [
                TestEnvironment.sitegateBinary, "simulate", "--model", "eastron-sdm630", "--units", "1,2,3", "--port", "0",
                "--maps", TestEnvironment.shippedMaps, "--frozen",
            ], directory: work, name: "simulator")
        defer { simulator.signal(SIGKILL) }
        let output = try await simulator.waitForOutput(containing: "listening on", timeout: .seconds(10))
        let port = try #require(output.split(separator: "\n").first { $0.hasPrefix("listening on") }?.split(separator: ":").last)
        // 3 meters x 2 transactions x 400 ms of min_delay: 2.4 s of bus time every second.
        let devices = (1...3).map {
            "  - { id: m\($0), bus: lan, unit: \($0), model: eastron-sdm630, interval: 1s, min_delay: 400ms }"
        }
        let (receiver, agent) = try Self.startAgent(
            in: work, name: "load", mqtt: "{ url: \"mqtt://127.0.0.1:\(try FreePort.find())\" }",
            bus: "{ id: lan, tcp: { host: 127.0.0.1, port: \(port) } }", devices: devices.joined(separator: "\n"),
            watchdogUSec: "2000000")
        defer { agent.signal(SIGKILL) }
        let status = await Self.next(receiver, within: .seconds(30)) { $0.contains("bus lan overloaded") }
        #expect(
            status?.contains("split the bus or lengthen intervals") == true,
            "\(status ?? "no STATUS naming the bus"); agent log:\n\(agent.standardError.suffix(2000))")
    }

    /// STATUS= follows the state it shows, not only the watchdog ping: with pings 30 s apart, the line says the
    /// device answers and the broker (named) is connected within seconds, and says so again when the broker goes.
    /// Change-driven lines are at most one per second.
    @Test func statusFollowsChangesBetweenPings() async throws {
        let work = try TestEnvironment.makeTemporaryDirectory("sitegate-status")
        let broker = try await MosquittoBroker(directory: work)
        let simulator = try ChildProcess(
            [
                TestEnvironment.sitegateBinary, "simulate", "--model", "eastron-sdm630", "--units", "1", "--port", "0",
                "--maps", TestEnvironment.shippedMaps,
            ], directory: work, name: "simulator")
        defer { simulator.signal(SIGKILL) }
        let output = try await simulator.waitForOutput(containing: "listening on", timeout: .seconds(10))
        let simulatorPort = try #require(
            output.split(separator: "\n").first { $0.hasPrefix("listening on") }.flatMap { Int($0.split(separator: ":").last ?? "") })
        let (receiver, agent) = try Self.startAgent(
            in: work, name: "status", mqtt: "{ url: \"\(broker.url)\", reconnect_max: 1s }",
            bus: "{ id: lan, tcp: { host: 127.0.0.1, port: \(simulatorPort) }, response_timeout: 500ms }",
            devices: "  - { id: meter, bus: lan, unit: 1, model: eastron-sdm630, interval: 1s }", watchdogUSec: "60000000")
        defer { agent.signal(SIGKILL) }

        // The first ping (with its STATUS) goes out at start; the next one 30 s later. Everything in between is
        // change-driven.
        let good = await Self.next(receiver, within: .seconds(20)) {
            $0.contains("STATUS=1/1 devices answering") && $0.contains("broker connected to \(broker.url)")
        }
        #expect(good != nil, "no STATUS with the device answering and the broker connected; log:\n\(agent.standardError.suffix(2000))")

        await broker.stop()
        let lost = await Self.next(receiver, within: .seconds(10)) {
            $0.contains("broker disconnected (connection lost at ")
        }
        #expect(lost != nil, "no STATUS after the broker went away")

        // Rate: over 5 s of a broker coming and going and a device answering, at most one line per second.
        var lines = 0
        let window = ContinuousClock.now + .seconds(5)
        try await broker.start()
        while ContinuousClock.now < window {
            while let message = receiver.receive(timeout: .zero) {
                if message.contains("STATUS=") { lines += 1 }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        #expect(lines >= 1 && lines <= 6, "change-driven STATUS lines in 5 s: \(lines)")
        await broker.stop()
    }
}
