import SitegateCore

// Putting a slot's checkpoint together: ticks due from the schedules in force, polls from the buffer, misses from
// the ledger, the clock, and what produced the data.
extension CheckpointService {
    /// The account of `slot` (or of a summarised range of slots).
    func checkpoint(_ slot: Range<UnixTime>, config: SiteConfig, tallies: [String: SlotTally], state: State)
        -> CheckpointMessage
    {
        let missed = ticks.missed(in: slot)
        var scheduled: [String: Int] = [:]
        var stillOpen: [String: Int] = [:]
        for bus in config.buses {
            // A bus that has not finished the slot's ticks by now (the wait is over): the rest is overrun.
            let until = slot.upperBound > state.started ? ticks.accountedUntil(bus: bus.id) : nil
            for a in config.assignments(on: bus) {
                scheduled[a.device.id, default: 0] += a.schedule.ticks(from: slot.lowerBound, to: slot.upperBound)
                if let until, until < slot.upperBound {
                    stillOpen[a.device.id, default: 0] += a.schedule.ticks(from: until, to: slot.upperBound, within: slot)
                }
            }
        }
        var devices: [String: CheckpointMessage.Device] = [:]
        for id in Set(scheduled.keys).union(tallies.keys) {
            let m = missed[id] ?? (0, 0)
            let tally = tallies[id] ?? SlotTally()
            // Ticks counted missed and then polled all the same cannot happen; the clamp keeps `due` honest if a
            // late poll of a still-open tick was committed meanwhile.
            let open = max(0, min(stillOpen[id] ?? 0, (scheduled[id] ?? 0) - tally.polls - m.overrun - m.clockStep))
            devices[id] = CheckpointMessage.Device(
                scheduled: scheduled[id] ?? 0, polls: tally, overrun: m.overrun + open, clockStep: m.clockStep)
        }
        var maps: [String: Int] = [:]
        for device in config.devices {
            if let map = config.maps[device.model] { maps[map.id] = map.version }
        }
        return CheckpointMessage(
            slot: slot,
            agent: .init(version: version, configHash: crypto.sha256(Array(config.sourceText.utf8)), maps: maps),
            clock: .init(state: state.lastState, unsynchronisedSeconds: state.unsynchronised.seconds(in: slot)),
            devices: devices)
    }
}
