import SitegateCore
import SitegateModbus
import SitegateTestSupport
import Testing

/// How a poll accounts for its tick (docs/evidence.md, "Accounting for every tick"): full, partial with each
/// failed point's reason, or failed with the first error's reason. Same device and plan as `DeviceReaderTests`.
@Suite struct DeviceReaderOutcomeTests {
    typealias Fixture = DeviceReaderTests
    let tick = UnixTime(seconds: 1_799_999_990)

    static func reasons(_ failures: [PointFailure]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: failures.map { ($0.pointID, "\($0.reason)") })
    }

    @Test func everyPointReadIsAFullPoll() throws {
        let outcome = DeviceReader.read(Fixture.plan(), on: Fixture.device(servesGap: true))
        #expect(outcome.failures.isEmpty)
        let poll = outcome.poll(tick: tick, deviceID: "meter", clockUnsynchronised: false)
        #expect(poll.outcome == .full)
        #expect(poll.tick == tick, "the poll accounts for the scheduled tick, not for when it ran")
        #expect(poll.takenAt == UnixTime(seconds: 1_800_000_000))
        #expect(poll.readings.count == Fixture.points.count)
    }

    @Test func aTimeoutFailsThePollAndSkipsTheRequestsNotSent() {
        let (device, plan) = Fixture.twoReads()
        device.fail(request: 1, with: .timeout)
        let outcome = DeviceReader.read(plan, on: device)
        var expected = Dictionary(uniqueKeysWithValues: Fixture.points.map { ($0.id, "timeout") })
        expected["temperature"] = "skipped"
        #expect(Self.reasons(outcome.failures) == expected)
        let poll = outcome.poll(tick: tick, deviceID: "meter", clockUnsynchronised: true)
        #expect(poll.outcome == .failed)
        #expect(poll.failure == .timeout)
        #expect(poll.readings.isEmpty)
        #expect(poll.tick == tick && poll.clockUnsynchronised)
        #expect(poll.takenAt == outcome.startedAt, "a failed poll is dated when it began")
    }

    @Test(arguments: [ModbusError.exception(.serverDeviceBusy), .badResponse("short"), .badCRC])
    func aFailedRequestBeforeAnAnsweredOneMakesAPartialPoll(_ error: ModbusError) throws {
        let (device, plan) = Fixture.twoReads()
        device.fail(request: 1, with: error)
        let outcome = DeviceReader.read(plan, on: device)
        if case .exception = error {
            // The device answers, so the next request is still sent and answered.
            let poll = outcome.poll(tick: tick, deviceID: "meter", clockUnsynchronised: false)
            #expect(poll.outcome == .partial)
            #expect(poll.readings.map(\.pointID) == ["temperature"])
            #expect(Set(Self.reasons(poll.failures).values) == ["exception:6"])
            #expect(poll.failures.map(\.pointID) == Fixture.points.map(\.id), "in plan order")
            #expect(poll.failures.first?.unit == "V")
        } else {
            // A garbled answer ends the poll: the rest is skipped, nothing was read.
            let poll = outcome.poll(tick: tick, deviceID: "meter", clockUnsynchronised: false)
            #expect(poll.outcome == .failed)
            #expect(poll.failure == error.failureReason)
            #expect(Self.reasons(outcome.failures)["temperature"] == "skipped")
        }
    }

    @Test(arguments: [ModbusError.timeout, .badCRC])
    func aFailureInsideASplitFailsOnlyItsHalf(_ error: ModbusError) {
        let device = Fixture.device(servesGap: false)
        device.fail(request: 3, with: error)  // the second half: frequency, energy, status
        let outcome = DeviceReader.read(Fixture.plan(), on: device)
        let poll = outcome.poll(tick: tick, deviceID: "meter", clockUnsynchronised: false)
        #expect(poll.outcome == .partial)
        #expect(
            Self.reasons(poll.failures)
                == ["frequency": "\(error.failureReason)", "energy": "\(error.failureReason)", "status": "\(error.failureReason)"])
        #expect(outcome.learnedHoles == [.holding: [6..<10]], "split-and-learn is unchanged")
    }

    @Test func aPointRefusedAloneIsLearntNotFailed() {
        let device = Fixture.device(servesGap: true)
        device.registers[.holding]![14] = nil
        let outcome = DeviceReader.read(Fixture.plan(), on: device)
        #expect(outcome.unsupportedPoints == ["status"])
        #expect(outcome.failures.isEmpty, "an unsupported point leaves the plan; it is not a failed point")
        #expect(outcome.poll(tick: tick, deviceID: "meter", clockUnsynchronised: false).outcome == .full)
    }

    @Test func aSingleRefusedRequestIsAnExceptionFailure() {
        let (device, plan) = Fixture.twoReads()
        device.fail(100..<101, with: .exception(.illegalDataAddress))
        let outcome = DeviceReader.read(plan, on: device)
        #expect(Self.reasons(outcome.failures) == ["temperature": "exception:2"])
        #expect(outcome.poll(tick: tick, deviceID: "meter", clockUnsynchronised: false).outcome == .partial)
    }

    @Test func anUnreachableBusFailsEveryPointWithItsReason() {
        let plan = Fixture.plan()
        let outcome = ReadOutcome.unreachable(plan, error: .connectionFailed("refused"), at: tick + .seconds(1))
        #expect(Set(Self.reasons(outcome.failures).values) == ["connection"])
        let poll = outcome.poll(tick: tick, deviceID: "meter", clockUnsynchronised: false)
        #expect(poll.failure == .connection && poll.takenAt == tick + .seconds(1))
    }

    @Test(arguments: [
        (ModbusError.timeout, "timeout"), (.connectionFailed("x"), "connection"), (.exception(.illegalFunction), "exception:1"),
        (.badCRC, "crc"), (.badResponse("x"), "bad_response"), (.io("x"), "io"),
    ])
    func modbusErrorsMapToPayloadReasons(_ error: ModbusError, _ text: String) {
        #expect("\(error.failureReason)" == text)
        #expect(FailureReason(text: text) == error.failureReason)
    }
}
