/// An unbounded first-in, first-out queue with one consuming task: what `AsyncStream` with `.unbounded` buffering
/// does, for the publisher's inputs (a PUBACK each message, from the network thread).
///
/// Why not `AsyncStream`: its storage is generic code in the standard library that the compiler cannot specialise
/// for the element type, so every element put in and taken out looked up type metadata at run time (about 2 % of
/// the agent's instructions under the footprint load). Here everything is `@inlinable`, specialised where it is used.
///
/// One element per `next()`, in order, as the stream gave them: the publisher must see each PUBACK as it comes (a
/// burst taken in one pass delayed the window's refill; docs/performance.md, "CPU, fourth pass").
/// `next()` returns nil once the queue is finished and empty, or when the consuming task is cancelled.
public final class InputQueue<Element: Sendable>: Sendable {
    @usableFromInline
    struct State {
        /// Elements from `head` on are waiting; the ones before were taken and are dropped when the array is
        /// compacted.
        @usableFromInline var elements: ContiguousArray<Element?> = []
        @usableFromInline var head = 0
        /// The consumer, suspended in `next()` while `elements` was empty.
        @usableFromInline var waiter: UnsafeContinuation<Element?, Never>?
        @usableFromInline var finished = false

        @usableFromInline init() {}

        @inlinable
        mutating func popFirst() -> Element? {
            guard head < elements.count else { return nil }
            defer {
                head += 1
                if head == elements.count {
                    elements.removeAll(keepingCapacity: true)
                    head = 0
                } else if head >= 1024 && head * 2 >= elements.count {
                    elements.removeFirst(head)
                    head = 0
                }
            }
            let element = elements[head]
            elements[head] = nil
            return element
        }
    }

    @usableFromInline let state = LockedValue(State())

    public init() {}

    /// Queues `element`, or hands it to the waiting consumer. Dropped once the queue is finished.
    @inlinable
    public func yield(_ element: Element) {
        let waiter = state.withLock { state -> UnsafeContinuation<Element?, Never>? in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                // A waiter means nothing is queued: the element goes straight to it.
                state.waiter = nil
                return waiter
            }
            state.elements.append(element)
            return nil
        }
        waiter?.resume(returning: element)
    }

    /// No more elements: the consumer gets what is queued, then nil.
    @inlinable
    public func finish() {
        let waiter = state.withLock { state -> UnsafeContinuation<Element?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next element, waiting for one if none is queued; nil when finished or cancelled. One consumer only.
    @inlinable
    public func next() async -> Element? {
        if let element = state.withLock({ $0.popFirst() }) { return element }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Element?, Never>) in
                // nil: wait; .some(x): resume at once with x.
                let now = state.withLock { state -> Element?? in
                    if let element = state.popFirst() { return .some(element) }
                    // The flag is set before the cancellation handler runs: checked under the lock, no wake-up
                    // can fall between the two.
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> UnsafeContinuation<Element?, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
