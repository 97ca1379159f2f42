import Logging
import SitegateBuffer
import SitegateCore
import SitegateMQTT

/// Replays: archived messages published again, byte for byte, on request (docs/evidence.md, "Replay"). They have
/// the lowest priority and a share of their own: at most `ReplayLimits.inflight` await a PUBACK, outside the live
/// window, at most `perSecond` go out, and none while the publisher drains for a stop.
struct ReplayState {
    struct Job {
        var request: ReplayRequest
        /// The archived numbers to republish, and how far the fetching got.
        var toSend: SeqRanges
        var rangeIndex = 0
        var cursor: Int64 = 0
        var fetchedAll = false
        var inflight = 0
        var sent: Int64 = 0
    }

    var jobs: [Job] = []
    /// Message id to request id, for replayed messages awaiting their PUBACK.
    var inflight: [Int32: String] = [:]
    /// Fetched for the first job, not published yet.
    var fetched: [StoredMessage] = []
    var arrivals: [ContinuousClock.Instant] = []
    var tokens: Double = 0
    var refusalsLogged = 0
}

extension Publisher {
    static let replayLimits = ReplayLimits()

    /// Handles what belongs to replays; true when `input` was one of them (a replay's PUBACK among them).
    func handleReplay(_ input: Input, _ run: inout Run) async -> Bool {
        switch input {
        case .mqtt(.connected(let code)) where code == 0 && run.announcements.replays:
            do { try client.subscribe(run.announcements.topics.replayRequest) } catch {
                logger.warning("cannot subscribe to replay requests", metadata: ["error": "\(error)"])
            }
            return false
        case .mqtt(.message(let topic, let payload, _)) where topic == run.announcements.topics.replayRequest:
            await receive(payload, &run)
            return true
        case .mqtt(.acknowledged(let mid)) where !run.replay.inflight.isEmpty:
            guard let id = run.replay.inflight.removeValue(forKey: mid) else { return false }
            if let index = run.replay.jobs.firstIndex(where: { $0.request.id == id }) {
                run.replay.jobs[index].inflight -= 1
                run.replay.jobs[index].sent += 1
            }
            await pumpReplays(&run)
            return true
        case .flush:
            let limits = Self.replayLimits
            // A tick's worth of the rate, and never more than that banked: a replay cannot burst.
            let perTick = Double(limits.perSecond) * (Self.flushInterval / .seconds(1))
            run.replay.tokens = min(perTick, run.replay.tokens + perTick)
            await pumpReplays(&run)
            return false
        default:
            return false
        }
    }

    private func receive(_ payload: [UInt8], _ run: inout Run) async {
        let limits = Self.replayLimits
        let now = ContinuousClock.now
        run.replay.arrivals = run.replay.arrivals.filter { now - $0 < .seconds(60) } + [now]
        // Beyond twice the rate a flood gets no answers at all, only a count in the log.
        if run.replay.arrivals.count > 2 * limits.maxPerMinute { return }
        let parsed: Result<ReplayRequest, ReplayRequest.Refusal>
        if run.replay.arrivals.count > limits.maxPerMinute {
            parsed = .failure(.init(id: nil, description: "too many requests: at most \(limits.maxPerMinute) a minute"))
        } else if !run.announcements.replays {
            parsed = .failure(.init(id: nil, description: "this gateway keeps no archive (buffer.retain: 0)"))
        } else if run.replay.jobs.count >= limits.maxPending {
            parsed = .failure(.init(id: nil, description: "\(limits.maxPending) requests are being served; ask again later"))
        } else {
            parsed = ReplayRequest.parse(payload, limits: limits, knownDevices: run.announcements.deviceIDs)
        }
        switch parsed {
        case .failure(var refusal):
            // An id the request carried is worth answering on, even when it is not the reason for the refusal.
            if refusal.id == nil, let id = JSONObjectReader(JSONValue.parse(String(decoding: payload, as: UTF8.self)))?
                .string(ReplayRequest.Key.id), ReplayRequest.isValidID(id)
            {
                refusal.id = id
            }
            logger.notice(
                "replay request refused: \(refusal.description)", metadata: ["replay.id": "\(refusal.id ?? "-")"])
            publishAnswer(.refused(refusal), &run)
        case .success(let request):
            await accept(request, &run)
        }
    }

