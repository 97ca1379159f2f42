import Logging
import SitegateCore
import SitegateThreads

/// One bus (a serial line or a TCP endpoint) with the only thread that talks on it.
///
/// Every transaction of the bus runs on that thread in order, so a libmodbus context is never shared and an RS-485
/// line carries one transaction at a time. A dead bus blocks only its own thread.
public final class ModbusBus: Sendable {
    public let config: BusConfig
    private let thread: DedicatedThread
    // Only touched from `thread`: the jobs are the sole users.
    private let state: LockedValue<ConnectionState>

    private struct ConnectionState: @unchecked Sendable {
        // @unchecked: the connection is used only by jobs on the bus thread; the lock just hands it over.
        var connection: ModbusConnection?
        var lastTransactionEnd: UnixTime?
    }

    public init(config: BusConfig) {
        self.config = config
        thread = DedicatedThread(name: "bus-\(config.id)")
        state = LockedValue(ConnectionState())
    }

    /// Runs `body` on the bus thread with the bus's connection, opening it if needed.
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (ModbusTransaction) throws -> T
    ) async throws -> T {
        try await thread.run { [self] in
            let connection: ModbusConnection = try state.withLock { s in
                if let c = s.connection { return c }
                let c = try ModbusConnection(
                    transport: config.transport, responseTimeout: config.responseTimeout,
                    byteTimeout: config.byteTimeout, rs485: config.rs485)
                s.connection = c
                return c
            }
            let lastEnd = state.withLock { $0.lastTransactionEnd }
            let transaction = ModbusTransaction(connection: connection, bus: config, lastTransactionEnd: lastEnd)
            defer { state.withLock { $0.lastTransactionEnd = transaction.lastTransactionEnd } }
            return try body(transaction)
        }
    }

    /// Closes the connection and ends the thread after queued work.
    public func shutdown() {
        thread.submit { [state] in
            state.withLock { s in
                s.connection?.close()
                s.connection = nil
            }
        }
        thread.shutdown()
    }
}

/// Access to a bus's connection inside one job on the bus thread, keeping the idle gap between transactions.
public final class ModbusTransaction {
    private let connection: ModbusConnection
    public let bus: BusConfig
    fileprivate var lastTransactionEnd: UnixTime?
    private let clock = SystemWallClock()

    fileprivate init(connection: ModbusConnection, bus: BusConfig, lastTransactionEnd: UnixTime?) {
        self.connection = connection
        self.bus = bus
        self.lastTransactionEnd = lastTransactionEnd
    }

    /// One read; waits first so that at least `minDelay` (and the bus's delay) passed since the last transaction.
    /// Returns the registers and when the request was sent.
    public func read(unit: Int, function: RegisterFunction, address: Int, count: Int, minDelay: Duration = .zero)
        throws(ModbusError) -> (registers: [UInt16], sentAt: UnixTime)
    {
        // libmodbus does not keep the RTU silent interval itself: t3.5 at least, or what the bus and map ask.
        let gap = max(minDelay, bus.delayBetweenRequests, bus.transport.minimumIdle)
        if let last = lastTransactionEnd, gap > .zero {
            let wait = (last + gap) - clock.now()
            if wait > .zero { sleep(wait) }
        }
        let sentAt = clock.now()
        defer { lastTransactionEnd = clock.now() }
        let registers = try connection.read(unit: unit, function: function, address: address, count: count)
        return (registers, sentAt)
    }

    private func sleep(_ d: Duration) {
        var request = timespec(tv_sec: Int(d.components.seconds), tv_nsec: Int(d.components.attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

#if canImport(Glibc)
import Glibc
#endif
