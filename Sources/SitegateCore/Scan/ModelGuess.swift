/// Which map fits a device best: each candidate map's first request read and decoded, and how many values look
/// right for their units. Pure: the read is passed in, so that scoring is tested without a bus.
public struct ModelGuess: Sendable, Hashable {
    public var map: DeviceMap
    public var plausible: Int
    public var checked: Int
    /// Up to two plausible values, `voltage_l1 230.2 V, voltage_l2 229.8 V`.
    public var sample: String
    /// Other maps whose first read looked exactly as right (same plausible and checked counts).
    public var alsoFits: [String] = []

    public init(map: DeviceMap, plausible: Int, checked: Int, sample: String, alsoFits: [String] = []) {
        self.map = map
        self.plausible = plausible
        self.checked = checked
        self.sample = sample
        self.alsoFits = alsoFits
    }

    /// The request a candidate map is checked with: its first request over the points read by default.
    public static func probeRequest(for map: DeviceMap) -> ReadRequest? {
        RequestPlanner(defaults: map.defaults).plan(map.points.filter { $0.readByDefault && $0.type.isNumeric }).first
    }

    /// Scores one candidate from the registers its probe request returned.
    public static func score(_ map: DeviceMap, request: ReadRequest, registers: [UInt16]) -> ModelGuess {
        var plausible = 0
        var sample: [String] = []
        for p in request.points {
            let start = p.address - request.address
            guard start >= 0, start + p.length <= registers.count,
                case .number(let v) = RegisterDecoder.decode(registers[start..<(start + p.length)], as: p)
            else { continue }
            if isPlausible(v, unit: p.unit) {
                plausible += 1
                if sample.count < 2 { sample.append("\(p.id) \(NumberDisplay.shortest(v)) \(p.unit ?? "")") }
            }
        }
        return ModelGuess(map: map, plausible: plausible, checked: request.points.count, sample: sample.joined(separator: ", "))
    }

    /// The best of the candidates; `read` returns a request's registers, nil when the device did not answer it.
    public static func best(candidates: [DeviceMap], read: (ReadRequest) -> [UInt16]?) -> ModelGuess? {
        let all = candidates.compactMap { map -> ModelGuess? in
            guard let request = probeRequest(for: map), let registers = read(request) else { return nil }
            let guess = score(map, request: request, registers: registers)
            return guess.plausible > 0 ? guess : nil
        }
        return choose(all)
    }

    /// Prefers more evidence (plausible values), then a larger share of plausible values: an SDM630 and an SDM120
    /// both have a voltage at 0x0000, but only the SDM630 has two more after it. Ties keep the first candidate and
    /// name the others in `alsoFits`.
    public static func choose(_ guesses: [ModelGuess]) -> ModelGuess? {
        var best: ModelGuess? = nil
        for guess in guesses where guess.plausible > 0 {
            if let b = best, guess.plausible < b.plausible || (guess.plausible == b.plausible && guess.checked >= b.checked) {
                continue
            }
            best = guess
        }
        if let chosen = best {
            best?.alsoFits = guesses.filter {
                $0.map.id != chosen.map.id && $0.plausible == chosen.plausible && $0.checked == chosen.checked
            }.map(\.map.id)
        }
        return best
    }

    /// Whether a value could be a meter's reading in `unit`.
    public static func isPlausible(_ v: Double, unit: String?) -> Bool {
        switch unit {
        case "V": return (80...500).contains(v)
        case "Hz": return (45...65).contains(v)
        case "A": return (0.001...10000).contains(abs(v))
        // A wrong word order often gives a tiny number (1e-22 W): not zero, yet no meter value either.
        case "W", "var", "VA": return (1e-3..<1e7).contains(abs(v))
        case "kWh", "kvarh", "Wh", "m3", "J", "count": return (1e-3..<1e12).contains(v)
        case "/": return (1e-3...1).contains(abs(v))
        case "Cel": return (-40...200).contains(v) && abs(v) >= 1e-3
        default: return false
        }
    }
}
