import SitegateCore

/// Collects every problem found while reading a file, so that all of them are reported at once.
final class DiagnosticSink {
    private(set) var diagnostics: [Diagnostic] = []

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    func error(_ message: String, at node: YAMLNode) {
        diagnostics.append(Diagnostic(.error, message, at: node.location))
    }

    func error(_ message: String, at location: SourceLocation) {
        diagnostics.append(Diagnostic(.error, message, at: location))
    }

    func warning(_ message: String, at node: YAMLNode) {
        diagnostics.append(Diagnostic(.warning, message, at: node.location))
    }

    func append(contentsOf other: [Diagnostic]) {
        diagnostics += other
    }

    var sorted: [Diagnostic] { diagnostics.sorted { $0.location < $1.location } }
}

/// The closest candidate to `word` within an edit distance of 2, for "did you mean" hints.
func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
    var best: (String, Int)? = nil
    for candidate in candidates {
        let d = editDistance(word.lowercased(), candidate.lowercased())
        if d <= max(1, min(2, word.count / 3)), d < (best?.1 ?? .max) { best = (candidate, d) }
    }
    return best?.0
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
