import SignetOCI
import SignetPrimitives

/// Evaluates Kyverno ClusterPolicies (validate pattern/anyPattern and verifyImages) on Kubernetes
/// objects. Immutable and `Sendable`: build one per policy set and share it between requests.
///
/// Admission use:
/// ```swift
/// let engine = PolicyEngine(policies: loaded.policies, verifier: cosignVerifier)
/// let response = await engine.evaluate(object, admission: AdmissionInfo(operation: "CREATE", ...))
/// if response.blocked { deny(response.blockMessage) } else { allow(patch: response.patches, warnings: response.warnings) }
/// ```
public struct PolicyEngine: Sendable {
    /// Options.
    public struct Configuration: Sendable {
        /// Public keys of `keys.secret` attestors by `namespace/name` (PEM, possibly several).
        /// The executable fills it from files; libraries never read files.
        public var secretKeys: [String: String] = [:]
        /// Values for rule variables (values files, ConfigMaps, mocks); see `VariableValues`.
        public var variables = VariableValues()
        /// Answers `apiCall` / `imageRegistry` context entries (nil: test mocks only).
        public var contextProvider: (any ContextDataProvider)?
        /// Per-request inputs of CEL policies (cluster data, namespace object, params).
        public var cel = CELRequestContext()
        public init(secretKeys: [String: String] = [:]) { self.secretKeys = secretKeys }
    }

    public let policies: [ClusterPolicy]
    public let exceptions: [PolicyException]
    /// Precomputed per-policy evaluation plans (no per-request copies of rules).
    let plans: [PolicyPlan]
    public let verifier: (any ImageVerifier)?
    public let configuration: Configuration
    /// ValidatingPolicies / ValidatingAdmissionPolicies evaluated beside the ClusterPolicies.
    public let celEngine: CELPolicyEngine?

    /// - Parameters:
    ///   - policies: loaded policies; invalid ones are reported (`PolicyResult.invalidReason`) and not evaluated.
    ///   - exceptions: PolicyExceptions to honour.
    ///   - verifier: checks signatures for verifyImages rules; nil makes those rules report an error
    ///     ("no image verifier is configured").
    public init(policies: [ClusterPolicy], exceptions: [PolicyException] = [], verifier: (any ImageVerifier)? = nil, configuration: Configuration = .init(),
                celEngine: CELPolicyEngine? = nil) {
        self.celEngine = celEngine
        self.policies = policies
        self.plans = policies.map(PolicyPlan.init)
        self.exceptions = exceptions
        self.verifier = verifier
        self.configuration = configuration
    }

    private init(policies: [ClusterPolicy], plans: [PolicyPlan], exceptions: [PolicyException],
                 verifier: (any ImageVerifier)?, configuration: Configuration, celEngine: CELPolicyEngine?) {
        self.celEngine = celEngine
        self.policies = policies
        self.plans = plans
        self.exceptions = exceptions
        self.verifier = verifier
        self.configuration = configuration
    }

    /// The same policies, exceptions and precomputed plans with another verifier and
    /// configuration: no rule is prepared again (the webhook builds its engines once per policy
    /// set, then swaps in a per-request verifier).
    public func with(verifier: (any ImageVerifier)?, configuration: Configuration? = nil) -> PolicyEngine {
        PolicyEngine(policies: policies, plans: plans, exceptions: exceptions, verifier: verifier,
                     configuration: configuration ?? self.configuration, celEngine: celEngine)
    }

    /// The same engine with CEL policies evaluated beside the ClusterPolicies, and their per-request inputs.
    public func with(celEngine: CELPolicyEngine?, cel: CELRequestContext) -> PolicyEngine {
        var c = configuration
        c.cel = cel
        return PolicyEngine(policies: policies, plans: plans, exceptions: exceptions, verifier: verifier, configuration: c, celEngine: celEngine)
    }

    /// True when some rule of some policy (autogen rules included) has verifyImages, or an
    /// image validating policy is loaded: evaluations need verification results.
    public var hasVerifyImages: Bool { plans.contains { !$0.imageRules.isEmpty } || (celEngine?.hasImagePolicies ?? false) }

    // MARK: - Entry points

