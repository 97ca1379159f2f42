import CSitegateShims

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One OS thread that runs submitted jobs one after another, in submission order.
///
/// Blocking C calls (libmodbus transactions, SQLite commits) run here, never on Swift's cooperative pool. Because a
/// single thread runs every job, state owned by the jobs (a libmodbus context, a SQLite handle) needs no lock.
public final class DedicatedThread: @unchecked Sendable {
    // @unchecked: `queue` and `stopping` are only touched under `mutex`; `thread` is written once in init.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queue: [@Sendable () -> Void] = []
    private var queueHead = 0
    private var stopping = false
    private var thread: pthread_t? = nil
    public let name: String
    /// What a queue slot holds once its job was taken.
    private static let taken: @Sendable () -> Void = {}

    /// - Parameter name: the thread's name as `ps -L` shows it; Linux keeps the first 15 bytes.
    public init(name: String) {
        self.name = name
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        let box = Unmanaged.passRetained(self)
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            let me = Unmanaged<DedicatedThread>.fromOpaque(raw!).takeRetainedValue()
            me.runLoop()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        thread = handle
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Queues `job`; it runs after every job submitted before it.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
        let accepted = !stopping
        if accepted { queue.append(job) }
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
        if !accepted { job() }  // after shutdown, run inline rather than lose the continuation inside
    }

    /// Runs `job` on the thread and returns its result to the awaiting task.
    public func run<T: Sendable>(_ job: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try job() }) }
        }
    }

    /// Lets queued jobs finish, then ends the thread and waits for it.
    public func shutdown() {
        pthread_mutex_lock(mutex)
        let wasStopping = stopping
        stopping = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
        if !wasStopping, let thread, !pthread_equal(thread, pthread_self()).isTrue {
            pthread_join(thread, nil)
        }
    }

    private func runLoop() {
        setName()
        while true {
            pthread_mutex_lock(mutex)
            while queueHead == queue.count && !stopping {
                pthread_cond_wait(condition, mutex)
            }
            if queueHead == queue.count && stopping {
                pthread_mutex_unlock(mutex)
                return
            }
            let job = queue[queueHead]
            // The slot lets go of the job at once: a job's closure holds what it captured (a cycle's polls, a
            // batch of messages) until the slot is overwritten, and the queue is compacted only every 64 jobs.
            queue[queueHead] = Self.taken
            queueHead += 1
            if queueHead > 64 && queueHead * 2 > queue.count {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            pthread_mutex_unlock(mutex)
            job()
        }
    }

    private func setName() {
        let short = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        _ = sitegate_set_thread_name(short)
    }
}

extension Int32 {
    fileprivate var isTrue: Bool { self != 0 }
}
