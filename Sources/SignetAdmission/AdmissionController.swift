import Foundation
import Logging
import SignetOCI
import SignetPolicy
import Synchronization

/// Answers AdmissionReviews with the policies of a `PolicyStore`, verifying images through a
/// `VerificationService`.
///
/// Verification runs before the decision, not inside it: the engine is first run with a recording
/// verifier to learn which (image, key) verifications it needs; those run in parallel (distinct
/// images of one Pod at once), each bounded by the request's deadline; then the engine runs again
/// on the recorded results. Verifications a result made necessary (another attestor entry, an image
/// a previous rule pinned) are found the same way, a few rounds at most. The final engine run and
/// `AdmissionDecision.decide` are pure in the request, the policies and the results.
public final class AdmissionController: AdmissionReviewer {
    public let policies: PolicyStore
    public let verification: VerificationService?
    public let metrics: AdmissionMetrics
    public let violations: ViolationStore
    public let engineConfiguration: PolicyEngine.Configuration
    /// Namespace labels and RBAC roles, asked only when a policy needs them; nil when the server
    /// runs without Kubernetes API access (those rules then report an error).
    public let cluster: (any ClusterLookup)?
    let logger: Logger
    static let maxRounds = 6

    public init(policies: PolicyStore, verification: VerificationService?, metrics: AdmissionMetrics,
                violations: ViolationStore, engineConfiguration: PolicyEngine.Configuration = .init(),
                cluster: (any ClusterLookup)? = nil, logger: Logger) {
        self.policies = policies
        self.cluster = cluster
        self.verification = verification
        self.metrics = metrics
        self.violations = violations
        self.engineConfiguration = engineConfiguration
        self.logger = logger
    }

    public var isReady: Bool { policies.current != nil }

    public func review(_ request: AdmissionRequest, phase: AdmissionPhase, group: PolicyGroup,
                       deadline: ContinuousClock.Instant) async -> AdmissionResponse {
        guard let loaded = policies.current else {
            return AdmissionResponse(uid: request.uid, allowed: false,
                                     status: .init(code: 503, message: "signet has no policies loaded yet", reason: "ServiceUnavailable", status: "Failure"))
        }
        // Kyverno matches a DELETE against the old object; the engine then skips pattern rules and
        // verifyImages (as Kyverno's validate handlers do) and only reports rules it cannot
        // evaluate. CONNECT is matched and validated on its options object (PodExecOptions...).
        let target = request.operation == "DELETE" ? request.oldObject : request.object
        guard let object = target else {
            return AdmissionResponse(uid: request.uid, allowed: true)
        }
        let set = loaded.filtered(group)
        var admission = AdmissionInfo(operation: request.operation, username: request.userInfo.username ?? "",
                                      uid: request.userInfo.uid ?? "", groups: request.userInfo.groups ?? [],
                                      subresource: request.subResource ?? "", oldObject: request.oldObject)
        if let sub = request.subResource, !sub.isEmpty {
            // A subresource request (`pods/exec`: kind PodExecOptions, resource pods) matches
            // `Pod/exec`: the kind of the resource it is made on, with the subresource.
            let resource = request.requestResource ?? request.resource
            let parent = WebhookConfigurationBuilder.kind(ofResource: resource.resource, group: resource.group) ?? request.kind.kind
            admission.requestKind = (resource.group, resource.version, parent)
        }
        let missing = await addClusterContext(to: &admission, request: request, needs: set.clusterContextNeeds, deadline: deadline)
        let engine = await evaluate(object, admission: admission, set: set, deadline: deadline, missingContext: missing)
        let decision = AdmissionDecision.decide(request: request, phase: phase, engine: engine)
        record(decision, request: request, phase: phase)
        return decision.response
    }

    /// What the cluster could not tell: the parts of the context that are missing, and why.
    public struct MissingContext: Sendable {
        public var needs: ClusterContextNeeds
        public var message: String
    }

