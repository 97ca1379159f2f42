/// Estimates how long transactions take on a bus, to tell whether a schedule fits (METERS.md §3, MBSL V1.02).
///
/// RTU: T = (8 + 5 + 2N) character times for request and answer, plus the device's turnaround, plus the idle gap
/// before the next request (at least t3.5, or the map's and bus's delay when longer). Above 19200 baud the spec
/// fixes t3.5 at 1.75 ms. TCP: a fixed round trip, plus the same idle gap (the map's only behind a TCP-to-RTU
/// gateway, see `DevicePlan.minDelay(on:)`).
///
/// Only the wire time of an RTU line is certain (characters and t3.5 silences, whatever the devices do); the rest
/// (turnaround, TCP round trips) is a typical figure, so a schedule that exceeds it earns a warning, not an error.
public struct BusTimingModel: Sendable, Hashable {
    /// Typical reply latency of a meter (Carlo Gavazzi documents 40 ms typical, 500 ms maximum).
    public var turnaround: Duration
    /// Typical round trip on a LAN or through an RTU-to-TCP gateway.
    public var tcpRoundTrip: Duration

    public init(turnaround: Duration = .milliseconds(40), tcpRoundTrip: Duration = .milliseconds(5)) {
        self.turnaround = turnaround
        self.tcpRoundTrip = tcpRoundTrip
    }

    /// Seconds per character on a serial line: start bit, data bits, parity bit if any, stop bits.
    public static func characterTime(baud: Int, dataBits: Int, parity: Parity, stopBits: Int) -> Double {
        Double(1 + dataBits + (parity == .none ? 0 : 1) + stopBits) / Double(baud)
    }

    /// The inter-frame silence t3.5 in seconds.
    public static func t35(baud: Int, characterTime: Double) -> Double {
        baud > 19200 ? 0.00175 : 3.5 * characterTime
    }

    /// Estimated duration of one read of `registers` registers, including the idle gap after it.
    public func transactionTime(registers: Int, bus: BusConfig, minDelay: Duration) -> Double {
        let gap = max(seconds(minDelay), seconds(bus.delayBetweenRequests))
        switch bus.transport {
        case .tcp:
            return seconds(tcpRoundTrip) + gap
        case .rtu(_, let baud, let parity, let dataBits, let stopBits):
            let tChar = Self.characterTime(baud: baud, dataBits: dataBits, parity: parity, stopBits: stopBits)
            let t35 = Self.t35(baud: baud, characterTime: tChar)
            let frames = Double(8 + 5 + 2 * registers) * tChar
            return frames + max(t35, seconds(turnaround)) + max(t35, gap)
        }
    }

    /// Estimated bus time of one poll of `plan`.
    public func pollTime(_ plan: DevicePlan, bus: BusConfig) -> Double {
        let minDelay = plan.minDelay(on: bus)
        return plan.requests.reduce(0) { $0 + transactionTime(registers: $1.count, bus: bus, minDelay: minDelay) }
    }

    /// The least time one read of `registers` registers occupies an RTU line: request and answer frames, each
    /// followed by the t3.5 silence. Zero over TCP, where nothing is certain.
    public static func wireTime(registers: Int, bus: BusConfig) -> Double {
        guard case .rtu(_, let baud, let parity, let dataBits, let stopBits) = bus.transport else { return 0 }
        let tChar = characterTime(baud: baud, dataBits: dataBits, parity: parity, stopBits: stopBits)
        return Double(8 + 5 + 2 * registers) * tChar + 2 * t35(baud: baud, characterTime: tChar)
    }

    /// The least bus time one poll of `plan` occupies an RTU line (zero over TCP).
    public static func wireTime(_ plan: DevicePlan, bus: BusConfig) -> Double {
        plan.requests.reduce(0) { $0 + wireTime(registers: $1.count, bus: bus) }
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.milliseconds) / 1000
    }
}
