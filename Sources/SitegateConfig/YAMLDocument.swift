import SitegateCore

/// The steps every YAML file of the project goes through: read the file, parse it, read the document with a
/// diagnostic sink, throw every error at once.
enum YAMLDocument {
    /// The text of `path`; a file that cannot be read is an error at its line 1, column 1.
    static func text(of path: String) throws(ConfigurationError) -> String {
        do { return try TextFile.read(path) } catch {
            throw ConfigurationError(diagnostics: [
                Diagnostic(.error, error.reason, at: SourceLocation(file: path, line: 1, column: 1))
            ])
        }
    }

    /// Parses `text` and reads it with `read`: throws every diagnostic when anything is wrong, else returns the value
    /// with the warnings. `what` names the document for the error an empty one gets ("the config file").
    static func read<Value>(
        _ text: String, file: String, what: String, _ read: (YAMLNode, DiagnosticSink) -> Value?
    ) throws(ConfigurationError) -> (value: Value, warnings: [Diagnostic]) {
        guard let root = try YAMLParser.parse(text, file: file) else {
            throw ConfigurationError(diagnostics: [
                Diagnostic(.error, "\(what) is empty", at: SourceLocation(file: file, line: 1, column: 1))
            ])
        }
        let sink = DiagnosticSink()
        let value = read(root, sink)
        guard !sink.hasErrors, let value else { throw ConfigurationError(diagnostics: sink.sorted) }
        return (value, sink.sorted)
    }
}