    private func accept(_ request: ReplayRequest, _ run: inout Run) async {
        var coverage = ReplayCoverage()
        do {
            for range in request.ranges.ranges {
                coverage.merge(try await outbox.replayCoverage(range, devices: request.devices, time: request.timeRange))
            }
        } catch {
            logger.error("cannot read the archive for a replay", metadata: ["error": "\(error)"])
            publishAnswer(ReplayAnswer(id: request.id, status: .error, error: "the buffer cannot be read"), &run)
            return
        }
        let missing = request.ranges.subtracting(coverage.present)
        logger.info(
            "replay request accepted",
            metadata: [
                "replay.id": "\(request.id)", "replay.messages": "\(coverage.archived.count)",
                "replay.missing": "\(missing.count)",
            ])
        publishAnswer(
            ReplayAnswer(
                id: request.id, status: .accepted, served: coverage.archived, pending: coverage.unsent, missing: missing,
                messages: coverage.archived.count), &run)
        run.replay.jobs.append(ReplayState.Job(request: request, toSend: coverage.archived))
        await pumpReplays(&run)
    }

    /// Publishes replayed messages while the share and the rate allow; finishes requests whose messages are all
    /// acknowledged.
    func pumpReplays(_ run: inout Run) async {
        let limits = Self.replayLimits
        while let job = run.replay.jobs.first {
            if job.fetchedAll && run.replay.fetched.isEmpty {
                guard job.inflight == 0 else { return }
                publishAnswer(ReplayAnswer(id: job.request.id, status: .done, messages: job.sent), &run)
                logger.info("replay done", metadata: ["replay.id": "\(job.request.id)", "replay.messages": "\(job.sent)"])
                run.replay.jobs.removeFirst()
                continue
            }
            guard run.machine.connected, !draining.value, run.replay.inflight.count < limits.inflight,
                run.replay.tokens >= 1
            else { return }
            if run.replay.fetched.isEmpty {
                guard await fetchReplay(&run) else { return }
                continue
            }
            let message = run.replay.fetched.removeFirst()
            let topic = message.deviceID.map(run.announcements.topics.data(device:)) ?? run.announcements.topics.evidence
            do {
                let mid = try client.publish(topic: topic, bytes: message.payload)
                run.replay.inflight[mid] = job.request.id
                run.replay.jobs[0].inflight += 1
                run.replay.tokens -= 1
            } catch {
                // Offered again at the next pump.
                run.replay.fetched.insert(message, at: 0)
                return
            }
        }
    }

    /// Reads the first job's next archived messages; false when the buffer cannot be read.
    private func fetchReplay(_ run: inout Run) async -> Bool {
        var job = run.replay.jobs[0]
        defer { run.replay.jobs[0] = job }
        while job.rangeIndex < job.toSend.ranges.count {
            let range = job.toSend.ranges[job.rangeIndex]
            do {
                let batch = try await outbox.archived(
                    in: range, after: max(job.cursor, range.lowerBound - 1), devices: job.request.devices,
                    time: job.request.timeRange, limit: 64)
                if let last = batch.last {
                    job.cursor = last.seq
                    run.replay.fetched = batch
                    return true
                }
            } catch {
                logger.error("cannot read the archive for a replay", metadata: ["error": "\(error)"])
                return false
            }
            // This range is done (or was pruned meanwhile: the `done` answer counts what went out).
            job.rangeIndex += 1
        }
        job.fetchedAll = true
        return true
    }

    private func publishAnswer(_ answer: ReplayAnswer, _ run: inout Run) {
        publishOther(topic: run.announcements.topics.replayAnswer(id: answer.id), payload: answer.json, retain: false, &run)
    }
}
