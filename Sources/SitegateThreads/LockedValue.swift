#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a pthread mutex.
///
/// Preferred over `Synchronization.Mutex` because ThreadSanitizer has been seen to report false races on it on Linux.
/// Never call into C libraries (libmosquitto, libmodbus) while holding the lock.
public final class LockedValue<Value>: @unchecked Sendable {
    // @unchecked: every access to `value` happens between lock and unlock of `mutex`.
    // @usableFromInline with an @inlinable `withLock`: callers in other modules get it specialised for their value
    // type, instead of a generic call that looks up type metadata at run time (seen in the agent's profile).
    @usableFromInline var value: Value
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inlinable
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
