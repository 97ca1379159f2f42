import UnixSignals

/// What stops and reloads a running agent. In production, signals: SIGTERM and SIGINT stop it gracefully, SIGHUP
/// reloads its config. An in-process test handles no signal: it stops the agent with `ServiceLifecycleTestKit`'s
/// graceful shutdown and asks for reloads through a stream.
public struct AgentTriggers: Sendable {
    let shutdownSignals: [UnixSignal]
    /// Nil: SIGHUP.
    let reloadRequests: AsyncStream<Void>?

    public static let signals = AgentTriggers(shutdownSignals: [.sigterm, .sigint], reloadRequests: nil)

    /// Each element yielded to `reloads` reloads the config, as SIGHUP does.
    public static func inProcess(reloads: AsyncStream<Void>) -> AgentTriggers {
        AgentTriggers(shutdownSignals: [], reloadRequests: reloads)
    }
}
