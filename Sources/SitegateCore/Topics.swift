/// The MQTT topic layout of docs/payload.md.
public struct TopicLayout: Sendable, Hashable {
    public var prefix: String
    public var site: String
    public var gateway: String

    public init(prefix: String, site: String, gateway: String) {
        self.prefix = prefix
        self.site = site
        self.gateway = gateway
    }

    public var gatewayRoot: String { "\(prefix)/\(site)/\(gateway)" }

    public func data(device: String) -> String { "\(gatewayRoot)/\(device)/data" }

    /// Retained: what the device is, its map and points.
    public func meta(device: String) -> String { "\(gatewayRoot)/\(device)/meta" }

    /// Retained: online (birth) or offline (last will or clean stop).
    public var status: String { "\(gatewayRoot)/status" }

    /// The gateway's messages in the evidence chain: checkpoints, gap notices, chain starts, key handovers.
    public var evidence: String { "\(gatewayRoot)/evidence" }

    /// Where backends ask for archived messages again (docs/evidence.md, "Replay").
    public var replayRequest: String { "\(gatewayRoot)/replay/request" }

    /// The answer to the replay request `id`: one level deeper than data topics, so that no id (`data`, `meta`)
    /// can look like a device's topic.
    public func replayAnswer(id: String) -> String { "\(gatewayRoot)/replay/answer/\(id)" }

    /// Periodic: read and error counters, buffer state.
    public var health: String { "\(gatewayRoot)/health" }
}
