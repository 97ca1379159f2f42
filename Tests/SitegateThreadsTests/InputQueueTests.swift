import SitegateThreads
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The publisher's input queue: every element once, in order, one per `next()`, from any thread; nil after
/// `finish()` or when the consumer is cancelled.
@Suite(.timeLimit(.minutes(1))) struct InputQueueTests {
    @Test func queuedElementsComeOutInOrderAndTheQueueIsReusedWhenEmptied() async {
        let queue = InputQueue<Int>()
        for round in 0..<3 {
            for i in 0..<2_500 { queue.yield(round * 10_000 + i) }
            var taken: [Int] = []
            for _ in 0..<2_500 { taken.append(await queue.next()!) }
            #expect(taken == Array(round * 10_000..<round * 10_000 + 2_500))
        }
    }

    /// Producers on threads of their own (as libmosquitto's network thread), the consumer waiting in between:
    /// nothing lost, nothing twice, each producer's elements in its order.
    @Test func elementsFromOtherThreadsAllArriveInEachProducersOrder() async throws {
        let queue = InputQueue<Int>()
        let producers = 4
        let perProducer = 20_000
        let threads = (0..<producers).map { producer in
            DedicatedThread(name: "producer-\(producer)")
        }
        defer { threads.forEach { $0.shutdown() } }
        for (producer, thread) in threads.enumerated() {
            thread.submit {
                for i in 0..<perProducer {
                    queue.yield(producer * perProducer + i)
                    if i % 1_000 == 0 { usleep(200) }  // let the consumer catch up and wait now and then
                }
            }
        }
        var last = Array(repeating: -1, count: producers)
        for _ in 0..<producers * perProducer {
            let element = try #require(await queue.next())
            let producer = element / perProducer
            #expect(element % perProducer == last[producer] + 1, "producer \(producer) out of order")
            last[producer] = element % perProducer
        }
        #expect(last == Array(repeating: perProducer - 1, count: producers))
    }

    @Test func afterFinishTheQueuedElementsStillComeThenNil() async {
        let queue = InputQueue<String>()
        queue.yield("a")
        queue.yield("b")
        queue.finish()
        queue.yield("dropped")
        #expect(await queue.next() == "a")
        #expect(await queue.next() == "b")
        #expect(await queue.next() == nil)
        #expect(await queue.next() == nil)
    }

    @Test func finishWakesAWaitingConsumer() async {
        let queue = InputQueue<Int>()
        async let taken = queue.next()
        try? await Task.sleep(for: .milliseconds(50))
        queue.finish()
        #expect(await taken == nil)
    }

    @Test func aCancelledConsumerGetsNilWhetherWaitingOrNot() async {
        let queue = InputQueue<Int>()
        let waiting = Task { await queue.next() }
        try? await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(await waiting.value == nil)

        let alreadyCancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await queue.next()
        }
        #expect(await alreadyCancelled.value == nil)
        // The queue still works for the next consumer.
        queue.yield(7)
        #expect(await queue.next() == 7)
    }
}