    /// Evaluates every policy on `resource` (verifyImages first, then validate rules, as Kyverno):
    /// plan → verify (with this engine's `verifier`, at most `concurrency` at once) → evaluate.
    /// `signet apply` and `signet test` use this; the webhook runs the stages itself.
    public func evaluate(_ resource: JSONValue, admission: AdmissionInfo = AdmissionInfo(), concurrency: Int = 4) async -> EngineResponse {
        let plan = verificationPlan(resource, admission: admission)
        var results: VerificationResults = [:]
        if !plan.isEmpty {
            results = await Self.verify(plan, with: verifier, concurrency: concurrency,
                                        pullSecrets: RegistrySecretReference.imagePullSecrets(of: resource))
        }
        return evaluate(resource, admission: admission, verifications: results, secondPass: .afterMutation)
    }

    /// Runs a plan's requests through `verifier`, at most `concurrency` at once. A verifier that
    /// throws reports an error result (transport); nil answers every request with an error.
    /// `pullSecrets` (the object's `imagePullSecrets`) are added to each request as it is verified
    /// (`ImageVerificationRequest.adding(pullSecrets:)`); results are keyed by the planned request.
    public static func verify(_ plan: VerificationPlan, with verifier: (any ImageVerifier)?, concurrency: Int,
                              pullSecrets: [RegistrySecretReference] = []) async -> VerificationResults {
        guard let verifier else {
            var out: VerificationResults = [:]
            for r in plan.requests { out[r] = .error("no image verifier is configured") }
            return out
        }
        let width = max(1, concurrency)
        return await withTaskGroup(of: (ImageVerificationRequest, ImageVerificationResult).self) { group in
            var out: VerificationResults = [:]
            var iterator = plan.requests.makeIterator()
            func add(_ request: ImageVerificationRequest) {
                group.addTask {
                    do { return (request, try await verifier.verify(request.adding(pullSecrets: pullSecrets))) } catch { return (request, .error("\(error)")) }
                }
            }
            for _ in 0..<width { if let r = iterator.next() { add(r) } }
            while let (request, result) = await group.next() {
                out[request] = result
                if let r = iterator.next() { add(r) }
            }
            return out
        }
    }

    /// Evaluates every policy on `resource` with verification results already obtained (the
    /// results of `verificationPlan`'s requests): a pure, synchronous function of its arguments.
    public func evaluate(_ resource: JSONValue, admission: AdmissionInfo, verifications: VerificationResults,
                         secondPass: SecondPassImages) -> EngineResponse {
        evaluate(resource, info: ResourceInfo(resource), admission: admission, verifications: verifications, secondPass: secondPass)
    }

    /// `evaluate(_:admission:verifications:secondPass:)` with the resource's `ResourceInfo` made
    /// once by the caller (a webhook evaluates one object with one engine per policy).
    public func evaluate(_ resource: JSONValue, info: ResourceInfo, admission: AdmissionInfo, verifications: VerificationResults,
                         secondPass: SecondPassImages) -> EngineResponse {
        let subject = Matcher.subject(info, admission)
        var out: [PolicyResult] = []
        out.reserveCapacity(plans.count)
        for plan in plans {
            out.append(evaluate(plan, resource: resource, info: info, subject: subject, admission: admission,
                                verifications: verifications, secondPass: secondPass))
        }
        if let celEngine {
            out += celEngine.evaluate(resource, admission: admission, context: configuration.cel, verifications: verifications, secondPass: secondPass)
        }
        return EngineResponse(resource: info, policies: out)
    }

    /// Evaluates only the validate rules, synchronously (verifyImages rules are left out).
    public func validate(_ resource: JSONValue, admission: AdmissionInfo = AdmissionInfo()) -> EngineResponse {
        let info = ResourceInfo(resource)
        let subject = Matcher.subject(info, admission)
        var out: [PolicyResult] = []
        out.reserveCapacity(plans.count)
        for plan in plans {
            out.append(validatePolicy(plan, resource: resource, info: info, subject: subject, admission: admission))
        }
        if let celEngine { out += celEngine.evaluate(resource, admission: admission, context: configuration.cel) }
        return EngineResponse(resource: info, policies: out)
    }

    // MARK: - Per policy


