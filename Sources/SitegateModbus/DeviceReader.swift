import SitegateCore

/// The outcome of one poll of one device: the readings that succeeded and the errors of those that did not.
public struct ReadOutcome: Sendable {
    /// The readings, with the points that failed beside them; nil when nothing was read (see `poll(tick:clock:)`
    /// for the poll that accounts for the tick either way).
    public var poll: Poll?
    public var errors: [ModbusError]
    /// Every point of the plan that has no value, and why: the failing request's reason for its own points,
    /// `skipped` for the points of requests not sent after it. Points learnt unsupported are not failures.
    public var failures: [PointFailure] = []
    public var transactions: Int
    /// Raw registers per published point, in wire order, for diagnosis (`sitegate read`).
    public var raw: [String: [UInt16]]
    /// Register ranges the device refused inside merged reads: plan around them from now on.
    public var learnedHoles: [RegisterFunction: [Range<Int>]] = [:]
    /// Points the device refuses even when read alone (exception "illegal data address").
    public var unsupportedPoints: [String] = []
    /// Time from the first request sent to the last answer received.
    public var duration: Duration?
    /// When the poll began (a failed poll's time: no request was answered to date it).
    public var startedAt: UnixTime?

    public init(poll: Poll?, errors: [ModbusError], transactions: Int, raw: [String: [UInt16]]) {
        self.poll = poll
        self.errors = errors
        self.transactions = transactions
        self.raw = raw
    }

    /// No transaction could even be tried (the bus could not be opened): every point fails for `error`.
    public static func unreachable(_ plan: DevicePlan, error: ModbusError, at time: UnixTime) -> ReadOutcome {
        var outcome = ReadOutcome(poll: nil, errors: [error], transactions: 0, raw: [:])
        outcome.startedAt = time
        outcome.failures = plan.publishedPoints.map { PointFailure(pointID: $0.id, unit: $0.unit, reason: error.failureReason) }
        return outcome
    }

    /// Why nothing was read: the first error's reason. A plan with no point left to read (every one refused)
    /// has no error of its own this time; the refusal is the reason.
    public var failureReason: FailureReason {
        errors.first?.failureReason ?? .exception(code: ModbusExceptionCode.illegalDataAddress.rawValue)
    }

    /// The poll that accounts for scheduled tick `tick`: the readings with their failed points (full or
    /// partial), or a failed poll with the first error's reason, dated when the poll began.
    public func poll(tick: UnixTime, deviceID: String, clockUnsynchronised: Bool) -> Poll {
        if var poll {
            poll.tick = tick
            poll.clockUnsynchronised = clockUnsynchronised
            return poll
        }
        return .failed(
            deviceID: deviceID, at: startedAt ?? tick, tick: tick, reason: failureReason,
            clockUnsynchronised: clockUnsynchronised)
    }
}

/// Executes a device plan on a bus thread and decodes what comes back. A failed transaction yields no readings for
/// its points: never a stale value with a fresh timestamp.
public enum DeviceReader {
    /// - Parameter keepRaw: keep each point's registers in the outcome (for `sitegate read`; the agent does not).
    public static func read(_ plan: DevicePlan, on bus: some RegisterSource, keepRaw: Bool = false) -> ReadOutcome {
        let started = SystemWallClock().now()
        var outcome = readOnce(plan, on: bus, keepRaw: keepRaw)
        outcome.duration = SystemWallClock().now() - started
        outcome.startedAt = started
        return outcome
    }

