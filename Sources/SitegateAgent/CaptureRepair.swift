import SitegateConfig
import SitegateCore

/// `sitegate audit --repair` (docs/evidence.md, "Replay"): verifies a capture, asks the gateway for every
/// undeclared hole, appends what arrives to the same capture and verifies it again.
public enum CaptureRepair {
    public struct Outcome: Sendable {
        public var plan: RepairPlan
        /// Each request sent and what came of it, in order.
        public var replays: [(request: ReplayRequest, outcome: ReplayClient.Outcome)] = []
        /// Wanted numbers now in the capture.
        public var recovered = SeqRanges()
        /// Wanted numbers still not in the capture.
        public var stillMissing = SeqRanges()
        /// What the gateway said it no longer holds (its answers' `missing`): gone for good.
        public var goneForGood = SeqRanges()
        /// The capture's lines and their verification after the repair: the input of the audit.
        public var lines: [CaptureRecord] = []
        public var verification: (report: VerifyReport, chains: [CaptureVerifier.Chain])

        /// Nothing the gateway still holds is missing: every hole left is gone for good by its own word.
        public var isComplete: Bool { stillMissing.subtracting(goneForGood).isEmpty }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Repairs the capture at `path` for the gateway of `config`; `timeout` is the wait for each request's answer.
    public static func run(
        capture path: String, config: SiteConfig, verifier: CaptureVerifier, timeout: Duration
    ) async throws(Failure) -> Outcome {
        let gateway = TopicLayout(prefix: config.mqtt.topicPrefix, site: config.site.id, gateway: config.site.gateway)
            .gatewayRoot
        let before = verifier.verify(try read(path)).report
        let plan = RepairPlan(report: before, gateway: gateway)
        var replays: [(request: ReplayRequest, outcome: ReplayClient.Outcome)] = []
        var gone = SeqRanges()
        // The gateway accepts `maxPerMinute` requests a minute and goes silent beyond twice that: a repair with
        // many small requests is paced to stay under it.
        let spacing = Duration.seconds(60) / ReplayLimits().maxPerMinute
        var lastStart: ContinuousClock.Instant?
        for request in plan.requests(id: "repair-\(UInt32.random(in: 0...UInt32.max))") {
            if let lastStart, ContinuousClock.now < lastStart + spacing {
                try? await Task.sleep(until: lastStart + spacing, clock: .continuous)
            }
            lastStart = .now
            let outcome = await ReplayClient.run(config: config, request: request, timeout: timeout)
            // Appended as it arrives, live messages too: the capture stays the record of what was received.
            let text = outcome.received.map {
                CaptureRecord(arrivedAt: $0.arrivedAt, topic: $0.topic, retain: $0.retained, payload: $0.payload).json + "\n"
            }.joined()
            do { try TextFile.append(text, to: path) } catch { throw Failure(description: "\(error)") }
            gone = SeqRanges(gone.ranges + (outcome.accepted?.missing.ranges ?? []))
            replays.append((request, outcome))
        }
        let lines = try read(path)
        let after = verifier.verify(lines)
        let present = after.chains.first { $0.gateway == gateway }?.messages.map(\.message.seq) ?? []
        let stillMissing = plan.wanted.subtracting(SeqRanges(increasing: present))
        var outcome = Outcome(plan: plan, lines: lines, verification: after)
        outcome.replays = replays
        outcome.stillMissing = stillMissing
        outcome.recovered = plan.wanted.subtracting(stillMissing)
        outcome.goneForGood = gone
        return outcome
    }

    private static func read(_ path: String) throws(Failure) -> [CaptureRecord] {
        do { return try CaptureFile.read(path) } catch { throw Failure(description: error.description) }
    }
}

/// What `sitegate audit --repair` prints before the audit.
public struct RepairReport: Sendable {
    public var lines: [String] = []

    public init(_ outcome: CaptureRepair.Outcome) {
        let plan = outcome.plan
        lines.append("repair: \(plan.wanted.count) missing after the gateway\(Self.list(plan.wanted))")
        if !plan.declared.isEmpty {
            lines.append("  not requested: \(plan.declared.count) declared gone by the gateway (gap notices, chain starts)")
        }
        for (request, replay) in outcome.replays {
            let result =
                switch replay.finished?.status {
                case .done?: "done"
                case .error?: "refused: \(replay.finished?.error ?? "")"
                default: "FAILED: \(replay.problem ?? "no answer")"
                }
            lines.append("  request \(request.id): \(request.ranges.count) sequence numbers, \(replay.received.count) messages received, \(result)")
        }
        lines.append("  requested:     \(outcome.replays.reduce(Int64(0)) { $0 + $1.request.ranges.count })")
        lines.append("  recovered:     \(outcome.recovered.count)")
        lines.append("  still missing: \(outcome.stillMissing.count)\(Self.list(outcome.stillMissing))")
        lines.append("  gone for good: \(outcome.goneForGood.count) (the gateway no longer holds them)\(Self.list(outcome.goneForGood))")
        lines.append(
            "  result: " + (outcome.isComplete ? "complete (nothing the gateway holds is missing)" : "INCOMPLETE"))
    }

    private static func list(_ ranges: SeqRanges) -> String {
        ranges.isEmpty ? "" : " (\(ranges.text.prefix(200)))"
    }
}
