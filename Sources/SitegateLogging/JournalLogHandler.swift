import Logging
import SitegateCore

/// A swift-log handler for a systemd service: one `JournalLine` per event on standard error.
///
///     LoggingSystem.bootstrap { label in
///         var handler = JournalLogHandler.standardError(label: label)
///         handler.logLevel = level
///         return handler
///     }
///
/// Under systemd journald stamps and labels every entry (time, unit, `SYSLOG_IDENTIFIER`), so the line carries only
/// the priority prefix, the message and the metadata; elsewhere (a terminal, a file) it carries an ISO 8601 UTC
/// timestamp and the level's name instead of the prefix.
/// The label is kept but not printed: the unit already names the program.
///
/// Metadata is merged as `StreamLogHandler` does: the handler's, then the metadata provider's, then the event's;
/// an event's error adds `error.message` and `error.type`.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public let label: String
    /// Whether lines carry a timestamp and the level's name (not under journald) rather than the `<N>` prefix.
    public let timestamps: Bool
    private let clock: any WallClock
    private let output: @Sendable (String) -> Void

    /// Standard error: the journal's `<N>` prefix when standard error is the journal (`JournalStream`), timestamps
    /// otherwise.
    public static func standardError(
        label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    ) -> JournalLogHandler {
        JournalLogHandler(
            label: label, timestamps: !JournalStream.standardErrorIsJournal, metadataProvider: metadataProvider,
            output: { StandardError.write(line: $0) })
    }

    /// - Parameter output: receives each line without its newline; tests collect them.
    public init(
        label: String, timestamps: Bool, clock: any WallClock = SystemWallClock(),
        metadataProvider: Logger.MetadataProvider? = nil, output: @escaping @Sendable (String) -> Void
    ) {
        self.label = label
        self.timestamps = timestamps
        self.clock = clock
        self.metadataProvider = metadataProvider
        self.output = output
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided, uniquingKeysWith: { _, provided in provided })
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit, uniquingKeysWith: { _, explicit in explicit })
        }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        output(
            JournalLine.format(
                level: event.level, message: event.message.description, metadata: merged,
                timestamp: timestamps ? clock.now() : nil))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
}
