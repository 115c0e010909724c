import Foundation
import Logging
import SignetOCI
import SignetPolicy
import SignetVerification


/// The verification layer of the webhook: resolve tag -> digest FIRST, then look the digest up in
/// the cache, and only on a miss call the verifier, on the digest-pinned reference.
///
/// - Keys: policy, policy version, rule (see below), `REGISTRY/REPO@DIGEST`, and a fingerprint of
///   the key material, signature algorithm, signature repository and required annotations.
/// - Identical verifications in flight share one computation; so do identical tag resolutions.
/// - Only successes are cached (as Kyverno); TTL and size bounds from the configuration.
///
/// `ImageVerificationRequest` carries no rule name, so the rule part of the key is the attestor
/// entry itself (its fingerprint): two rules with the same attestor share an entry, which is sound
/// because the result depends on nothing else.
public final class VerificationService: Sendable {
    public let verifier: any ImageVerifier
    public let resolver: any DigestResolver
    public let cache: VerificationCache<ImageVerificationResult>
    let resolutions: ExpiringCache<ResolutionKey, SignetOCI.Digest>
    let metrics: AdmissionMetrics?
    let logger: Logger

    public init(verifier: any ImageVerifier, resolver: any DigestResolver, ttl: Duration = .seconds(3600),
                capacity: Int = 1000, metrics: AdmissionMetrics? = nil, logger: Logger = Logger(label: "signet.verify")) {
        self.verifier = verifier
        self.resolver = resolver
        self.cache = VerificationCache(ttl: ttl, capacity: capacity, isCacheable: { $0.verified })
        // In-flight sharing only: a tag is resolved again for every admission.
        self.resolutions = ExpiringCache(ttl: .zero, capacity: 0)
        self.metrics = metrics
        self.logger = logger
    }

    /// The cached success for a digest reference, without any call (the warm path); nil when the
    /// reference has no digest or nothing is cached.
    public func cachedResult(_ request: ImageVerificationRequest, policy: String, version: String) -> ImageVerificationResult? {
        guard let digest = request.reference.digest,
              let result = cache.cachedValue(for: key(request, digest: digest, policy: policy, version: version)) else { return nil }
        metrics?.cache(.hit)
        return result  // stored with the digest it was verified at (the key's)
    }

    func key(_ request: ImageVerificationRequest, digest: SignetOCI.Digest, policy: String, version: String) -> VerificationCacheKey {
        VerificationCacheKey(policy: policy, policyVersion: version, request: request, digest: digest)
    }

    /// Verifies `request` for `policy` at `version`. Throws only what `classify` turns into a
    /// result (the verify stage never lets an error escape).
    public func verify(_ request: ImageVerificationRequest, policy: String, version: String) async throws -> ImageVerificationResult {
        let digest = try await resolve(request.reference)
        return try await verify(request, digest: digest, policy: policy, version: version, memo: VerificationMemo())
    }

    /// Verifies requests that all name one image, for (policy, version) each: the tag is resolved
    /// once and the verifier's registry reads are shared between the keys (one registry pass).
    /// Every request gets a typed result; errors are classified, never thrown.
    public func verifyGroup(_ items: [(request: ImageVerificationRequest, policy: String, version: String)]) async
        -> [(ImageVerificationRequest, ImageVerificationResult)] {
        guard let first = items.first else { return [] }
        let digest: SignetOCI.Digest
        do {
            digest = try await resolve(first.request.reference, registrySecrets: first.request.registrySecrets)
        } catch {
            let result = Self.classify(error, image: first.request.reference)
            if result.status == .error { metrics?.verificationError(reason: Self.reason(error)) }
            return items.map { ($0.request, result) }
        }
        let memo = VerificationMemo()
        var out: [(ImageVerificationRequest, ImageVerificationResult)] = []
        out.reserveCapacity(items.count)
        for item in items {
            if Task.isCancelled {
                out.append((item.request, .error("verification was cancelled")))
                continue
            }
            do {
                out.append((item.request, try await verify(item.request, digest: digest, policy: item.policy, version: item.version, memo: memo)))
            } catch {
                out.append((item.request, Self.classify(error, image: item.request.reference)))
            }
        }
        return out
    }

    /// The digest a reference names: its own, or the tag resolved at the registry (concurrent
    /// resolutions of one tag share a request; never cached, see the tag-move defence).
    func resolve(_ reference: Reference, registrySecrets: [RegistrySecretReference] = []) async throws -> SignetOCI.Digest {
        if let given = reference.digest { return given }
        let key = ResolutionKey(reference: reference, registrySecrets: registrySecrets)
        return try await resolutions.value(for: key) { [resolver] in
            try await resolver.resolveDigest(reference, registrySecrets: registrySecrets)
        }.0
    }

    func verify(_ request: ImageVerificationRequest, digest: SignetOCI.Digest, policy: String, version: String,
                memo: VerificationMemo) async throws -> ImageVerificationResult {
        let pinned = request.reference.withDigest(digest)
        var pinnedRequest = request
        pinnedRequest.reference = pinned
        pinnedRequest.image = pinned.description
        let key = key(request, digest: digest, policy: policy, version: version)
        let start = ContinuousClock.now
        let (result, source) = try await cache.value(for: key) { [verifier, metrics, pinnedRequest] in
            var r: ImageVerificationResult
            do {
                r = try await verifier.verify(pinnedRequest, memo: memo)
            } catch {
                metrics?.verificationError(reason: Self.reason(error))
                throw error
            }
            if r.status == .error { metrics?.verificationError(reason: "transport") }
            metrics?.verification(duration: ContinuousClock.now - start)
            // The digest reported (and patched in) is exactly the one verified; stored with the
            // result, so that a cache hit reads it as it is.
            if r.verified { r.digest = digest.description }
            return r
        }
        metrics?.cache(source == .hit ? .hit : source == .shared ? .shared : .miss)
        return result
    }

    /// `VerificationErrors.result(for:image:)`, plus the webhook's own errors (the API server
    /// could not be asked, the deadline passed): transport, decided by failurePolicy.
    public static func classify(_ error: any Error, image: Reference) -> ImageVerificationResult {
        if let e = error as? SignetAdmissionError { return .error(e.message) }
        return VerificationErrors.result(for: error, image: image)
    }

    static func reason(_ error: any Error) -> String {
        if let e = error as? SignetAdmissionError { return e.code.name }
        return VerificationErrors.layer(of: error)
    }
}
