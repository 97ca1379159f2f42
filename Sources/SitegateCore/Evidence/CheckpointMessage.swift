/// The account of one slot (docs/evidence.md, "Checkpoints"): per device, the ticks due and how each ended; the
/// clock during the slot; what produced the data (agent version, config hash, device maps).
public struct CheckpointMessage: Sendable, Hashable {
    public enum Key: String, JSONKey { case slot, agent, clock, devices }
    public enum SlotKey: String, JSONKey { case start, end }
    public enum AgentKey: String, JSONKey { case version, configHash = "config_hash", maps }
    public enum ClockKey: String, JSONKey {
        case synchronised, unsynchronisedSeconds = "unsynchronised_s", maxErrorMicroseconds = "max_error_us"
        case estErrorMicroseconds = "est_error_us"
    }
    public enum DeviceKey: String, JSONKey {
        case due, full, partial, failed, missed, firstSeq = "first_seq", lastSeq = "last_seq"
    }
    public enum MissedKey: String, JSONKey { case overrun, clockStep = "clock-step", notRunning = "not-running" }

    /// What produced the slot's data.
    public struct Agent: Sendable, Hashable {
        public var version: String
        /// SHA-256 of the site config file's bytes.
        public var configHash: [UInt8]
        /// Each device map in use, by map id, with its `version`.
        public var maps: [String: Int]

        public init(version: String, configHash: [UInt8], maps: [String: Int]) {
            self.version = version
            self.configHash = configHash
            self.maps = maps
        }
    }

    /// The kernel's clock at the end of the slot, and how long during the slot the agent saw it unsynchronised.
    public struct Clock: Sendable, Hashable {
        /// Nil when adjtimex failed: written as not synchronised, without error bounds.
        public var state: ClockState?
        public var unsynchronisedSeconds: Int

        public init(state: ClockState?, unsynchronisedSeconds: Int) {
            self.state = state
            self.unsynchronisedSeconds = unsynchronisedSeconds
        }
    }

    /// One device's ticks: `due = full + partial + failed + missed.total`, always.
    public struct Device: Sendable, Hashable {
        public var due: Int
        public var polls: SlotTally
        public var missed: MissedTicks

        /// The account from the ticks the schedule had due, the stored polls and the ticks counted missed; every
        /// due tick without a poll or a counted miss was `not-running`. When more was accounted than the schedule
        /// in force has due (its interval changed by a reload within the slot), `due` is what was accounted.
        public init(scheduled: Int, polls: SlotTally, overrun: Int, clockStep: Int) {
            let accounted = polls.polls + overrun + clockStep
            due = max(scheduled, accounted)
            self.polls = polls
            missed = MissedTicks(overrun: overrun, clockStep: clockStep, notRunning: due - accounted)
        }
    }

    /// `[start, end)`: one slot, or several when a long stop is summarised in one checkpoint.
    public var slot: Range<UnixTime>
    public var agent: Agent
    public var clock: Clock
    public var devices: [String: Device]

    public init(slot: Range<UnixTime>, agent: Agent, clock: Clock, devices: [String: Device]) {
        self.slot = slot
        self.agent = agent
        self.clock = clock
        self.devices = devices
    }

    /// The checkpoint as an evidence message committed at `time`.
    public func draft(at time: UnixTime) -> MessageDraft {
        var w = JSONObjectWriter()
        w.add(Key.self, [.slot: .raw(slotText), .agent: .raw(agentText), .clock: .raw(clockText), .devices: .raw(devicesText)])
        return .evidence(.checkpoint, time: time, members: w)
    }

    private var slotText: String {
        JSONObjectWriter.object(
            SlotKey.self, [.start: .integer(slot.lowerBound.nanoseconds.floorDiv(1_000_000_000)), .end: .integer(slot.upperBound.nanoseconds.floorDiv(1_000_000_000))])
    }

    private var agentText: String {
        let maps = "{" + agent.maps.keys.sorted().map { JSONText.quoted($0) + ":" + JSONText.quoted("\(agent.maps[$0]!)") }.joined(separator: ",") + "}"
        return JSONObjectWriter.object(
            AgentKey.self,
            [.version: .string(agent.version), .configHash: .string("sha256:" + Hex.lowercase(agent.configHash)), .maps: .raw(maps)])
    }

    private var clockText: String {
        JSONObjectWriter.object(
            ClockKey.self,
            [
                .synchronised: .bool(clock.state?.synchronised ?? false), .unsynchronisedSeconds: .int(clock.unsynchronisedSeconds),
                .maxErrorMicroseconds: .int(orNull: clock.state?.maximumErrorMicroseconds),
                .estErrorMicroseconds: .int(orNull: clock.state?.estimatedErrorMicroseconds),
            ])
    }

    private var devicesText: String {
        let entries = devices.keys.sorted().map { id -> String in
            let d = devices[id]!
            let missed = JSONObjectWriter.object(
                MissedKey.self,
                [.overrun: .int(d.missed.overrun), .clockStep: .int(d.missed.clockStep), .notRunning: .int(d.missed.notRunning)])
            let account = JSONObjectWriter.object(
                DeviceKey.self,
                [
                    .due: .int(d.due), .full: .int(d.polls[.full]), .partial: .int(d.polls[.partial]), .failed: .int(d.polls[.failed]),
                    .missed: .raw(missed), .firstSeq: d.polls.firstSeq.map(JSONField.integer),
                    .lastSeq: d.polls.lastSeq.map(JSONField.integer),
                ])
            return JSONText.quoted(id) + ":" + account
        }
        return "{" + entries.joined(separator: ",") + "}"
    }
}