    /// Fills the namespace labels and the user's roles when some policy of the set needs them
    /// (Kyverno: no namespace lookup for a Namespace or a cluster-scoped object). Returns what
    /// could not be read, so the rules needing it report an error instead of matching on nothing.
    func addClusterContext(to admission: inout AdmissionInfo, request: AdmissionRequest, needs: ClusterContextNeeds,
                           deadline: ContinuousClock.Instant) async -> MissingContext? {
        let namespace = request.namespace ?? ""
        let wantLabels = needs.contains(.namespaceLabels) && !namespace.isEmpty && request.kind.kind != "Namespace"
        let wantRoles = needs.contains(.roles) && !admission.username.isEmpty
        guard wantLabels || wantRoles else { return nil }
        guard let cluster else {
            return MissingContext(needs: needs, message: "the policy needs \(Self.describe(needs)), but signet serve runs without kubernetes api access (--kubernetes-api)")
        }
        let username = admission.username, groups = admission.groups
        async let labels: Result<[String: String], any Error> = wantLabels
            ? Self.catching { try await withDeadline(deadline, what: "reading the labels of namespace \(namespace)") { try await cluster.namespaceLabels(namespace) } }
            : .success([:])
        async let roles: Result<BoundRoles, any Error> = wantRoles
            ? Self.catching { try await withDeadline(deadline, what: "reading the roles of \(username)") { try await cluster.roles(username: username, groups: groups) } }
            : .success(BoundRoles())
        var missing = ClusterContextNeeds()
        var reasons: [String] = []
        switch await labels {
        case .success(let l): admission.namespaceLabels = l
        case .failure(let e):
            missing.insert(.namespaceLabels)
            reasons.append("could not read the labels of namespace \(namespace): \(Self.describe(e))")
        }
        switch await roles {
        case .success(let r): admission.roles = r.roles; admission.clusterRoles = r.clusterRoles
        case .failure(let e):
            missing.insert(.roles)
            reasons.append("could not read the rbac roles of \(username): \(Self.describe(e))")
        }
        if missing.isEmpty { return nil }
        metrics.verificationError(reason: "cluster")
        logger.warning("cluster lookup failed", metadata: ["reason": "\(reasons.joined(separator: "; "))"])
        return MissingContext(needs: missing, message: reasons.joined(separator: "; "))
    }

    static func catching<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    static func describe(_ needs: ClusterContextNeeds) -> String {
        var parts: [String] = []
        if needs.contains(.namespaceLabels) { parts.append("namespace labels (namespaceSelector)") }
        if needs.contains(.roles) { parts.append("rbac roles (roles/clusterRoles)") }
        return parts.joined(separator: " and ")
    }

    /// Runs the engine on `object`, verification rounds included. Rules that need the `missing`
    /// cluster context report an error instead of being evaluated.
    public func evaluate(_ object: JSONValue, admission: AdmissionInfo, set: PolicySet,
                         deadline: ContinuousClock.Instant, missingContext: MissingContext? = nil) async -> EngineResponse {
        var known: [String: [ImageVerificationRequest: ReplayVerifier.Outcome]] = [:]
        var fixed: [Int: PolicyResult] = [:]  // policies without verifyImages: evaluated once
        if let missingContext {
            for (index, engine) in set.engines.enumerated() where !engine.clusterContextNeeds.isDisjoint(with: missingContext.needs) {
                if let r = engine.clusterContextErrors(object, admission: admission, missing: missingContext.needs,
                                                       message: missingContext.message)[0] {
                    fixed[index] = r
                }
            }
        }
        var response = PolicyEngine(policies: []).validate(object, admission: admission)
        for round in 0..<Self.maxRounds {
            let last = round == Self.maxRounds - 1
            var results: [PolicyResult] = []
            var missing: [(LoadedPolicy, ImageVerificationRequest)] = []
            for (index, lp) in set.policies.enumerated() {
                if let r = fixed[index] { results.append(r); continue }
                let prepared = set.engines[index]
                if !prepared.hasVerifyImages {
                    let r = prepared.with(verifier: nil, configuration: engineConfiguration).validate(object, admission: admission)
                    if let p = r.policies.first { fixed[index] = p; results.append(p) }
                    continue
                }
                let replay = ReplayVerifier(known: known[lp.policy.name] ?? [:], missingIsFailure: last)
                let r = await prepared.with(verifier: replay, configuration: engineConfiguration)
                    .evaluate(object, admission: admission)
                results += r.policies
                missing += replay.missing.map { (lp, $0) }
            }
            response.policies = results
            if missing.isEmpty { return response }
            let outcomes = await verifyAll(missing, deadline: deadline)
            for ((lp, request), outcome) in zip(missing, outcomes) {
                known[lp.policy.name, default: [:]][request] = outcome
            }
        }
        return response
    }

