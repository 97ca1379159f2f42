import SitegateCore
import SitegateThreads

/// The agent's current view of every device, shared by the pollers (writers) and status reporting (readers).
public final class HealthBoard: Sendable {
    private let devices = LockedValue<[String: DeviceHealth]>([:])

    public init() {}

    func update(_ deviceID: String, _ body: (inout DeviceHealth) -> Void) {
        devices.withLock { body(&$0[deviceID, default: DeviceHealth()]) }
    }

    public func snapshot() -> [String: DeviceHealth] {
        devices.withLock { $0 }
    }
}
