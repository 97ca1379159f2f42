import SitegateCore

/// The outcome of one poll of one device: the readings that succeeded and the errors of those that did not.
public struct ReadOutcome: Sendable {
    public var poll: Poll?
    public var errors: [ModbusError]
    public var transactions: Int
    /// Raw registers per published point, in wire order, for diagnosis (`sitegate read`).
    public var raw: [String: [UInt16]]

    public init(poll: Poll?, errors: [ModbusError], transactions: Int, raw: [String: [UInt16]]) {
        self.poll = poll
        self.errors = errors
        self.transactions = transactions
        self.raw = raw
    }
}

/// Executes a device plan on a bus thread and decodes what comes back. A failed transaction yields no readings for
/// its points: never a stale value with a fresh timestamp.
public enum DeviceReader {
    public static func read(_ plan: DevicePlan, on bus: ModbusTransaction) -> ReadOutcome {
        var readings: [Reading] = []
        var errors: [ModbusError] = []
        var raw: [String: [UInt16]] = [:]
        var firstSent: UnixTime? = nil
        var pending: [(point: PointDefinition, words: [UInt16], sentAt: UnixTime)] = []
        var scaleFactors: [String: Int] = [:]
        var transactions = 0
        for request in plan.requests {
            transactions += 1
            let result: (registers: [UInt16], sentAt: UnixTime)
            do {
                result = try bus.read(
                    unit: plan.unit, function: request.function, address: request.address, count: request.count,
                    minDelay: plan.minDelay)
            } catch {
                errors.append(error)
                // A silent or unreachable device would cost a timeout per request: give up on it for this poll.
                if case .exception = error { continue }
                break
            }
            if firstSent == nil { firstSent = result.sentAt }
            for point in request.points {
                let start = point.address - request.address
                let words = Array(result.registers[start..<(start + point.length)])
                if point.id.hasPrefix(DevicePlan.scaleFactorPrefix) {
                    scaleFactors["\(point.function.rawValue)/\(point.address)"] = Int(Int16(bitPattern: words[0]))
                } else {
                    pending.append((point, words, result.sentAt))
                }
            }
        }
        guard let takenAt = firstSent else {
            return ReadOutcome(poll: nil, errors: errors, transactions: transactions, raw: raw)
        }
        for (point, words, sentAt) in pending {
            raw[point.id] = words
            let sf = point.scaleRegister.flatMap { scaleFactors["\(point.function.rawValue)/\($0)"] } ?? 0
            let value: Reading.Value
            switch RegisterDecoder.decode(words, as: point, scaleFactor: sf) {
            case .number(let v): value = .number(v)
            case .text(let s): value = .text(s)
            case .invalid: value = .invalid(raw: words.map(hex4).joined())
            }
            readings.append(Reading(pointID: point.id, unit: point.unit, value: value, offset: sentAt - takenAt))
        }
        return ReadOutcome(
            poll: readings.isEmpty ? nil : Poll(deviceID: plan.deviceID, takenAt: takenAt, readings: readings),
            errors: errors, transactions: transactions, raw: raw)
    }
}

func hex4(_ w: UInt16) -> String {
    let s = String(w, radix: 16)
    return String(repeating: "0", count: 4 - s.count) + s
}
