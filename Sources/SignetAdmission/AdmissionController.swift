import Foundation
import Logging
import SignetOCI
import SignetPolicy
import Synchronization
import SignetPrimitives

/// Answers AdmissionReviews with the policies of a `PolicyStore`, verifying images through a
/// `VerificationService`.
///
/// One pipeline, four stages (docs/DESIGN.md):
/// 1. *plan* — each policy's engine lists the verifications it can need (`VerificationPlan`:
///    every image × attestor entry × key of every matching verifyImages rule), without running any;
/// 2. *verify* — outside the engine: at most `limits.maxImagesPerRequest` distinct images (more is
///    denied under any failurePolicy), one registry pass per image for all its keys, at most
///    `limits.imageConcurrency` images at once per request and `limits.serverConcurrency` across
///    the server, every call bounded by the request's deadline; each outcome is a typed
///    `ImageVerificationResult` (verified, not verified, transport error);
/// 3. *evaluate* — `PolicyEngine.evaluate(_:admission:verifications:secondPass:)`, a pure function
///    of the request, the policies and the results;
/// 4. *decide* — `AdmissionDecision.decide`, pure as well.
public final class AdmissionController: AdmissionReviewer {
    public let policies: PolicyStore
    public let verification: VerificationService?
    public let metrics: AdmissionMetrics
    public let violations: ViolationStore
    /// Namespace labels and RBAC roles, asked only when a policy needs them; nil when the server
    /// runs without Kubernetes API access (those rules then report an error).
    public let cluster: (any ClusterLookup)?
    /// Reads image manifests and configs for policies that ask for them (`imageRegistry` context
    /// entries, `image.GetMetadata`); nil: those report that no registry access is configured.
    public let imageData: (any ImageDataProvider)?
    /// Reads the cluster data policies ask for (`resource.Get/List`, `globalContext`,
    /// `authorizer`, `configMap`, `apiCall`, `globalReference`); nil: those reads are errors.
    public let clusterData: ClusterDataSource?
    /// Makes the CEL `http.Get/Post` calls to allowed hosts (`serve --allow-http-host`); nil:
    /// those calls are errors ("http calls are disabled").
    public let celHTTP: CELHTTPClient?
    let logger: Logger
    public let limits: Limits
    let serverSlots: ConcurrencyLimiter

    /// Bounds on the work one request can cause.
    public struct Limits: Sendable {
        /// Distinct images verified per request; beyond it the request is denied (any failurePolicy).
        public var maxImagesPerRequest: Int
        /// Images of one request verified at once.
        public var imageConcurrency: Int
        /// Images verified at once across the whole server.
        public var serverConcurrency: Int

        public init(maxImagesPerRequest: Int = 64, imageConcurrency: Int = 8, serverConcurrency: Int = 32) {
            self.maxImagesPerRequest = max(1, maxImagesPerRequest)
            self.imageConcurrency = max(1, imageConcurrency)
            self.serverConcurrency = max(1, serverConcurrency)
        }
    }

    public init(policies: PolicyStore, verification: VerificationService?, metrics: AdmissionMetrics,
                violations: ViolationStore,
                cluster: (any ClusterLookup)? = nil, imageData: (any ImageDataProvider)? = nil, limits: Limits = Limits(),
                clusterData: ClusterDataSource? = nil, celHTTP: CELHTTPClient? = nil, logger: Logger) {
        self.imageData = imageData
        self.clusterData = clusterData
        self.celHTTP = celHTTP
        self.limits = limits
        self.serverSlots = ConcurrencyLimiter(limit: limits.serverConcurrency)
        self.policies = policies
        self.cluster = cluster
        self.verification = verification
        self.metrics = metrics
        self.violations = violations
        self.logger = logger
    }

    public var isReady: Bool { policies.current != nil }