    private static func readOnce(_ plan: DevicePlan, on bus: some RegisterSource, keepRaw: Bool) -> ReadOutcome {
        var errors: [ModbusError] = []
        var transactions = 0
        var holes: [RegisterFunction: [Range<Int>]] = [:]
        var unsupported: [String] = []
        var answered: [(request: ReadRequest, registers: [UInt16], sentAt: UnixTime)] = []
        // Why each point without a value has none; points of requests never sent are `skipped`.
        var reasons: [String: FailureReason] = [:]
        for request in plan.requests {
            transactions += 1
            do {
                answered.append(try bus.read(request, of: plan))
            } catch .exception(.illegalDataAddress) where request.points.count > 1 {
                // A merged read crossed registers the device does not have: find them by splitting.
                let split = Splitter(plan: plan, bus: bus)
                split.run(request.points)
                transactions += split.transactions
                answered += split.answered
                unsupported += split.unsupported.map(\.id)
                errors += split.errors
                holes[request.function, default: []] += split.holes(within: request)
                for (part, error) in split.failed {
                    for point in part.points { reasons[point.id] = error.failureReason }
                }
            } catch {
                errors.append(error)
                for point in request.points { reasons[point.id] = error.failureReason }
                // A silent or unreachable device would cost a timeout per request: give up on it for this poll.
                if case .exception = error { continue }
                break
            }
        }
        let failures: [PointFailure]
        if answered.count == plan.requests.count && unsupported.isEmpty && errors.isEmpty {
            // Every planned request answered as planned, and the plan's requests cover its points: none failed.
            // The usual poll; it skips hashing every point id.
            failures = []
        } else {
            let read = Set(answered.lazy.flatMap(\.request.points).map(\.id))
            let refused = Set(unsupported)
            failures = plan.publishedPoints.filter { !read.contains($0.id) && !refused.contains($0.id) }.map {
                PointFailure(pointID: $0.id, unit: $0.unit, reason: reasons[$0.id] ?? .skipped)
            }
        }
        guard let takenAt = answered.map(\.sentAt).min() else {
            var outcome = ReadOutcome(poll: nil, errors: errors, transactions: transactions, raw: [:])
            outcome.failures = failures
            outcome.learnedHoles = holes
            outcome.unsupportedPoints = unsupported
            return outcome
        }
        // SunSpec-style scale factors first, since points may come before their scale register. Taken from the
        // answer's registers, not from the hidden `_sf_` points: a scale register that is also a selected point gets
        // no hidden point (the plan reads it once), and its factor was not applied (values 10^sf off).
        let planPoints = plan.points
        var scaleFactors: [Int: Int] = [:]
        if planPoints.indices.contains(where: { planPoints[$0].scaleRegister != nil }) {
            for p in planPoints.indices {
                guard let address = planPoints[p].scaleRegister, scaleFactors[address] == nil else { continue }
                for (request, registers, _) in answered
                where request.function == planPoints[p].function && address >= request.address
                    && address - request.address < registers.count
                {
                    scaleFactors[address] = Int(Int16(bitPattern: registers[address - request.address]))
                }
            }
        }
        var raw: [String: [UInt16]] = [:]
        // Decoded straight from the answer's registers, each point's fields read through a pointer (taken from the
        // Array, a point was copied whole for every reading), the readings written into one buffer sized up front.
        let bound = answered.reduce(0) { $0 + $1.request.points.count }
        let readings = [Reading](unsafeUninitializedCapacity: bound) { buffer, count in
            for (request, registers, sentAt) in answered {
                // One offset per request (a Duration is 128-bit: made per reading it was a multiplication each).
                let offset = sentAt - takenAt
                request.points.withUnsafeBufferPointer { points in
                    for p in points.indices where !points[p].isScaleFactor {
                        let start = points[p].address - request.address
                        let words = registers[start..<(start + points[p].length)]
                        if keepRaw { raw[points[p].id] = Array(words) }
                        let sf = points[p].scaleRegister.flatMap { scaleFactors[$0] } ?? 0
                        let value: Reading.Value
                        let decoded = RegisterDecoder.decode(
                            words, type: points[p].type, order: points[p].wordOrder, invalid: points[p].invalid,
                            scale: points[p].scale, offset: points[p].offset, scaleFactor: sf)
                        switch decoded {
                        case .number(let v): value = .number(v)
                        case .text(let s): value = .text(s)
                        case .invalid: value = .invalid(raw: words.map { Hex.word($0, uppercase: false) }.joined())
                        }
                        buffer.initializeElement(
                            at: count, to: Reading(pointID: points[p].id, unit: points[p].unit, value: value, offset: offset))
                        count += 1
                    }
                }
            }
        }
        var outcome = ReadOutcome(
            poll: readings.isEmpty
                ? nil : Poll(deviceID: plan.deviceID, takenAt: takenAt, readings: readings, failures: failures),
            errors: errors, transactions: transactions, raw: raw)
        outcome.failures = failures
        outcome.learnedHoles = holes
        outcome.unsupportedPoints = unsupported
        return outcome
    }
}

