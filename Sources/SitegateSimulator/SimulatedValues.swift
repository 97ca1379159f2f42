import SitegateCore

#if canImport(Glibc)
import Glibc
#endif

/// Plausible, deterministic meter values: a function of the point, the unit id and the seconds since start.
/// Counters only grow; gauges wander around a typical value. With `elapsed` 0 (a frozen simulator) every value is
/// a fixed function of point and unit, which tests compute the same way.
public enum SimulatedValues {
    public static func value(for point: PointDefinition, unit: Int, elapsed: Double) -> Double {
        let u = Double(unit)
        let phase = Double(phaseIndex(point.id))
        let wobble = sin(elapsed / 7 + phase + u)
        switch point.unit {
        case "V": return 230 + u * 0.1 + phase * 0.3 + wobble * 1.5
        case "A": return 5 + u + phase * 0.5 + wobble * 0.8
        case "W", "VA", "var": return (1000 + u * 150 + phase * 40) * (1 + wobble * 0.05)
        case "kW", "kVA", "kvar": return (1 + u * 0.15 + phase * 0.04) * (1 + wobble * 0.05)
        case "Hz": return 50 + wobble * 0.02
        case "/": return 0.95 + wobble * 0.02
        case "Cel": return (point.id.contains("return") ? 40 : 65) + wobble
        case "K": return 25 + wobble
        case "m3/s", "l/s": return 0.001 * u * (1 + wobble * 0.1)
        default: break
        }
        guard point.kind == .counter else { return u + phase }
        // Counters: a start value per unit and point, growing at a steady rate; exported and reactive energy
        // start lower and grow slower, as at a consuming site.
        let share = point.id.contains("export") ? 0.05 : point.id.contains("reactive") ? 0.2 : 1
        let start = (1000 * u + 10 * phase + 0.5) * share
        let ratePerSecond: Double = switch point.unit {
        case "kWh", "kvarh", "kVAh": 0.001 * u  // 3.6 kW per unit id
        case "Wh", "varh": 1.0 * u
        case "J": 3600 * u
        case "m3": 0.0001 * u
        case "l": 0.1 * u
        default: 0.01 * u
        }
        return start + ratePerSecond * share * elapsed
    }

    /// 1, 2, 3 for points named ..._l1, ..._l2, ..._l3; 0 otherwise.
    static func phaseIndex(_ id: String) -> Int {
        if id.hasSuffix("_l1") { return 1 }
        if id.hasSuffix("_l2") { return 2 }
        if id.hasSuffix("_l3") { return 3 }
        return 0
    }
}