    public func review(_ request: AdmissionRequest, phase: AdmissionPhase, group: PolicyGroup,
                       deadline: ContinuousClock.Instant) async -> AdmissionResponse {
        let (object, set, admissionInfo): (JSONValue, PolicySet, AdmissionInfo)
        switch prepare(request, group: group) {
        case .answered(let response): return response
        case .ready(let o, let s, let a): (object, set, admissionInfo) = (o, s, a)
        }
        var admission = admissionInfo
        let missing = await addClusterContext(to: &admission, request: request, needs: set.clusterContextNeeds, deadline: deadline)
        let decision: AdmissionDecision
        switch await evaluate(object, admission: admission, set: set, phase: phase, deadline: deadline, missingContext: missing) {
        case .evaluated(let engine):
            decision = AdmissionDecision.decide(request: request, phase: phase, engine: engine)
        case .tooManyImages(let count):
            decision = tooManyImages(request, count)
        }
        record(decision, request: request, phase: phase)
        return decision.response
    }

    /// The answer when nothing has to be awaited: no cluster context or data to read, no image
    /// data, and every planned verification already in the cache (the warm path, served on the
    /// event loop by `ImmediateReviewHandler`). The same stages and the same decision as
    /// `review`; nil when some stage would have to wait (then `review` runs).
    public func reviewImmediately(_ request: AdmissionRequest, phase: AdmissionPhase, group: PolicyGroup) -> AdmissionResponse? {
        let (object, set, admission): (JSONValue, PolicySet, AdmissionInfo)
        switch prepare(request, group: group) {
        case .answered(let response): return response
        case .ready(let o, let s, let a): (object, set, admission) = (o, s, a)
        }
        guard !wantsClusterContext(request, admission: admission, needs: set.clusterContextNeeds),
              set.clusterDataNeeds.isEmpty, !(imageData != nil && set.needsImageData) else { return nil }
        // The loaded engines as they are: nothing is added to their configuration on this path.
        let configuration = Self.loadedConfiguration
        let secondPass: SecondPassImages = phase == .validate ? .asSubmitted : .afterMutation
        let engine: EngineResponse
        if readsCacheWhileEvaluating(object, set: set) {
            // No plan: the evaluation asks the cache for exactly the results it reads. The plan
            // would only add the image limit, which the object's image count already keeps.
            let lookup = CachedVerificationLookup(verification: verification,
                                                  pullSecrets: RegistrySecretReference.imagePullSecrets(of: object))
            engine = evaluatePlanned(object, admission: admission, set: set, engines: set.engines, fixed: [:],
                                     configuration: configuration, verifications: [:], lookup: lookup, secondPass: secondPass)
            guard !lookup.missed else { return nil }
        } else {
            switch plan(object, admission: admission, set: set, configuration: configuration, rebuildEngines: false, fixed: [:]) {
            case .tooManyImages(let count):
                let decision = tooManyImages(request, count)
                record(decision, request: request, phase: phase)
                return decision.response
            case .planned(let planned):
                var results: VerificationResults = [:]
                if !planned.verifications.isEmpty {
                    guard let cached = cachedResults(planned.verifications, pullSecrets: RegistrySecretReference.imagePullSecrets(of: object))
                    else { return nil }
                    results = cached
                }
                engine = evaluatePlanned(object, admission: admission, set: set, engines: planned.engines, fixed: [:],
                                         configuration: configuration, verifications: results, secondPass: secondPass)
            }
        }
        let decision = AdmissionDecision.decide(request: request, phase: phase, engine: engine)
        record(decision, request: request, phase: phase)
        return decision.response
    }

    /// The warm path's configuration: the loaded engines' own, with nothing added (made once).
    static let loadedConfiguration = PolicyEngine.Configuration()

