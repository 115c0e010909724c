import Foundation
import Synchronization

/// What a cached verification is keyed by: never a tag.
///
/// The image is named by repository AND digest (`REGISTRY/REPO@sha256:...`): a tag must be resolved
/// to its digest before the lookup, so moving a tag to another image can never hit the entry of
/// the image it used to name (the Kyverno 1.18.0-1.19.1 regression, FORMATS.md section 6).
public struct VerificationCacheKey: Hashable, Sendable, CustomStringConvertible {
    public var policy: String
    /// Changes whenever the policy's content changes (a hash of it, or its resourceVersion).
    public var policyVersion: String
    public var rule: String
    /// `REGISTRY/REPO@sha256:HEX`.
    public var imageDigest: String
    /// A fingerprint of everything the verification depended on (keys, attestors, repository...).
    public var keys: String

    public init(policy: String, policyVersion: String, rule: String, imageDigest: String, keys: String) {
        self.policy = policy; self.policyVersion = policyVersion; self.rule = rule
        self.imageDigest = imageDigest; self.keys = keys
    }

    public var description: String { "\(policy)@\(policyVersion)/\(rule) \(imageDigest) [\(keys)]" }
}

/// A bounded, expiring cache of verification results with in-flight deduplication: concurrent
/// lookups of one key share a single computation (one set of registry and KMS calls).
///
/// Only results `isCacheable` accepts are kept (successes, as Kyverno does); errors and failures
/// are shared with the callers already waiting, then forgotten.
public final class VerificationCache<Value: Sendable>: Sendable {
    /// How a lookup was answered.
    public enum Source: String, Sendable { case hit, miss, shared }

    public let ttl: Duration
    public let capacity: Int
    private let isCacheable: @Sendable (Value) -> Bool

    private struct Entry { var value: Value; var expires: ContinuousClock.Instant; var inserted: UInt64 }
    private struct State {
        var entries: [VerificationCacheKey: Entry] = [:]
        var inFlight: [VerificationCacheKey: Task<Value, any Error>] = [:]
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
    public func cachedValue(for key: VerificationCacheKey) -> Value? {
        let now = ContinuousClock.now
        return state.withLock { s in
            guard let e = s.entries[key], e.expires > now else { return nil }
            return e.value
        }
    }

    /// The cached value for `key`, the value of a computation already in flight, or the result of
    /// `compute` (started once, in its own task, so a caller that gives up does not cancel it for
    /// the others).
    public func value(for key: VerificationCacheKey,
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

    private func finish(_ key: VerificationCacheKey, value: Value?) {
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

/// Runs `operation` in its own task and returns its result, or throws `.timeout` at `deadline`
/// without waiting for it (the operation is cancelled and may finish in the background, warming
/// caches for the next attempt). The timer is cancelled as soon as the operation ends.
public func withDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant, what: String,
                                      _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let flag = OnceFlag()
    let workHandle = TaskHandle()
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let timer = Task {
            do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
            if flag.claim() {
                workHandle.cancel()
                continuation.resume(throwing: SignetAdmissionError(.timeout, "\(what) did not finish in time"))
            }
        }
        workHandle.set(Task {
            do {
                let value = try await operation()
                if flag.claim() { continuation.resume(returning: value) }
            } catch {
                if flag.claim() { continuation.resume(throwing: error) }
            }
            timer.cancel()
        })
    }
}

/// Holds a task so another task can cancel it.
final class TaskHandle: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let cancelled = Mutex(false)
    func set(_ t: Task<Void, Never>) {
        task.withLock { $0 = t }
        if cancelled.withLock({ $0 }) { t.cancel() }
    }
    func cancel() {
        cancelled.withLock { $0 = true }
        task.withLock { $0?.cancel() }
    }
}

/// A flag that can be claimed once, from any thread.
final class OnceFlag: Sendable {
    private let done = Mutex<Bool>(false)
    /// True for the first caller only.
    func claim() -> Bool { done.withLock { d in if d { return false }; d = true; return true } }
}
