import Foundation
import Synchronization

/// A bounded, expiring cache with in-flight deduplication: concurrent lookups of one key share a
/// single computation (one set of registry and KMS calls, one API server GET).
///
/// Only results `isCacheable` accepts are kept (successes, as Kyverno does); errors and failures
/// are shared with the callers already waiting, then forgotten.
public final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// How a lookup was answered.
    public enum Source: String, Sendable { case hit, miss, shared }

    public let ttl: Duration
    public let capacity: Int
    private let isCacheable: @Sendable (Value) -> Bool

    private struct Entry { var value: Value; var expires: ContinuousClock.Instant; var inserted: UInt64 }
    private struct State {
        var entries: [Key: Entry] = [:]
        var inFlight: [Key: Task<Value, any Error>] = [:]
        var counter: UInt64 = 0
    }
    private let state = Mutex(State())
    private enum Plan { case hit(Value), wait(Task<Value, any Error>, Source) }

    /// Kyverno's defaults: 60 minutes, 1000 entries.
    public init(ttl: Duration = .seconds(3600), capacity: Int = 1000,
                isCacheable: @escaping @Sendable (Value) -> Bool = { _ in true }) {
        self.ttl = ttl
        self.capacity = max(0, capacity)
        self.isCacheable = isCacheable
    }

    /// Entries currently stored (expired ones included until evicted).
    public var count: Int { state.withLock { $0.entries.count } }

    /// Forgets everything (not the computations in flight).
    public func removeAll() { state.withLock { $0.entries.removeAll() } }

    /// The cached value for `key` when present and fresh (no computation, no waiting).
    public func cachedValue(for key: Key) -> Value? {
        let now = ContinuousClock.now
        return state.withLock { s in
            guard let e = s.entries[key], e.expires > now else { return nil }
            return e.value
        }
    }

    /// The cached value for `key`, the value of a computation already in flight, or the result of
    /// `compute` (started once, in its own task, so a caller that gives up does not cancel it for
    /// the others).
    public func value(for key: Key,
                      compute: @escaping @Sendable () async throws -> Value) async throws -> (Value, Source) {
        let now = ContinuousClock.now
        let plan: Plan = state.withLock { s in
            if let e = s.entries[key] {
                if e.expires > now { return .hit(e.value) }
                s.entries[key] = nil
            }
            if let task = s.inFlight[key] { return .wait(task, .shared) }
            let task = Task<Value, any Error> {
                do {
                    let value = try await compute()
                    self.finish(key, value: value)
                    return value
                } catch {
                    self.finish(key, value: nil)
                    throw error
                }
            }
            s.inFlight[key] = task
            return .wait(task, .miss)
        }
        switch plan {
        case .hit(let value):
            return (value, .hit)
        case .wait(let task, let source):
            return (try await task.value, source)
        }
    }

    private func finish(_ key: Key, value: Value?) {
        let keep = value.map(isCacheable) ?? false
        state.withLock { s in
            s.inFlight[key] = nil
            guard keep, let value, capacity > 0 else { return }
            s.counter += 1
            s.entries[key] = Entry(value: value, expires: ContinuousClock.now + ttl, inserted: s.counter)
            if s.entries.count > capacity {
                let now = ContinuousClock.now
                s.entries = s.entries.filter { $0.value.expires > now }
                while s.entries.count > capacity,
                      let oldest = s.entries.min(by: { $0.value.inserted < $1.value.inserted })?.key {
                    s.entries[oldest] = nil
                }
            }
        }
    }
}
