import Foundation
import Logging
import SignetOCI
import SignetPolicy

/// Resolves a tag to the digest of the manifest the registry serves for it, re-hashing the
/// manifest (never trusting a digest header).
public protocol DigestResolver: Sendable {
    func resolveDigest(_ reference: Reference) async throws -> SignetOCI.Digest
}

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
    let resolutions: VerificationCache<SignetOCI.Digest>
    let metrics: AdmissionMetrics?
    let logger: Logger

    public init(verifier: any ImageVerifier, resolver: any DigestResolver, ttl: Duration = .seconds(3600),
                capacity: Int = 1000, metrics: AdmissionMetrics? = nil, logger: Logger = Logger(label: "signet.verify")) {
        self.verifier = verifier
        self.resolver = resolver
        self.cache = VerificationCache(ttl: ttl, capacity: capacity, isCacheable: { $0.verified })
        // In-flight sharing only: a tag is resolved again for every admission.
        self.resolutions = VerificationCache(ttl: .zero, capacity: 0)
        self.metrics = metrics
        self.logger = logger
    }

    /// The cached success for a digest reference, without any call (the warm path); nil when the
    /// reference has no digest or nothing is cached.
    public func cachedResult(_ request: ImageVerificationRequest, policy: String, version: String) -> ImageVerificationResult? {
        guard let digest = request.reference.digest,
              let result = cache.cachedValue(for: key(request, digest: digest, policy: policy, version: version)) else { return nil }
        metrics?.cache(.hit)
        var answer = result
        answer.digest = digest.description
        return answer
    }

    func key(_ request: ImageVerificationRequest, digest: SignetOCI.Digest, policy: String, version: String) -> VerificationCacheKey {
        VerificationCacheKey(policy: policy, policyVersion: version, rule: Self.fingerprint(request),
                             imageDigest: "\(request.reference.repositoryName)@\(digest)", keys: Self.keyFingerprint(request.key))
    }

    /// Verifies `request` for `policy` at `version`.
    public func verify(_ request: ImageVerificationRequest, policy: String, version: String) async throws -> ImageVerificationResult {
        let digest: SignetOCI.Digest
        if let given = request.reference.digest {
            digest = given
        } else {
            let key = VerificationCacheKey(policy: "", policyVersion: "", rule: "", imageDigest: request.reference.description, keys: "resolve")
            digest = try await resolutions.value(for: key) { [resolver] in try await resolver.resolveDigest(request.reference) }.0
        }
        let pinned = request.reference.withDigest(digest)
        var pinnedRequest = request
        pinnedRequest.reference = pinned
        pinnedRequest.image = pinned.description
        let key = key(request, digest: digest, policy: policy, version: version)
        let start = ContinuousClock.now
        let (result, source) = try await cache.value(for: key) { [verifier, metrics, pinnedRequest] in
            do {
                let r = try await verifier.verify(pinnedRequest)
                metrics?.verification(duration: ContinuousClock.now - start)
                return r
            } catch {
                metrics?.verificationError(reason: Self.reason(error))
                throw error
            }
        }
        metrics?.cache(source == .hit ? .hit : source == .shared ? .shared : .miss)
        // The digest reported (and patched in) is exactly the one verified.
        var answer = result
        if answer.verified { answer.digest = digest.description }
        return answer
    }

    /// Everything about the attestor entry except the image and the key (kept verbatim: the
    /// dictionary hashes it, no digest needed).
    static func fingerprint(_ r: ImageVerificationRequest) -> String {
        let ann = r.annotations.isEmpty ? "" : r.annotations.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return "alg=\(r.signatureAlgorithm);repo=\(r.signatureRepository ?? "");ann=\(ann);tlog=\(r.ignoreTlog);sct=\(r.ignoreSCT)"
    }

    static func keyFingerprint(_ key: VerificationKey) -> String {
        switch key {
        case .kms(let uri): return "kms:" + uri
        case .publicKey(let pem): return "pem:" + pem
        }
    }

    static func reason(_ error: any Error) -> String {
        if let e = error as? SignetAdmissionError { return e.code.name }
        let type = String(describing: type(of: error))
        if type.contains("OCI") { return "registry" }
        if type.contains("KMS") || type.contains("Vault") { return "kms" }
        if type.contains("Signing") { return "signing" }
        return "other"
    }
}
