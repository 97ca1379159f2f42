import SitegateCore

/// Where `DeviceReader` sends its reads: one transaction at a time to one unit. `ModbusTransaction` (a bus's
/// libmodbus connection on its thread) is the real one; tests read from an in-memory double
/// (SitegateTestSupport's `InMemoryModbusDevice`), as swift-nio's tests use `EmbeddedChannel`.
public protocol RegisterSource {
    /// The bus the reads go over: its timing decides whether a map's `min_delay` applies.
    var bus: BusConfig { get }

    /// One read of `count` registers (or bits) of `unit`, after at least `minDelay` of bus silence. Returns the
    /// registers and when the request was sent.
    func read(unit: Int, function: RegisterFunction, address: Int, count: Int, minDelay: Duration)
        throws(ModbusError) -> (registers: [UInt16], sentAt: UnixTime)
}

extension ModbusTransaction: RegisterSource {}
