import CYAML
import SitegateCore

/// Parses YAML text with libyaml into `YAMLNode`s. Anchors and aliases are refused: configs stay explicit.
public enum YAMLParser {
    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw ConfigurationError(diagnostics: [
                Diagnostic(.error, "cannot initialise the YAML parser", at: SourceLocation(file: file, line: 1, column: 1))
            ])
        }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer throws(ConfigurationError) -> YAMLNode? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = TreeBuilder(file: file)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    throw ConfigurationError(diagnostics: [syntaxError(parser, file: file)])
                }
                defer { yaml_event_delete(&event) }
                let done = event.type == YAML_STREAM_END_EVENT
                try builder.consume(&event)
                if done { break }
            }
            return builder.document
        }
    }

    private static func syntaxError(_ parser: yaml_parser_t, file: String) -> Diagnostic {
        let problem = parser.problem.map { String(cString: $0) } ?? "syntax error"
        var message = "YAML: \(problem)"
        if let context = parser.context.map({ String(cString: $0) }) {
            message += " (\(context))"
        }
        let mark = parser.problem_mark
        return Diagnostic(
            .error, message, at: SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1))
    }
}

/// Assembles parser events into a tree with an explicit stack (no recursion: deep input cannot overflow the stack).
private struct TreeBuilder {
    enum Open {
        case mapping([(key: YAMLNode, value: YAMLNode)], pendingKey: YAMLNode?, SourceLocation)
        case sequence([YAMLNode], SourceLocation)
    }

    static let maximumDepth = 64

    let file: String
    var stack: [Open] = []
    var document: YAMLNode? = nil
    var documents = 0

    init(file: String) { self.file = file }

    mutating func consume(_ event: inout yaml_event_t) throws(ConfigurationError) {
        let location = SourceLocation(
            file: file, line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                throw ConfigurationError(diagnostics: [
                    Diagnostic(.error, "only one YAML document per file is allowed", at: location)
                ])
            }
        case YAML_ALIAS_EVENT:
            throw ConfigurationError(diagnostics: [
                Diagnostic(.error, "YAML aliases (*name) are not supported; write the value out", at: location)
            ])
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            if scalar.anchor != nil {
                throw ConfigurationError(diagnostics: [
                    Diagnostic(.error, "YAML anchors (&name) are not supported; write the value out", at: location)
                ])
            }
            let text = String(
                decoding: UnsafeBufferPointer(start: scalar.value, count: Int(scalar.length)), as: UTF8.self)
            let plain = scalar.style == YAML_PLAIN_SCALAR_STYLE || scalar.style == YAML_ANY_SCALAR_STYLE
            add(.scalar(text, plain: plain, location))
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            // Configs nest a few levels; a bound keeps hostile input from costing time or stack (tree teardown
            // is recursive).
            if stack.count >= Self.maximumDepth {
                throw ConfigurationError(diagnostics: [
                    Diagnostic(.error, "nested deeper than \(Self.maximumDepth) levels", at: location)
                ])
            }
            stack.append(
                event.type == YAML_SEQUENCE_START_EVENT ? .sequence([], location) : .mapping([], pendingKey: nil, location))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            switch stack.removeLast() {
            case .sequence(let items, let l): add(.sequence(items, l))
            case .mapping(let pairs, _, let l): add(.mapping(pairs, l))
            }
        default:
            break
        }
    }

    private mutating func add(_ node: YAMLNode) {
        guard let top = stack.popLast() else {
            document = node
            return
        }
        switch top {
        case .sequence(var items, let l):
            items.append(node)
            stack.append(.sequence(items, l))
        case .mapping(var pairs, let key, let l):
            if let key {
                pairs.append((key, node))
                stack.append(.mapping(pairs, pendingKey: nil, l))
            } else {
                stack.append(.mapping(pairs, pendingKey: node, l))
            }
        }
    }
}
