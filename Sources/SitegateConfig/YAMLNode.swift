import SitegateCore

/// A YAML document as a tree, every node marked with where it starts in the file.
public indirect enum YAMLNode: Sendable {
    case scalar(String, plain: Bool, SourceLocation)
    case mapping([(key: YAMLNode, value: YAMLNode)], SourceLocation)
    case sequence([YAMLNode], SourceLocation)

    public var location: SourceLocation {
        switch self {
        case .scalar(_, _, let l), .mapping(_, let l), .sequence(_, let l): l
        }
    }

    public var scalarText: String? {
        if case .scalar(let s, _, _) = self { return s }
        return nil
    }

    /// A plain (unquoted) `~`, `null` or empty scalar.
    public var isNull: Bool {
        if case .scalar(let s, let plain, _) = self { return plain && ["", "~", "null", "Null", "NULL"].contains(s) }
        return false
    }

    var kindName: String {
        switch self {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}
