import Foundation
import NIOCore
import NIOPosix
import SignetOCI
import SignetPolicy
import SignetVerification
import Synchronization

/// What a cached verification is keyed by: never a tag.
///
/// The image is named by repository AND digest: a tag must be resolved to its digest before the
/// lookup, so moving a tag to another image can never hit the entry of the image it used to name
/// (the Kyverno 1.18.0-1.19.1 regression, FORMATS.md section 6). Everything else the verification
/// depended on (key, algorithm, signature repository, annotations, attestation type, registry
/// credentials) is part of the key as the request holds it: compared as values, no text built.
public struct VerificationCacheKey: Hashable, Sendable, CustomStringConvertible {
    public let policy: String
    /// Changes whenever the policy's content changes (a hash of it, or its resourceVersion).
    public let policyVersion: String
    /// The request with its image named by repository alone (`image` empty, no tag or digest in
    /// `reference`): every spelling of one image shares the entry.
    public let request: ImageVerificationRequest
    /// The digest verified.
    public let digest: SignetOCI.Digest

    public init(policy: String, policyVersion: String, request: ImageVerificationRequest, digest: SignetOCI.Digest) {
        self.policy = policy
        self.policyVersion = policyVersion
        var subject = request
        subject.image = ""
        subject.reference = request.reference.repositoryOnly
        self.request = subject
        self.digest = digest
    }

    /// The policy, the image and the kind of key (never the key itself).
    public var description: String {
        let key = switch request.key { case .kms(let uri): uri; case .publicKey: "public key" }
        return "\(policy)@\(policyVersion) \(request.reference.repositoryName)@\(digest) [\(key)]"
    }
}

/// A tag resolution shared while in flight: the reference and the credentials it may use.
struct ResolutionKey: Hashable, Sendable {
    let reference: Reference
    let registrySecrets: [RegistrySecretReference]
}

/// The verification cache: results keyed by policy, version, request and image digest.
public typealias VerificationCache<Value: Sendable> = ExpiringCache<VerificationCacheKey, Value>

/// Runs `operation` in its own task and returns its result, or throws `.timeout` at `deadline`
/// without waiting for it (the operation is cancelled and may finish in the background, warming
/// caches for the next attempt).
///
/// The timer is a task scheduled on an event loop and cancelled as soon as the operation ends: a
/// sleeping `Task` would stay registered until the deadline even when cancelled, and at thousands
/// of admissions a second with a 9 s budget those pending sleeps were half of the heap.
public func withDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant, what: String,
                                      _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let flag = OnceFlag()
    let workHandle = TaskHandle()
    let remaining = max(.zero, deadline - ContinuousClock.now)
    let delay = TimeAmount.nanoseconds(remaining.wholeNanoseconds)
    let resumer = ContinuationBox<T>()
    // Cancelling the caller (the request's connection went away, the server shuts down) ends the
    // work and the wait at once, like the deadline does.
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            resumer.set(continuation)
            let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: delay) {
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
            if Task.isCancelled, flag.claim() {
                workHandle.cancel()
                timer.cancel()
                continuation.resume(throwing: CancellationError())
            }
        }
    } onCancel: {
        if flag.claim() {
            workHandle.cancel()
            resumer.get()?.resume(throwing: CancellationError())
        }
    }
}

/// Bounds how many verifications run at once across the whole server (a counting semaphore whose
/// waiters leave the queue when their task is cancelled).
public final class ConcurrencyLimiter: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }
    private let state: Mutex<State>
    public let limit: Int

    public init(limit: Int) {
        self.limit = max(1, limit)
        state = Mutex(State(available: max(1, limit)))
    }

    /// Runs `body` once a slot is free.
    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    func acquire() async throws {
        let id: UInt64? = state.withLock { s in
            if s.available > 0 { s.available -= 1; return nil }
            s.nextID &+= 1
            return s.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { s -> Bool in
                    if Task.isCancelled { return true }
                    s.waiters.append((id, continuation))
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            if s.waiters.isEmpty { s.available += 1; return nil }
            return s.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}

/// Holds a continuation so a cancellation handler can resume it.
final class ContinuationBox<T: Sendable>: Sendable {
    private let value = Mutex<CheckedContinuation<T, any Error>?>(nil)
    func set(_ c: CheckedContinuation<T, any Error>) { value.withLock { $0 = c } }
    func get() -> CheckedContinuation<T, any Error>? { value.withLock { $0 } }
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
