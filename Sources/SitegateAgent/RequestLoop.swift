import ServiceLifecycle
import SitegateThreads

#if canImport(Glibc)
import Glibc
#endif

/// The loop behind the control socket and the metrics listener: accept one connection on a dedicated thread, read
/// its request there, answer it from Swift, close it; until graceful shutdown, which unblocks `accept()`.
/// One connection at a time is all a technician's CLI or a scraper needs.
enum RequestLoop {
    /// Opens the listener on `thread`. When that fails, `unavailable` hears why and the call returns nil only at
    /// graceful shutdown: these listeners are a convenience, and a service that returned early would stop the agent.
    static func listen(
        on thread: DedicatedThread, _ open: @escaping @Sendable () throws -> Int32, unavailable: (any Error) -> Void
    ) async -> Int32? {
        do {
            return try await thread.run { try open() }
        } catch {
            unavailable(error)
            try? await gracefulShutdown()
            return nil
        }
    }

    static func serve(
        listener: Int32, on thread: DedicatedThread, readRequest: @escaping @Sendable (Int32) throws -> String,
        respond: @escaping @Sendable (String) async -> String
    ) async {
        await withGracefulShutdownHandler {
            while true {
                let client: Int32
                do { client = try await thread.run { try UnixSocket.accept(listener) } } catch { break }
                let request = (try? await thread.run { try readRequest(client) }) ?? ""
                let response = await respond(request)
                _ = try? await thread.run { UnixSocket.writeAll(client, response) }
                close(client)
            }
        } onGracefulShutdown: {
            shutdown(listener, Int32(SHUT_RDWR))
        }
    }
}