/// Bisects a refused merged read: halves of its points are read until every point is either answered (in the
/// largest groups that work) or refused alone.
private final class Splitter<Source: RegisterSource> {
    let plan: DevicePlan
    let bus: Source
    var answered: [(request: ReadRequest, registers: [UInt16], sentAt: UnixTime)] = []
    var unsupported: [PointDefinition] = []
    /// Parts that failed for another reason (a timeout, a bad CRC): unknown, not refused, so never learnt as holes.
    var failed: [(request: ReadRequest, error: ModbusError)] = []
    var errors: [ModbusError] = []
    var transactions = 0

    init(plan: DevicePlan, bus: Source) {
        self.plan = plan
        self.bus = bus
    }

    func run(_ points: [PointDefinition]) {
        let half = points.count / 2
        for part in [Array(points[..<half]), Array(points[half...])] where !part.isEmpty {
            let request = Self.request(for: part, evenPairs: plan.requests.allSatisfy { $0.address % 2 == 0 && $0.count % 2 == 0 })
            transactions += 1
            do {
                answered.append(try bus.read(request, of: plan))
            } catch .exception(.illegalDataAddress) {
                if part.count > 1 {
                    run(part)
                } else {
                    unsupported.append(part[0])
                    errors.append(.exception(.illegalDataAddress))
                }
            } catch {
                errors.append(error)
                failed.append((request, error))
            }
        }
    }

    /// The registers of `request` that only refusals cover: not read by a part that worked, nor by one that failed
    /// for another reason (a glitch says nothing about which registers exist).
    func holes(within request: ReadRequest) -> [Range<Int>] {
        let covered = (answered.map(\.request) + failed.map(\.request)).map { $0.address..<$0.endAddress }.sorted { $0.lowerBound < $1.lowerBound }
        var holes: [Range<Int>] = []
        var cursor = request.address
        for range in covered {
            if range.lowerBound > cursor { holes.append(cursor..<range.lowerBound) }
            cursor = max(cursor, range.upperBound)
        }
        if cursor < request.endAddress { holes.append(cursor..<request.endAddress) }
        // Unsupported points are holes too, so that later plans leave them out of merged reads.
        holes += unsupported.map { $0.address..<$0.endAddress }
        return holes
    }

    static func request(for points: [PointDefinition], evenPairs: Bool) -> ReadRequest {
        var start = points.map(\.address).min()!
        var end = points.map(\.endAddress).max()!
        if evenPairs {
            start &= ~1
            end = (end + 1) & ~1
        }
        return ReadRequest(function: points[0].function, address: start, count: end - start, points: points)
    }
}

extension PointDefinition {
    /// A scale-factor register the plan reads for other points (`_sf_...`), not a point of its own. The first byte
    /// first: point ids rarely start with an underscore, and `hasPrefix` for every point of every poll showed.
    var isScaleFactor: Bool {
        id.utf8.first == UInt8(ascii: "_") && id.hasPrefix(DevicePlan.scaleFactorPrefix)
    }
}

extension DevicePlan {
    /// The points a poll publishes, in plan order: scale-factor registers are read for the others, not published.
    var publishedPoints: [PointDefinition] {
        points.filter { !$0.isScaleFactor }
    }
}

extension RegisterSource {
    /// One planned read for a device: its registers and when the request was sent.
    func read(_ request: ReadRequest, of plan: DevicePlan) throws(ModbusError) -> (
        request: ReadRequest, registers: [UInt16], sentAt: UnixTime
    ) {
        let result = try read(
            unit: plan.unit, function: request.function, address: request.address, count: request.count,
            minDelay: plan.minDelay(on: bus))
        return (request, result.registers, result.sentAt)
    }
}
