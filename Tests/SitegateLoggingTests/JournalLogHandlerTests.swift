import Logging
import SitegateCore
import SitegateLogging
import SitegateTestSupport
import SitegateThreads
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Lines a handler wrote, collected from whichever thread logged them.
final class LineSink: Sendable {
    private let lines = LockedValue<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }
}

struct FixedClock: WallClock {
    var time: UnixTime
    func now() -> UnixTime { time }
}

@Suite struct JournalLogHandlerTests {
    static func logger(timestamps: Bool = false, provider: Logger.MetadataProvider? = nil) -> (Logger, LineSink) {
        let sink = LineSink()
        let clock = FixedClock(time: UnixTime(seconds: 1_767_225_600))
        // A factory of its own: LoggingSystem.bootstrap may run once per process, and other suites share it.
        let logger = Logger(label: "sitegate") { label in
            JournalLogHandler(
                label: label, timestamps: timestamps, clock: clock, metadataProvider: provider,
                output: { sink.append($0) })
        }
        return (logger, sink)
    }

    @Test func oneLinePerEventWithMergedMetadata() {
        var (logger, sink) = Self.logger()
        logger[metadataKey: "bus.id"] = "plant-lan"
        logger.info("device answers", metadata: ["device.id": "main-incomer"])
        logger.warning("device not answering: timeout", metadata: ["bus.id": "override", "modbus.unit": "1"])
        #expect(
            sink.all == [
                "<6>device answers bus.id=plant-lan device.id=main-incomer",
                "<4>device not answering: timeout bus.id=override modbus.unit=1",
            ])
    }

    @Test func theMetadataProviderSitsBetweenHandlerAndEvent() {
        let provider = Logger.MetadataProvider { ["site.id": "demo-park", "device.id": "from-provider"] }
        var (logger, sink) = Self.logger(provider: provider)
        logger[metadataKey: "site.id"] = "from-handler"
        logger.info("x", metadata: ["device.id": "from-event"])
        #expect(sink.all == ["<6>x device.id=from-event site.id=demo-park"])
    }

    @Test func levelsBelowTheLoggersAreDropped() {
        var (logger, sink) = Self.logger()
        logger.logLevel = .warning
        logger.info("not shown")
        logger.debug("not shown")
        logger.error("shown")
        #expect(sink.all == ["<3>shown"])
    }

    @Test func timestampsWhenNotUnderJournald() {
        let (logger, sink) = Self.logger(timestamps: true)
        logger.notice("buffer opened", metadata: ["buffer.depth": "0"])
        #expect(sink.all == ["2026-01-01T00:00:00.000Z notice buffer opened buffer.depth=0"])
    }

    struct ExampleError: Error, CustomStringConvertible {
        var description: String { "disk full" }
    }

    @Test func anErrorAddsItsMessageAndType() {
        let (logger, sink) = Self.logger()
        logger.error("cannot commit", error: ExampleError())
        let line = sink.all.first ?? ""
        #expect(line.hasPrefix(#"<3>cannot commit error.message="disk full" error.type="#))
        #expect(line.hasSuffix("ExampleError"))
    }

    @Test func handlerSettingsAreValues() {
        var (first, _) = Self.logger()
        first.logLevel = .debug
        first[metadataKey: "only-on"] = "first"
        var second = first
        second.logLevel = .error
        second[metadataKey: "only-on"] = "second"
        #expect(first.logLevel == .debug)
        #expect(second.logLevel == .error)
        #expect(first[metadataKey: "only-on"] == "first")
        #expect(second[metadataKey: "only-on"] == "second")
    }

    @Test func journalStreamMatchesOnlyItsOwnDescriptor() throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        let path = "\(directory)/stream"
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer {
            close(fd)
            unlink(path)
            rmdir(directory)
        }
        var info = stat()
        try #require(fstat(fd, &info) == 0)
        let mine = "\(info.st_dev):\(info.st_ino)"
        #expect(JournalStream.isConnected(descriptor: fd, journalStream: mine))
        #expect(!JournalStream.isConnected(descriptor: fd, journalStream: "\(info.st_dev):\(info.st_ino + 1)"))
        #expect(!JournalStream.isConnected(descriptor: fd, journalStream: nil))
        #expect(!JournalStream.isConnected(descriptor: fd, journalStream: "garbage"))
        #expect(!JournalStream.isConnected(descriptor: fd, journalStream: "\(info.st_dev):\(info.st_ino):1"))
        #expect(!JournalStream.isConnected(descriptor: -1, journalStream: mine))
    }
}
