import Foundation
import SignetOCI
import SignetPolicy
import SignetPrimitives
import SignetVerification

/// Registry credentials read from Kubernetes Secrets through the API server (`serve`): the Pod's
/// `imagePullSecrets` in the request's namespace, and an image validating policy's
/// `credentials.secrets` in signet's own namespace (Kyverno reads them in its namespace) or, for
/// a namespaced policy, in the policy's.
///
/// Bounds: at most `RegistrySecretReference.maxPerRequest` Secrets per verification, a docker
/// config of at most `RegistrySecretParser.maxConfigSize` bytes each; what was read is kept for
/// `ttl` (default 30 s, `--cluster-cache-ttl`) in at most `capacity` entries, so a rotated or
/// revoked Secret is seen within `ttl`. Secret data never reaches a log, an error or a metric.
///
/// RBAC needed: `get` on secrets (in the namespaces where Pods name pull secrets).
public final class KubernetesRegistrySecrets: RegistrySecretSource {
    public let client: KubernetesClient
    /// Where Secrets without a namespace (cluster-wide policies' `credentials.secrets`) are read.
    public let ownNamespace: String
    /// nil: not a docker config Secret, or no such Secret.
    let cache: ExpiringCache<RegistrySecretReference, CredentialStore?>

    public init(client: KubernetesClient, ownNamespace: String, ttl: Duration = .seconds(30), capacity: Int = 1000) {
        self.client = client
        self.ownNamespace = ownNamespace
        self.cache = ExpiringCache(ttl: ttl, capacity: capacity)
    }

    public func credentials(for refs: [RegistrySecretReference]) async throws -> CredentialStore {
        var stores: [CredentialStore] = []
        for ref in refs.prefix(RegistrySecretReference.maxPerRequest) {
            let resolved = RegistrySecretReference(namespace: ref.namespace ?? ownNamespace, name: ref.name)
            guard let namespace = resolved.namespace, RegistrySecretReference.isValidName(namespace),
                  RegistrySecretReference.isValidName(ref.name) else { continue }
            let client = self.client
            let (store, _) = try await cache.value(for: resolved) {
                guard let secret = try await client.get("/api/v1/namespaces/\(namespace)/secrets/\(ref.name)") else {
                    return nil // as go-containerregistry's Kubernetes keychain: a missing Secret is skipped
                }
                return try RegistrySecretParser.credentials(ofSecret: secret, name: "\(namespace)/\(ref.name)")
            }
            if let store { stores.append(store) }
        }
        return RegistrySecretParser.merge(stores)
    }
}

extension AdmissionController {
    /// `verifyAll` for an object whose Pod spec names `pullSecrets`: each request is verified
    /// with them added (`ImageVerificationRequest.adding(pullSecrets:)`, part of its cache key),
    /// and its result stored under the planned request the evaluation looks up.
    func verifyAll(_ planned: [PlannedVerification], deadline: ContinuousClock.Instant,
                   pullSecrets: [RegistrySecretReference]) async -> VerificationResults {
        guard !pullSecrets.isEmpty else { return await verifyAll(planned, deadline: deadline) }
        var plannedFor: [ImageVerificationRequest: [ImageVerificationRequest]] = [:]
        var scoped: [PlannedVerification] = []
        for item in planned {
            var s = item
            s.request = item.request.adding(pullSecrets: pullSecrets)
            if plannedFor[s.request] == nil { scoped.append(s) }
            plannedFor[s.request, default: []].append(item.request)
        }
        var out: VerificationResults = [:]
        for (request, result) in await verifyAll(scoped, deadline: deadline).stored {
            for original in plannedFor[request] ?? [] { out[original] = result }
        }
        return out
    }
}
