/// The gateway's retained status: the birth message (`online`) and the last will (`offline`), on
/// {prefix}/{site}/{gateway}/status. docs/payload.md; `status` in docs/gateway-messages.schema.json.
public struct GatewayStatusMessage: JSONMessage, Hashable {
    public enum State: String, Sendable { case online, offline }
    public enum Key: String, JSONKey { case state, site, gateway, version, started, configHash = "config_hash" }

    public var state: State
    public var site: String
    public var gateway: String
    public var version: String
    /// When the agent started, as written: `2026-11-29T04:52:34.557Z`.
    public var started: String
    /// `fnv1a64:...` of the config file, or `unknown`.
    public var configHash: String

    public init(state: State, site: String, gateway: String, version: String, started: String, configHash: String) {
        self.state = state
        self.site = site
        self.gateway = gateway
        self.version = version
        self.started = started
        self.configHash = configHash
    }

    public var json: String {
        JSONObjectWriter.object(
            Key.self,
            [
                .state: .string(state.rawValue), .site: .string(site), .gateway: .string(gateway),
                .version: .string(version), .started: .string(started), .configHash: .string(configHash),
            ])
    }

    public init?(fields r: JSONObjectReader) {
        guard let state = r.string(Key.state).flatMap(State.init(rawValue:)), let site = r.string(Key.site),
            let gateway = r.string(Key.gateway)
        else { return nil }
        self.init(
            state: state, site: site, gateway: gateway, version: r.string(Key.version) ?? "",
            started: r.string(Key.started) ?? "", configHash: r.string(Key.configHash) ?? "unknown")
    }
}

/// The control socket's answer when it cannot do what was asked: `{"error":"..."}`.
public struct ControlErrorReply: JSONMessage, Hashable {
    public enum Key: String, JSONKey { case error }

    public var error: String

    public init(_ error: String) { self.error = error }

    public var json: String {
        JSONObjectWriter.object(Key.self, [.error: .string(error)])
    }

    public init?(fields r: JSONObjectReader) {
        guard let error = r.string(Key.error) else { return nil }
        self.error = error
    }
}
