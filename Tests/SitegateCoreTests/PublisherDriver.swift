import SitegateCore

/// Runs the machine's actions against an outbox held in memory, as `Publisher` does against SQLite and the broker.
struct PublisherDriver {
    typealias Action = PublisherStateMachine.Action
    var machine: PublisherStateMachine
    var outbox: [StoredMessage] = []
    var nextMid: Int32 = 1
    /// What went to the broker, in order: (mid, seq, backfill).
    var published: [(mid: Int32, seq: Int64, backfill: Bool)] = []
    /// Every action other than fetch and publish, in order.
    var actions: [Action] = []
    var fetches: [PublisherStateMachine.Fetch] = []
    /// mids whose PUBACK the broker sends before the client hands the id back.
    var ackEarly: Set<Int32> = []
    var failPublishes = false

    let session = UnixTime(seconds: 1_000)

    init(window: Int, backlog: Int = 0) {
        machine = PublisherStateMachine(window: window)
        for _ in 0..<backlog { commit(at: UnixTime(seconds: 10)) }
    }

    var lastSeq: Int64 { outbox.last?.seq ?? 0 }
    var seqs: [Int64] { published.map(\.seq) }
    var finished: Bool { actions.contains(.finish) }
    var reports: [PublisherStateMachine.Report] {
        actions.compactMap { if case .report(let r) = $0 { r } else { nil } }
    }
    var deleted: [Int64] {
        actions.flatMap { action -> [Int64] in
            guard case .deleteAcknowledged(let seqs) = action else { return [] }
            return seqs
        }
    }
    var idle: Bool? {
        actions.reversed().lazy.compactMap { if case .setWatchdogIdle(let i) = $0 { i } else { nil } }.first
    }

    mutating func commit(at time: UnixTime? = nil) {
        let seq = lastSeq + 1
        outbox.append(
            StoredMessage(
                seq: seq, committedAt: time ?? session + .seconds(seq), destination: .data(device: "m\(seq)"),
                payload: Array("m\(seq)".utf8)))
    }

    mutating func connect() { send(.connected(lastSeq: lastSeq, at: session)) }

    /// The broker acknowledges what went out as `seq` (its latest publication).
    mutating func ack(seq: Int64) {
        let mid = published.last { $0.seq == seq }!.mid
        send(.acknowledged(mids: [mid]))
    }

    mutating func send(_ event: PublisherStateMachine.Event) {
        run(machine.handle(event))
    }

    mutating func run(_ first: [Action]) {
        var stack = Array(first.reversed())
        while let action = stack.popLast() {
            var more: [Action] = []
            switch action {
            case .fetch(let fetch):
                fetches.append(fetch)
                more = machine.handle(.fetched(answer(fetch)))
            case .publish(let stored, let backfill):
                if failPublishes {
                    more = machine.handle(.publishFailed)
                    break
                }
                let mid = nextMid
                nextMid += 1
                published.append((mid, stored.seq, backfill))
                if ackEarly.contains(mid) { more += machine.handle(.acknowledged(mids: [mid])) }
                more += machine.handle(.published(mid: mid))
            case .deleteAcknowledged(let seqs):
                outbox.removeAll { seqs.contains($0.seq) }
                actions.append(action)
            default:
                actions.append(action)
            }
            stack.append(contentsOf: more.reversed())
        }
    }

    func answer(_ fetch: PublisherStateMachine.Fetch) -> [StoredMessage] {
        switch fetch {
        case .live(let after, let limit): Array(outbox.filter { $0.seq > after }.prefix(limit))
        case .backlog(let after, let before, let limit): Array(outbox.filter { $0.seq > after && $0.seq < before }.prefix(limit))
        }
    }
}