    func evaluate(_ plan: PolicyPlan, resource: JSONValue, info: ResourceInfo, subject: Matcher.Subject, admission: AdmissionInfo,
                  verifications: VerificationResults, secondPass: SecondPassImages) -> PolicyResult {
        if let invalid = plan.invalid { return invalid }
        let p = plan.policy
        var results: [RuleResult] = []
        var current = resource
        var patched = false
        for rp in plan.imageRules where admission.operation != .delete {
            if let kf = rp.kindFilter, !kf.contains(subject.kind) { continue }
            // Read out of the plan once: each `rp.rule` passed to a call is a copy of the whole struct.
            let rule = rp.rule
            guard Matcher.matches(rule, policyNamespace: plan.scopeNamespace, subject) else { continue }
            let action = failureAction(p, rule, info: info, admission: admission)
            if !exceptions.isEmpty, let ex = exceptionKeys(p, rule, subject, resource: resource, admission: admission) {
                results.append(RuleResult(rule: rule.name, type: .imageVerify, status: .skip, message: "rule is skipped due to policy exceptions" + ex.joined(separator: ", "), failureAction: action, exceptions: ex))
                continue
            }
            if !rule.unsupported.isEmpty {
                results.append(unsupportedResult(rule, type: .imageVerify, action: action))
                continue
            }
            let rs = verifyImages(rule, policy: p, resource: current, original: patched ? resource : nil, info: info,
                                  action: action, verifications: verifications, secondPass: secondPass, admission: admission)
            for r in rs { for patch in r.patches { current = JSONPatcher.apply(patch, to: current); patched = true } }
            results += rs
            if plan.applyOne && !rs.isEmpty { break }
        }
        var v = validatePolicy(plan, resource: current, info: info, subject: subject, admission: admission)
        v.rules = results + v.rules
        return v
    }

    func validatePolicy(_ plan: PolicyPlan, resource: JSONValue, info: ResourceInfo, subject: Matcher.Subject, admission: AdmissionInfo) -> PolicyResult {
        if let invalid = plan.invalid { return invalid }
        var results: [RuleResult] = []
        for rp in plan.validateRules {
            if let kf = rp.kindFilter, !kf.contains(subject.kind) { continue }
            guard Matcher.matches(rp.rule, policyNamespace: plan.scopeNamespace, subject) else { continue }
            let action = rp.fixedAction ?? failureAction(plan.policy, rp.rule, info: info, admission: admission)
            if rp.rule.unsupported.isEmpty, let v = rp.rule.validate, let ps = v.podSecurity {
                // PolicyExceptions, DELETE and allowExistingViolations as Kyverno's PSS handler (PodSecurityRuleEngine.swift)
                if let skip = celPreconditionResult(rp.rule, resource: resource, info: info, admission: admission, action: action) { results.append(skip); continue }
                guard let r = podSecurityResult(rp, ps, v, plan: plan, resource: resource, subject: subject, admission: admission, action: action) else { continue }
                results.append(r)
                if plan.applyOne { break }
                continue
            }
            if !exceptions.isEmpty, let ex = exceptionKeys(plan.policy, rp.rule, subject, resource: resource, admission: admission) {
                results.append(RuleResult(rule: rp.rule.name, type: .validation, status: .skip, message: "rule is skipped due to policy exceptions" + ex.joined(separator: ", "), failureAction: action, exceptions: ex))
                continue
            }
            if !rp.rule.unsupported.isEmpty {
                results.append(unsupportedResult(rp.rule, type: .validation, action: action))
                if plan.applyOne { break }
                continue
            }
            guard let v = rp.rule.validate else { continue }
            // Kyverno's validate handler skips pattern checks on DELETE; deny conditions (the way
            // to forbid a deletion), foreach and CEL still run, on the old object.
            if admission.operation == .delete, v.pattern != nil || v.anyPattern != nil { continue }
            if let skip = celPreconditionResult(rp.rule, resource: resource, info: info, admission: admission, action: action) {
                results.append(skip)
                continue
            }
            if let c = v.cel {
                results.append(celRuleResult(rp.rule, c, resource: resource, info: info, admission: admission, action: action))
                if plan.applyOne { break }
                continue
            }
            var r = rp.rule.usesVariables
                ? validateWithVariables(rp, v, policy: plan.policy, resource: resource, admission: admission, action: action)
                : validate(rp, v, resource: resource, action: action)
            // allowExistingViolations: on UPDATE under Enforce, a failure the old object already had is skipped
            if action == .enforce, v.allowExistingViolations, admission.operation == .update, r.status == .fail, let old = admission.oldObject {
                var oldAdmission = admission
                oldAdmission.operation = .create
                if Matcher.matches(rp.rule, policyNamespace: plan.scopeNamespace, Matcher.subject(ResourceInfo(old), oldAdmission)),
                   (rp.rule.usesVariables
                    ? validateWithVariables(rp, v, policy: plan.policy, resource: old, admission: oldAdmission, action: action)
                    : validate(rp, v, resource: old, action: action)).status == .fail {
                    r = RuleResult(rule: rp.rule.name, type: .validation, status: .skip, message: "skipping the rule evaluation as pre-existing violations are allowed", failureAction: action)
                }
            }
            results.append(r)
            if plan.applyOne { break }
        }
        return PolicyResult(policy: plan.policy.name, policyNamespace: plan.policy.namespace, kind: plan.policy.kind, failurePolicy: plan.policy.failurePolicy, rules: results, invalidReason: nil)
    }