    /// Whether the warm path may skip the plan: the set verifies only standard container images
    /// (so every planned image is one of them) and the object names no more than the per-request
    /// limit (so the plan would not deny it). No verifyImages at all: nothing to plan either.
    func readsCacheWhileEvaluating(_ object: JSONValue, set: PolicySet) -> Bool {
        guard set.verifiesStandardImagesOnly else { return false }
        guard set.clusterPoliciesVerifyImages else { return true }
        let kind = object["kind"]?.stringValue ?? ""
        return KyvernoImage.count(in: object, kind: kind) <= limits.maxImagesPerRequest
    }

    /// The first steps of every review: the loaded policies of `group`, the object to match and
    /// the request's admission info, or an answer that needs no policy.
    enum Prepared {
        case answered(AdmissionResponse)
        case ready(JSONValue, PolicySet, AdmissionInfo)
    }

    func prepare(_ request: AdmissionRequest, group: PolicyGroup) -> Prepared {
        guard let loaded = policies.current else {
            return .answered(AdmissionResponse(uid: request.uid, allowed: false,
                                               status: .init(code: 503, message: "signet has no policies loaded yet", reason: "ServiceUnavailable", status: "Failure")))
        }
        // Kyverno matches a DELETE against the old object; the engine then skips pattern rules and
        // verifyImages (as Kyverno's validate handlers do) and only reports rules it cannot
        // evaluate. CONNECT is matched and validated on its options object (PodExecOptions...).
        let target = request.operation == .delete ? request.oldObject : request.object
        guard let object = target else {
            return .answered(AdmissionResponse(uid: request.uid, allowed: true))
        }
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
        return .ready(object, loaded.filtered(group), admission)
    }

