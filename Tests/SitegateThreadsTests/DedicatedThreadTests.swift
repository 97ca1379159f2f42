import SitegateThreads
import Testing

/// The thread every blocking C call runs on: jobs in order, and nothing a job captured kept after it ran.
@Suite(.timeLimit(.minutes(1))) struct DedicatedThreadTests {
    @Test func jobsRunOneAfterAnotherInSubmissionOrder() async throws {
        let thread = DedicatedThread(name: "test")
        defer { thread.shutdown() }
        let order = LockedValue<[Int]>([])
        for i in 0..<200 { thread.submit { order.withLock { $0.append(i) } } }
        let last = try await thread.run { order.withLock { $0.count } }
        #expect(last == 200)
        #expect(order.withLock { $0 } == Array(0..<200))
    }

    /// A job's closure let go as soon as it ran: a poll cycle's readings (captured by the buffer's append) were
    /// kept until 64 more jobs had run, megabytes of a busy agent's heap.
    @Test func whatAJobCapturedIsReleasedOnceItRan() async throws {
        final class Payload: Sendable {}
        let thread = DedicatedThread(name: "test")
        defer { thread.shutdown() }
        weak var released: Payload?
        do {
            let payload = Payload()
            released = payload
            try await thread.run { _ = payload }
        }
        // The next job starts after the loop let go of the previous one.
        try await thread.run {}
        #expect(released == nil, "the first job's closure still holds its capture")
    }
}