    func unsupportedResult(_ rule: Rule, type: RuleType, action: FailureAction) -> RuleResult {
        RuleResult(rule: rule.name, type: type, status: .error, message: "rule \(rule.name) is not supported by signet: " + rule.unsupported.joined(separator: "; "), failureAction: action)
    }

    func exceptionKeys(_ p: ClusterPolicy, _ rule: Rule, _ subject: Matcher.Subject,
                       resource: JSONValue? = nil, admission: AdmissionInfo? = nil) -> [String]? {
        guard !exceptions.isEmpty else { return nil }
        let keys = exceptions.filter { e in
            e.covers(policy: p.name, policyNamespace: p.kind == "Policy" ? p.namespace : nil, rule: rule.name) && Matcher.exceptionMatches(e.match, subject)
                && exceptionConditionsHold(e, resource: resource, admission: admission)
        }.map(\.key)
        return keys.isEmpty ? nil : keys
    }

    // MARK: - Failure action

    /// Kyverno's resolution: rule `validate.failureActionOverrides` > rule `failureAction`
    /// (verifyImages: any Enforce entry, else the first set) > spec overrides > spec action.
    public func failureAction(_ p: ClusterPolicy, _ rule: Rule, info: ResourceInfo, admission: AdmissionInfo) -> FailureAction {
        func matchOverride(_ overrides: [FailureActionOverride]) -> FailureAction? {
            for o in overrides {
                if o.namespaces.isEmpty {
                    if o.namespaceSelector == nil || o.namespaceSelector!.matches(admission.namespaceLabels) { return o.action }
                    continue
                }
                for ns in o.namespaces where Wildcard.match(ns, info.namespace) {
                    if o.namespaceSelector == nil || o.namespaceSelector!.matches(admission.namespaceLabels) { return o.action }
                }
            }
            return nil
        }
        if let v = rule.validate {
            if let a = matchOverride(v.failureActionOverrides) { return a }
            if let a = v.failureAction { return a }
        } else if rule.hasVerifyImages {
            let set = rule.verifyImages.compactMap(\.failureAction)
            if set.contains(.enforce) { return .enforce }
            if let first = set.first { return first }
        }
        if let a = matchOverride(p.validationFailureActionOverrides) { return a }
        return p.validationFailureAction
    }

    // MARK: - validate