    func tooManyImages(_ request: AdmissionRequest, _ count: Int) -> AdmissionDecision {
        metrics.verificationError(reason: "image-limit")
        return AdmissionDecision.deny(request: request, message:
            "signet: the request names \(count) distinct images to verify, more than the limit of \(limits.maxImagesPerRequest) per request (--max-images-per-request)")
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
        let (wantLabels, wantRoles) = Self.clusterContextWanted(request, admission: admission, needs: needs)
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

    /// Which parts of the cluster context a request needs read (Kyverno: no namespace lookup for
    /// a Namespace or a cluster-scoped object, no role lookup without a user).
    static func clusterContextWanted(_ request: AdmissionRequest, admission: AdmissionInfo, needs: ClusterContextNeeds)
        -> (labels: Bool, roles: Bool) {
        let namespace = request.namespace ?? ""
        return (needs.contains(.namespaceLabels) && !namespace.isEmpty && request.kind.kind != "Namespace",
                needs.contains(.roles) && !admission.username.isEmpty)
    }

    func wantsClusterContext(_ request: AdmissionRequest, admission: AdmissionInfo, needs: ClusterContextNeeds) -> Bool {
        let (labels, roles) = Self.clusterContextWanted(request, admission: admission, needs: needs)
        return labels || roles
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

    /// One verification of the plan, with the policy it is cached for (a ClusterPolicy's name and
    /// version; the ImageValidatingPolicies share one owner: their requests carry everything the
    /// result depends on).
    struct PlannedVerification: Sendable {
        var request: ImageVerificationRequest
        var owner: String
        var version: String
    }

    static let imagePolicyOwner = "ImageValidatingPolicy"

    /// What the pipeline produced for one request.
    public enum Evaluation: Sendable {
        /// The engine's results.
        case evaluated(EngineResponse)
        /// More distinct images than `limits.maxImagesPerRequest`: nothing was verified.
        case tooManyImages(Int)
    }

    /// Runs plan → verify → evaluate on `object`. Rules that need the `missing` cluster context
    /// report an error instead of being evaluated.
    public func evaluate(_ object: JSONValue, admission: AdmissionInfo, set: PolicySet, phase: AdmissionPhase = .mutate,
                         deadline: ContinuousClock.Instant, missingContext: MissingContext? = nil) async -> Evaluation {
        var fixed: [Int: PolicyResult] = [:]
        if let missingContext {
            for (index, engine) in set.engines.enumerated() where !engine.clusterContextNeeds.isDisjoint(with: missingContext.needs) {
                if let r = engine.clusterContextErrors(object, admission: admission, missing: missingContext.needs,
                                                       message: missingContext.message)[0] {
                    fixed[index] = r
                }
            }
        }
        // 0. Image data, for the policies that read it: fetched before the pure evaluation, within
        // the deadline (at most 64 images, 8 at a time); what could not be read is reported by the
        // rules that needed it.
        var configuration = PolicyEngine.Configuration()  // the loaded engines' own
        let withImageData = imageData != nil && set.needsImageData
        if withImageData, let imageData {
            let references = PrefetchedImageData.containerImages(of: object)
            if !references.isEmpty, let fetched = try? await withDeadline(deadline, what: "reading image data", {
                await PrefetchedImageData.fetch(references: references, provider: imageData)
            }) {
                configuration.add(fetched)
            }
        }
        // 1. Plan.
        let planned: Planned
        switch plan(object, admission: admission, set: set, configuration: configuration, rebuildEngines: withImageData, fixed: fixed) {
        case .tooManyImages(let count): return .tooManyImages(count)
        case .planned(let p): planned = p
        }
        // 2. Verify.
        let results = planned.verifications.isEmpty ? [:] : await verifyAll(planned.verifications, deadline: deadline,
                                                                             pullSecrets: RegistrySecretReference.imagePullSecrets(of: object))
        // 3. Evaluate; policies reading cluster data in bounded rounds of reads (AdmissionController+ClusterData).
        let secondPass: SecondPassImages = phase == .validate ? .asSubmitted : .afterMutation
        if !set.clusterDataNeeds.isEmpty {
            return .evaluated(await evaluateWithClusterData(object, admission: admission, set: set, engines: planned.engines, fixed: fixed,
                                                            configuration: configuration, verifications: results,
                                                            secondPass: secondPass, deadline: deadline))
        }
        return .evaluated(evaluatePlanned(object, admission: admission, set: set, engines: planned.engines, fixed: fixed,
                                          configuration: configuration, verifications: results, secondPass: secondPass))
    }

    /// The plan of one request: the engines to evaluate with, and the verifications they can look at.
    struct Planned {
        var engines: [PolicyEngine]
        var verifications: [PlannedVerification]
    }

    enum PlanOutcome {
        case planned(Planned)
        /// More distinct images than `limits.maxImagesPerRequest`.
        case tooManyImages(Int)
    }

    /// Step 1 (*plan*): every policy's verifications, deduplicated across policies, and the image
    /// limit. `rebuildEngines`: the request's `configuration` differs from the loaded one (image
    /// data was fetched), so the engines that read it are rebuilt with it.
    func plan(_ object: JSONValue, admission: AdmissionInfo, set: PolicySet, configuration: PolicyEngine.Configuration,
              rebuildEngines: Bool, fixed: [Int: PolicyResult]) -> PlanOutcome {
        var engines: [PolicyEngine] = []
        engines.reserveCapacity(set.engines.count)
        var planned: [PlannedVerification] = []
        var seen = Set<ImageVerificationRequest>()
        var images = Set<Reference>()
        for (index, lp) in set.policies.enumerated() {
            let engine = rebuildEngines ? set.engines[index].with(verifier: nil, configuration: configuration) : set.engines[index]
            engines.append(engine)
            guard fixed[index] == nil, engine.hasVerifyImages else { continue }
            for request in engine.verificationPlan(object, admission: admission).requests where seen.insert(request).inserted {
                planned.append(PlannedVerification(request: request, owner: lp.policy.name, version: lp.version))
                images.insert(request.reference)
            }
        }
        // ImageValidatingPolicies add their (image × attestor) requests to the same plan: one
        // verification, one cache and one image limit for every policy kind.
        if let cel = set.celEngine, cel.hasImagePolicies {
            for request in cel.imageVerificationPlan(object, admission: admission, context: configuration.cel)
                where seen.insert(request).inserted {
                planned.append(PlannedVerification(request: request, owner: Self.imagePolicyOwner, version: ""))
                images.insert(request.reference)
            }
        }
        if images.count > limits.maxImagesPerRequest { return .tooManyImages(images.count) }
        return .planned(Planned(engines: engines, verifications: planned))
    }

    /// Step 3 (*evaluate*) for a set that reads no cluster data: a pure function of its arguments.
    /// `lookup`: results are read from the cache as the evaluation asks, each under the policy
    /// asking (the warm path without a plan); otherwise `results` holds them.
    func evaluatePlanned(_ object: JSONValue, admission: AdmissionInfo, set: PolicySet, engines: [PolicyEngine],
                         fixed: [Int: PolicyResult], configuration: PolicyEngine.Configuration,
                         verifications results: VerificationResults, lookup: CachedVerificationLookup? = nil,
                         secondPass: SecondPassImages) -> EngineResponse {
        let info = ResourceInfo(object)
        var response = EngineResponse(resource: info, policies: [])
        response.policies.reserveCapacity(engines.count)
        for index in engines.indices {
            if !fixed.isEmpty, let r = fixed[index] { response.policies.append(r); continue }
            let verifications = lookup.map { VerificationResults(source: $0.asking(set.policies[index].policy.name, set.policies[index].version)) } ?? results
            if let r = engines[index].evaluate(object, info: info, admission: admission, verifications: verifications, secondPass: secondPass).policies.first {
                response.policies.append(r)
            }
        }
        // CEL policies: pure and synchronous under their cost budget (cluster data: the namespace labels looked up above)
        if let cel = set.celEngine {
            let verifications = lookup.map { VerificationResults(source: $0.asking(Self.imagePolicyOwner, "")) } ?? results
            response.policies += cel.evaluate(object, admission: admission, context: configuration.cel,
                                              verifications: verifications, secondPass: secondPass)
        }
        return response
    }

    /// The cached results of every planned verification (scoped to `pullSecrets` as `verifyAll`
    /// scopes them), or nil when one is not cached: no task, no timer, no call.
    func cachedResults(_ planned: [PlannedVerification], pullSecrets: [RegistrySecretReference]) -> VerificationResults? {
        let lookup = CachedVerificationLookup(verification: verification, pullSecrets: pullSecrets)
        var results: VerificationResults = [:]
        for item in planned {
            guard let hit = lookup.result(for: item.request, owner: item.owner, version: item.version) else { return nil }
            results[item.request] = hit
        }
        return results
    }

    /// The warm path's verification results, read from the cache while the evaluation runs (on
    /// one event loop, synchronously). A request is read once, under the first policy asking (the
    /// plan, too, keeps a request shared by policies under the first); `missed` tells that some
    /// result was not cached, and the review must take the full path.
    final class CachedVerificationLookup: Sendable {
        let verification: VerificationService?
        let pullSecrets: [RegistrySecretReference]
        private let state = Mutex<(read: ReadResults, missed: Bool)>((ReadResults(), false))

        /// The results read so far. A review reads a few (one per image and key): up to
        /// `fewest` are compared rather than hashed (the cache lookup hashes the request once);
        /// beyond, a dictionary keeps every lookup constant-time.
        struct ReadResults {
            static let fewest = 16
            private var few: [(ImageVerificationRequest, ImageVerificationResult)] = []
            private var many: [ImageVerificationRequest: ImageVerificationResult] = [:]

            subscript(request: ImageVerificationRequest) -> ImageVerificationResult? {
                many.isEmpty ? few.first { $0.0 == request }?.1 : many[request]
            }

            mutating func add(_ request: ImageVerificationRequest, _ result: ImageVerificationResult) {
                if many.isEmpty, few.count < Self.fewest { few.append((request, result)); return }
                if many.isEmpty {
                    for (r, v) in few { many[r] = v }
                    few = []
                }
                many[request] = result
            }
        }

        init(verification: VerificationService?, pullSecrets: [RegistrySecretReference]) {
            self.verification = verification
            self.pullSecrets = pullSecrets
        }

        var missed: Bool { state.withLock { $0.missed } }

        /// The source one policy's evaluation reads.
        func asking(_ owner: String, _ version: String) -> some VerificationResultSource {
            Asking(lookup: self, owner: owner, version: version)
        }

        struct Asking: VerificationResultSource {
            let lookup: CachedVerificationLookup
            let owner: String
            let version: String
            func result(for request: ImageVerificationRequest) -> ImageVerificationResult? {
                lookup.result(for: request, owner: owner, version: version)
            }
        }

        func result(for request: ImageVerificationRequest, owner: String, version: String) -> ImageVerificationResult? {
            if let known = state.withLock({ $0.read[request] }) { return known }
            let result: ImageVerificationResult
            if let verification {
                // Scoped to the object's pull secrets, as `verifyAll` scopes the request it verifies.
                let scoped = pullSecrets.isEmpty ? request : request.adding(pullSecrets: pullSecrets)
                guard let hit = verification.cachedResult(scoped, policy: owner, version: version) else {
                    state.withLock { $0.missed = true }
                    return nil
                }
                result = hit
            } else {
                result = AdmissionController.noVerifier
            }
            state.withLock { $0.read.add(request, result) }
            return result
        }
    }

    static let noVerifier = ImageVerificationResult.error("no image verifier is configured")

    /// Every planned request answered with an error: the server has no image verifier.
    static func withoutVerifier(_ planned: [PlannedVerification]) -> VerificationResults {
        var results: VerificationResults = [:]
        for item in planned { results[item.request] = noVerifier }
        return results
    }

    /// Verifies the planned requests: grouped by image (one registry pass for all its keys), at
    /// most `imageConcurrency` images at once, each waiting for a server-wide slot, all bounded by
    /// `deadline`. Every request gets a typed result; nothing throws.
    func verifyAll(_ planned: [PlannedVerification], deadline: ContinuousClock.Instant) async -> VerificationResults {
        guard let verification else { return Self.withoutVerifier(planned) }
        var results: VerificationResults = [:]
        // Warm path: digest references already verified need no task, no timer, no call.
        var groups: [String: [PlannedVerification]] = [:]
        var order: [String] = []
        for item in planned {
            if let hit = verification.cachedResult(item.request, policy: item.owner, version: item.version) {
                results[item.request] = hit
                continue
            }
            let image = item.request.reference.description
            if groups[image] == nil { order.append(image) }
            groups[image, default: []].append(item)
        }
        if order.isEmpty { return results }
        let width = limits.imageConcurrency
        let slots = serverSlots
        let metrics = self.metrics
        return await withTaskGroup(of: [(ImageVerificationRequest, ImageVerificationResult)].self) { group in
            var iterator = order.makeIterator()
            func add(_ image: String) {
                let items = groups[image] ?? []
                group.addTask {
                    do {
                        return try await withDeadline(deadline, what: "verifying \(image)") {
                            try await slots.run {
                                await verification.verifyGroup(items.map { ($0.request, $0.owner, $0.version) })
                            }
                        }
                    } catch let error as SignetAdmissionError where error.code == .timeout {
                        metrics.verificationError(reason: "timeout")
                        let message = "\(error.message) (the webhook timeout minus its margin)"
                        return items.map { ($0.request, ImageVerificationResult.error(message)) }
                    } catch {
                        return items.map { ($0.request, ImageVerificationResult.error("verification was cancelled")) }
                    }
                }
            }
            for _ in 0..<width { if let image = iterator.next() { add(image) } }
            while let batch = await group.next() {
                for (request, result) in batch { results[request] = result }
                if let image = iterator.next() { add(image) }
            }
            return results
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        return text.isEmpty ? "lookup failed" : text
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
                "operation": "\(request.operation.rawValue)",
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
