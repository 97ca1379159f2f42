import SitegateCore
import SitegateThreads

/// The config in force, shared by the services that read it; a reload that validated replaces it.
public final class ConfigStore: Sendable {
    private let current: LockedValue<SiteConfig>

    public init(_ config: SiteConfig) {
        current = LockedValue(config)
    }

    public var config: SiteConfig { current.withLock { $0 } }

    func replace(with new: SiteConfig) {
        current.withLock { $0 = new }
    }
}