    func validate(_ rp: RulePlan, _ v: Validation, resource: JSONValue, action: FailureAction) -> RuleResult {
        let rule = rp.rule
        func result(_ s: RuleStatus, _ m: String, path: String? = nil) -> RuleResult {
            RuleResult(rule: rule.name, type: .validation, status: s, message: m, path: path, failureAction: action)
        }
        if let pattern = v.pattern {
            switch pattern.match(resource) {
            case .pass: return result(.pass, rp.passMessage)
            case .skip(let m): return result(.skip, m)
            case .fail(let path, let m): return result(.fail, errorMessage(rule, v, path: path, error: m), path: path)
            case .error(let m): return result(.error, errorMessage(rule, v, path: "", error: m))
            }
        }
        if let patterns = v.anyPattern {
            var failed: [String] = []
            var skipped: [String] = []
            for (i, pattern) in patterns.enumerated() {
                switch pattern.match(resource) {
                case .pass: return result(.pass, "validation rule '\(rule.name)' anyPattern[\(i)] passed.")
                case .skip(let m): skipped.append("rule \(rule.name)[\(i)] skipped: \(m)")
                case .fail(let path, _): failed.append("rule \(rule.name)[\(i)] failed at path \(path)")
                case .error(let m): failed.append("rule \(rule.name)[\(i)] failed: \(m)")
                }
            }
            if !skipped.isEmpty && failed.isEmpty { return result(.skip, skipped.joined(separator: " ")) }
            if !failed.isEmpty {
                let errs = failed.joined(separator: " ")
                guard let msg = v.message, !msg.isEmpty else { return result(.fail, "validation error: \(errs)") }
                return result(.fail, msg.hasSuffix(".") ? "validation error: \(msg) \(errs)" : "validation error: \(msg). \(errs)")
            }
            return result(.pass, v.message ?? "")
        }
        return result(.error, "invalid validation rule: pattern or anyPattern expected")
    }

    /// Kyverno `buildErrorMessage`.
    func errorMessage(_ rule: Rule, _ v: Validation, path: String, error: String) -> String {
        guard var msg = v.message, !msg.isEmpty else {
            if !path.isEmpty { return "validation error: rule \(rule.name) failed at path \(path)" }
            return "validation error: rule \(rule.name) execution error: \(error)"
        }
        if !msg.hasSuffix(".") { msg += "." }
        if !path.isEmpty { return "validation error: \(msg) rule \(rule.name) failed at path \(path)" }
        return "validation error: \(msg) rule \(rule.name) execution error: \(error)"
    }
}

/// A rule ready for evaluation (shared, never copied per request).
final class RulePlan: Sendable {
    let rule: Rule
    let passMessage: String
    /// Kinds the rule can possibly match (a cheap necessary condition), nil when wildcards make it open.
    let kindFilter: Set<String>?
    /// The failure action when it cannot depend on the namespace (no overrides anywhere).
    let fixedAction: FailureAction?

    init(_ rule: Rule, policy: ClusterPolicy) {
        self.rule = rule
        passMessage = "validation rule '\(rule.name)' passed."
        let filters = rule.match.any + rule.match.all + [rule.match.legacy]
        let withKinds = filters.filter { !$0.resources.kinds.isEmpty }
        if withKinds.isEmpty || (!rule.match.any.isEmpty && withKinds.count != rule.match.any.count) || (rule.match.any.isEmpty && rule.match.all.isEmpty && rule.match.legacy.resources.kinds.isEmpty) {
            kindFilter = nil
        } else {
            let kinds = withKinds.flatMap(\.resources.kinds)
            kindFilter = kinds.contains { Wildcard.containsWildcard($0.kind) } ? nil : Set(kinds.map(\.kind))
        }
        if let v = rule.validate, v.failureActionOverrides.isEmpty {
            fixedAction = v.failureAction ?? (policy.validationFailureActionOverrides.isEmpty ? policy.validationFailureAction : nil)
        } else {
            fixedAction = nil
        }
    }
}

/// A policy ready for evaluation.
final class PolicyPlan: Sendable {
    let policy: ClusterPolicy
    let validateRules: [RulePlan]
    let imageRules: [RulePlan]
    let invalid: PolicyResult?
    let applyOne: Bool
    /// For a namespaced Policy: the only namespace it applies to.
    let scopeNamespace: String?

    init(_ p: ClusterPolicy) {
        policy = p
        validateRules = p.effectiveRules.filter { $0.hasValidate || (!$0.hasVerifyImages && !$0.unsupported.isEmpty) }.map { RulePlan($0, policy: p) }
        imageRules = p.effectiveRules.filter(\.hasVerifyImages).map { RulePlan($0, policy: p) }
        applyOne = p.applyRules == .one
        scopeNamespace = p.kind == "Policy" ? p.namespace : nil
        if p.isInvalid {
            let reason = p.diagnostics.filter { $0.severity == .error }.map(\.description).joined(separator: "; ")
            invalid = PolicyResult(policy: p.name, policyNamespace: p.namespace, kind: p.kind, failurePolicy: p.failurePolicy, rules: [], invalidReason: reason)
        } else {
            invalid = nil
        }
    }
}
