/// The failover policy for a broker list (`mqtt.url` with several nodes): which node to try next, and how long to
/// wait first.
///
/// The client stays on a node while it works. When an attempt fails (refused, closed without CONNACK, a refusing
/// CONNACK) or an accepted session is lost, it moves to the next node at once, in list order, wrapping around. Only
/// when every node has failed in a row does it wait: capped exponential backoff per full round, randomised to
/// 50-100% so that a park's gateways spread out. An accepted session ends the backoff. With one node this is plain
/// reconnect backoff. libmosquitto's own reconnect always returns to the same host, hence this policy in Swift.
public struct BrokerRotation: Sendable, Hashable {
    public let nodeCount: Int
    public let minDelay: Duration
    public let maxDelay: Duration
    /// The node to try now, or the one in use.
    public private(set) var current = 0
    /// Failures since the last accepted session.
    public private(set) var failuresInARow = 0

    public init(nodeCount: Int, minDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(60)) {
        precondition(nodeCount >= 1, "a broker list is never empty (the loader rejects it)")
        self.nodeCount = nodeCount
        self.minDelay = minDelay
        self.maxDelay = max(minDelay, maxDelay)
    }

    /// The broker accepted a session on the current node.
    public mutating func accepted() {
        failuresInARow = 0
    }

    /// The current node failed; moves on and returns the wait before the next attempt. `jitter` is in 0.5...1.
    public mutating func failed(jitter: Double) -> Duration {
        failuresInARow += 1
        current = (current + 1) % nodeCount
        guard failuresInARow % nodeCount == 0 else { return .zero }  // another node still untried in this round
        let rounds = failuresInARow / nodeCount
        let base = minDelay * (1 << min(rounds - 1, 16))
        return min(base, maxDelay) * jitter
    }
}