    /// Runs `calls` in parallel, each bounded by `deadline`.
    func verifyAll(_ calls: [(LoadedPolicy, ImageVerificationRequest)], deadline: ContinuousClock.Instant) async -> [ReplayVerifier.Outcome] {
        guard let verification else {
            return calls.map { _ in .failure("no image verifier is configured") }
        }
        // Warm path: digest references already verified need no task, no timer, no call.
        var out = [ReplayVerifier.Outcome?](repeating: nil, count: calls.count)
        for (i, (lp, request)) in calls.enumerated() {
            if let hit = verification.cachedResult(request, policy: lp.policy.name, version: lp.version) { out[i] = .result(hit) }
        }
        if out.allSatisfy({ $0 != nil }) { return out.map { $0! } }
        return await withTaskGroup(of: (Int, ReplayVerifier.Outcome).self) { group in
            for (i, (lp, request)) in calls.enumerated() where out[i] == nil {
                group.addTask {
                    do {
                        let result = try await withDeadline(deadline, what: "verifying \(request.image)") {
                            try await verification.verify(request, policy: lp.policy.name, version: lp.version)
                        }
                        return (i, .result(result))
                    } catch let error as SignetAdmissionError where error.code == .timeout {
                        self.metrics.verificationError(reason: "timeout")
                        return (i, .failure("\(error.message) (the webhook timeout minus its margin)"))
                    } catch {
                        return (i, .failure(Self.describe(error)))
                    }
                }
            }
            for await (i, outcome) in group { out[i] = outcome }
            return out.map { $0 ?? .failure("not run") }
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        return text.isEmpty ? "verification failed" : text
    }

    /// Metrics, the recent-violations store and one structured audit log line per violation.
    func record(_ decision: AdmissionDecision, request: AdmissionRequest, phase: AdmissionPhase) {
        for o in decision.ruleResults { metrics.decision(policy: o.policy, rule: o.rule, result: o.result) }
        guard !decision.violations.isEmpty else { return }
        violations.record(decision.violations)
        for v in decision.violations {
            logger.notice("admission policy result", metadata: [
                "audit": "true",
                "uid": "\(request.uid)",
                "phase": "\(phase.rawValue)",
                "operation": "\(request.operation)",
                "user": "\(request.userInfo.username ?? "")",
                "resource": "\(v.resource.kind)/\(v.resource.namespace ?? "")/\(v.resource.name)",
                "policy": "\(v.policy)",
                "rule": "\(v.rule)",
                "result": "\(v.result)",
                "action": "\(v.action)",
                "allowed": "\(decision.response.allowed)",
                "dryRun": "\(request.dryRun ?? false)",
                "message": "\(v.message)",
            ])
        }
    }
}

/// The verifier the engine sees during a round: known results are replayed, unknown requests are
/// recorded (and answered "verified, digest unknown" so the engine goes on to list the rest).
final class ReplayVerifier: ImageVerifier {
    enum Outcome: Sendable {
        case result(ImageVerificationResult)
        case failure(String)
    }

    let known: [ImageVerificationRequest: Outcome]
    let missingIsFailure: Bool
    private let recorded = Mutex<[ImageVerificationRequest]>([])

    init(known: [ImageVerificationRequest: Outcome], missingIsFailure: Bool) {
        self.known = known
        self.missingIsFailure = missingIsFailure
    }

    var missing: [ImageVerificationRequest] { recorded.withLock { $0 } }

    func verify(_ request: ImageVerificationRequest) async throws -> ImageVerificationResult {
        switch known[request] {
        case .result(let r)?: return r
        case .failure(let message)?: throw SignetAdmissionError(.verification, message)
        case nil:
            if missingIsFailure { throw SignetAdmissionError(.verification, "verification needed too many rounds") }
            recorded.withLock { if !$0.contains(request) { $0.append(request) } }
            return ImageVerificationResult(verified: true, digest: nil, message: "")
        }
    }
}
