import SitegateMQTT

extension MQTTClient {
    /// Folds the client's events into `state` with `handle` until it says the exchange is over (true) or `timeout`
    /// has passed; either way returns the state reached, and whether the time ran out. For the short-lived clients
    /// of `mqtt-test` and `replay`; the events stream ends when its task is cancelled.
    func follow<State: Sendable>(
        from initial: State, timeout: Duration, _ handle: @escaping @Sendable (inout State, MQTTEvent) -> Bool
    ) async -> (state: State, timedOut: Bool) {
        await withTaskGroup(of: State?.self) { group in
            group.addTask {
                var state = initial
                for await event in self.events where handle(&state, event) { break }
                return state
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next()!
            group.cancelAll()
            if let first { return (first, false) }
            return (await group.next()! ?? initial, true)
        }
    }
}
