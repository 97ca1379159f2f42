import SitegateThreads

/// A flag set once from any thread.
final class LockedFlag: Sendable {
    private let flag = LockedValue(false)
    var value: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}
