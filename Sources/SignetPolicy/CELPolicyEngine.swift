import SignetCEL
import SignetPrimitives

/// One compiled named expression.
struct CompiledExpression: Sendable {
    let name: String
    let program: CELProgram
}

/// One compiled `validations` entry.
struct CompiledValidation: Sendable {
    let source: CELValidation
    let program: CELProgram
    let messageProgram: CELProgram?
}

/// The outcome of one set of CEL checks on one object.
enum CELCheckOutcome: Sendable, Equatable {
    case pass
    /// `matchConditions` / `celPreconditions` not met.
    case skip(String)
    case fail(String)
    case error(String)
}

/// Compiled CEL checks: match conditions, variables, validations and audit annotations. Shared by
/// ValidatingPolicy, ValidatingAdmissionPolicy and ClusterPolicy `validate.cel` rules; compiled
/// once at load, evaluated purely and synchronously under a cost budget.
public struct CompiledCELChecks: Sendable {
    let matchConditions: [CompiledExpression]
    let variables: [CompiledExpression]
    let validations: [CompiledValidation]
    let auditAnnotations: [CompiledExpression]
    /// Total cost budget of one evaluation of all expressions (Kubernetes' per-call limit).
    public static let costBudget: Int64 = 10_000_000

    /// Compiles the expressions; `report(path, message)` receives each compile error.
    /// `rewrite` transforms every expression first (autogen for Pod controllers).
    static func compile(matchConditions mc: [NamedCELExpression], variables vs: [NamedCELExpression], validations vals: [CELValidation],
                        auditAnnotations aa: [CELAuditAnnotation], pathPrefix: String,
                        rewrite: (String) -> String = { $0 }, environment env: CELEnvironment = KyvernoCELLibrary.environment,
                        report: (String, String) -> Void) -> CompiledCELChecks {
        func c(_ source: String, _ path: String) -> CELProgram? {
            do { return try env.compile(rewrite(source)) } catch { report(path, "compilation failed: \(error.message)"); return nil }
        }
        var m: [CompiledExpression] = []
        for (i, e) in mc.enumerated() { if let p = c(e.expression, "\(pathPrefix)matchConditions[\(i)].expression") { m.append(.init(name: e.name, program: p)) } }
        var v: [CompiledExpression] = []
        for (i, e) in vs.enumerated() { if let p = c(e.expression, "\(pathPrefix)variables[\(i)].expression") { v.append(.init(name: e.name, program: p)) } }
        var out: [CompiledValidation] = []
        for (i, e) in vals.enumerated() {
            guard let p = c(e.expression, "\(pathPrefix)validations[\(i)].expression") else { continue }
            let mp = e.messageExpression.flatMap { c($0, "\(pathPrefix)validations[\(i)].messageExpression") }
            out.append(.init(source: e, program: p, messageProgram: mp))
        }
        var a: [CompiledExpression] = []
        for (i, e) in aa.enumerated() { if let p = c(e.valueExpression, "\(pathPrefix)auditAnnotations[\(i)].valueExpression") { a.append(.init(name: e.key, program: p)) } }
        return CompiledCELChecks(matchConditions: m, variables: v, validations: out, auditAnnotations: a)
    }

    static func describe(_ v: CELValue) -> String {
        if case .error(let e) = v { return e.message }
        return "\(v)"
    }

    /// Evaluates the checks. `base` holds every variable but `variables`.
    func run(_ base: [String: CELValue]) -> (CELCheckOutcome, [String: String]) {
        var activation = base
        var budget = CompiledCELChecks.costBudget
        func eval(_ p: CELProgram) -> CELValue {
            let r = p.run(CELActivation(activation), costLimit: max(budget, 0))
            budget -= r.cost
            return r.value
        }
        for mc in matchConditions {
            switch eval(mc.program) {
            case .bool(true): continue
            case .bool(false): return (.skip("match condition \(mc.name) not met"), [:])
            case let other: return (.error("failed to evaluate match condition \(mc.name): \(Self.describe(other))"), [:])
            }
        }
        var vars = CELMap()
        activation["variables"] = .map(vars)
        for v in variables {
            // an erroring variable only fails the expressions that read it (Kubernetes evaluates lazily)
            vars.set(eval(v.program), for: .string(v.name))
            activation["variables"] = .map(vars)
        }
        var failures: [String] = []
        for val in validations {
            switch eval(val.program) {
            case .bool(true): continue
            case .bool(false):
                var msg = val.source.message ?? ""
                if let mp = val.messageProgram, case .string(let s) = eval(mp), !s.isEmpty { msg = s }
                if msg.isEmpty { msg = "failed expression: \(val.source.expression.trimmingCharacters(in: .whitespacesAndNewlines))" }
                failures.append(msg)
            case let other:
                return (.error("expression '\(val.source.expression.trimmingCharacters(in: .whitespacesAndNewlines))' resulted in error: \(Self.describe(other))"), [:])
            }
        }
        // Kyverno (pkg/cel/policies/vpol/compiler/policy.go evaluateAuditAnnotations): an empty or
        // null value adds nothing; an error or a non-string value makes the result an error
        var annotations: [String: String] = [:]
        for a in auditAnnotations {
            switch eval(a.program) {
            case .string(let s): if !s.isEmpty { annotations[a.name] = s }
            case .null: continue
            case let other:
                return (.error("failed to evaluate auditAnnotation '\(a.name)': \(Self.describe(other))"), [:])
            }
        }
        return (failures.isEmpty ? .pass : .fail(failures.joined(separator: "; ")), annotations)
    }
}

/// The per-request inputs of a CEL policy evaluation beyond the object itself.
public struct CELRequestContext: Sendable {
    /// Cluster data for `resource`, `globalContext`, `http`.
    public var data: KyvernoCELData
    /// The namespace object of a namespaced resource (built from `AdmissionInfo.namespaceLabels` when nil).
    public var namespaceObject: JSONValue?
    /// Candidate parameter objects (`paramResources`, or the API server's objects).
    public var paramResources: [JSONValue]

    public init(data: KyvernoCELData = .empty, namespaceObject: JSONValue? = nil, paramResources: [JSONValue] = []) {
        self.data = data
        self.namespaceObject = namespaceObject
        self.paramResources = paramResources
    }
}

/// Builds the CEL variables Kubernetes and Kyverno give policies (`object`, `request`, ...).
enum CELActivationBuilder {
    static func base(object: JSONValue, admission: AdmissionInfo, info: ResourceInfo, context: CELRequestContext,
                     params: JSONValue?) -> [String: CELValue] {
        var out = KyvernoCELLibrary.handles(context.data)
        out["object"] = admission.operation == .delete ? .null : CELValue(json: object)
        out["oldObject"] = admission.oldObject.map { CELValue(json: $0) } ?? .null
        let request: JSONValue = [
            "operation": .string(admission.operation.rawValue),
            "userInfo": ["username": .string(admission.username), "uid": .string(admission.uid),
                         "groups": .array(admission.groups.map(JSONValue.string))],
            "namespace": .string(info.namespace), "name": .string(info.name),
            "kind": ["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)],
            "resource": ["group": .string(info.group), "version": .string(info.version), "resource": .string(KubernetesResourceNames.plural(of: info.kind))],
            "subResource": .string(admission.subresource), "dryRun": false,
        ]
        out["request"] = CELValue(json: request)
        if let ns = context.namespaceObject {
            out["namespaceObject"] = CELValue(json: ns)
        } else if !info.namespace.isEmpty {
            out["namespaceObject"] = CELValue(json: ["apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": ["name": .string(info.namespace),
                                                                  "labels": .object(admission.namespaceLabels.mapValues(JSONValue.string))]])
        } else {
            out["namespaceObject"] = .null
        }
        out["params"] = params.map { CELValue(json: $0) } ?? .null
        out.merge(KyvernoCELLibrary.authorizerVariables(context.data.authorizer, admission: admission, info: info)) { _, new in new }
        out["exceptions"] = .null
        return out
    }
}

/// One way a policy applies: its own resource rules, or an autogen variant for Pod controllers.
struct CELPolicyVariant: Sendable {
    let ruleName: String
    let match: CELMatchConstraints
    let checks: CompiledCELChecks
}

/// A CEL policy ready for evaluation.
struct CELPolicyPlan: Sendable {
    let policy: ValidatingPolicy
    let variants: [CELPolicyVariant]
    let invalidReason: String?
}

/// Evaluates ValidatingPolicy, NamespacedValidatingPolicy and ValidatingAdmissionPolicy (with bindings
/// and params) on objects. Immutable and `Sendable`; programs are compiled once in `init`.
public struct CELPolicyEngine: Sendable {
    public let policies: [ValidatingPolicy]
    public let bindings: [ValidatingAdmissionPolicyBinding]
    public let exceptions: [CELPolicyException]
    let plans: [CELPolicyPlan]
    let exceptionPlans: [(exception: CELPolicyException, conditions: CompiledCELChecks)]
    /// ImageValidatingPolicies / NamespacedImageValidatingPolicies (see ImageValidatingPolicyEngine.swift).
    public let imagePolicies: [ImageValidatingPolicy]
    let imagePlans: [ImagePolicyPlan]
    /// Compile errors and other findings, by policy.
    public let diagnostics: [Diagnostic]

    public init(policies: [ValidatingPolicy], bindings: [ValidatingAdmissionPolicyBinding] = [], exceptions: [CELPolicyException] = [],
                imagePolicies: [ImageValidatingPolicy] = []) {
        self.policies = policies
        self.bindings = bindings
        self.exceptions = exceptions
        var diags: [Diagnostic] = []
        var plans: [CELPolicyPlan] = []
        for p in policies {
            let (plan, d) = CELPolicyEngine.plan(p)
            plans.append(plan)
            diags += d
        }
        self.plans = plans
        self.imagePolicies = imagePolicies
        var imagePlans: [ImagePolicyPlan] = []
        for p in imagePolicies {
            let (plan, d) = ImageValidatingPolicyEngine.compile(p)
            imagePlans.append(plan)
            diags += d
        }
        self.imagePlans = imagePlans
        self.exceptionPlans = exceptions.map { e in
            (e, CompiledCELChecks.compile(matchConditions: e.matchConditions, variables: [], validations: [], auditAnnotations: [],
                                           pathPrefix: "spec.", report: { path, msg in diags.append(Diagnostic(.error, path: "PolicyException/\(e.name): \(path)", msg)) }))
        }
        self.diagnostics = diags
    }

    /// Controller kinds and where their Pod template sits, for autogen.
    static let controllerTemplates: [(kind: String, group: String, resource: String, prefix: String)] = [
        ("DaemonSet", "apps", "daemonsets", "object.spec.template.spec"), ("Deployment", "apps", "deployments", "object.spec.template.spec"),
        ("Job", "batch", "jobs", "object.spec.template.spec"), ("StatefulSet", "apps", "statefulsets", "object.spec.template.spec"),
        ("ReplicaSet", "apps", "replicasets", "object.spec.template.spec"), ("ReplicationController", "", "replicationcontrollers", "object.spec.template.spec"),
        ("CronJob", "batch", "cronjobs", "object.spec.jobTemplate.spec.template.spec"),
    ]

    /// Rewrites a Pod expression for a controller, as Kyverno's autogen: `object.` → the Pod
    /// template (`object.spec.template.`), and the same for `oldObject.`.
    static func rewrite(_ expression: String, specPath templatePath: String) -> String {
        var s = expression.replacingOccurrences(of: "oldObject.", with: "\u{0}OLD\u{0}")
        s = s.replacingOccurrences(of: "object.", with: templatePath + ".")
        return s.replacingOccurrences(of: "\u{0}OLD\u{0}", with: "old" + templatePath.prefix(1).uppercased() + templatePath.dropFirst() + ".")
    }

    static func plan(_ p: ValidatingPolicy, environment: CELEnvironment = KyvernoCELLibrary.environment) -> (CELPolicyPlan, [Diagnostic]) {
        // Envoy / HTTP authorization policies compile with the `envoy` / `http` response libraries
        let environment = KyvernoAuthzLibrary.environment(for: p.mode) ?? environment
        var diags: [Diagnostic] = []
        func compile(_ rewrite: (String) -> String) -> CompiledCELChecks {
            CompiledCELChecks.compile(matchConditions: p.matchConditions, variables: p.variables, validations: p.validations,
                                      auditAnnotations: p.auditAnnotations, pathPrefix: "spec.", rewrite: rewrite, environment: environment,
                                      report: { path, msg in diags.append(Diagnostic(.error, path: "\(p.displayName): \(path)", msg)) })
        }
        var variants = [CELPolicyVariant(ruleName: p.name, match: p.matchConstraints, checks: compile { $0 })]
        let podRules = p.matchConstraints.resourceRules.filter { $0.apiGroups.contains("") && $0.resources.contains("pods") }
        if p.kind != .validatingAdmissionPolicy, !podRules.isEmpty, p.mode == .kubernetes {
            let ops = Array(Set(podRules.flatMap(\.operations))).sorted()
            for (specPath, group) in [("object.spec.template", false), ("object.spec.jobTemplate.spec.template", true)] {
                let ctrls = controllerTemplates.filter { ($0.kind == "CronJob") == group && p.autogenControllers.contains($0.kind) }
                guard !ctrls.isEmpty else { continue }
                var m = p.matchConstraints
                m.resourceRules = ctrls.map { c in
                    CELResourceRule(apiGroups: [c.group], apiVersions: ["v1"], resources: [c.resource], operations: ops)
                }
                let name = group ? "autogen-cronjob-" + p.name : "autogen-" + p.name
                // autogen variants only report compile errors of the original expression once
                let checks = CompiledCELChecks.compile(matchConditions: p.matchConditions, variables: p.variables, validations: p.validations,
                                                       auditAnnotations: p.auditAnnotations, pathPrefix: "spec.",
                                                       rewrite: { rewrite($0, specPath: specPath) }, environment: environment, report: { _, _ in })
                variants.append(CELPolicyVariant(ruleName: name, match: m, checks: checks))
            }
        }
        let errors = (p.diagnostics + diags).filter { $0.severity == .error }
        let invalid = errors.isEmpty ? nil : errors.map(\.description).joined(separator: "; ")
        return (CELPolicyPlan(policy: p, variants: variants, invalidReason: invalid), diags)
    }

    /// Whether `constraints` select the object (resource rules, exclusions, selectors).
    static func matches(_ m: CELMatchConstraints, info: ResourceInfo, admission: AdmissionInfo, isNamespace: Bool) -> Bool {
        let resource = KubernetesResourceNames.plural(of: info.kind)
        let namespaced = !info.namespace.isEmpty
        func hit(_ rules: [CELResourceRule]) -> Bool {
            rules.contains { $0.matches(group: info.group, version: info.version, resource: resource, subresource: admission.subresource,
                                        operation: admission.operation.rawValue, name: info.name, namespaced: namespaced) }
        }
        guard hit(m.resourceRules), !hit(m.excludeResourceRules) else { return false }
        if let sel = m.objectSelector, !sel.matches(info.labels) { return false }
        if let sel = m.namespaceSelector {
            if isNamespace { if !sel.matches(info.labels) { return false } }
            else if namespaced, !sel.matches(admission.namespaceLabels) { return false }
        }
        return true
    }

    /// Evaluates every policy on a Kubernetes object. Policies that do not match give no result;
    /// `matchConditions` not met give `skip`.
    public func evaluate(_ resource: JSONValue, admission: AdmissionInfo, context: CELRequestContext = .init()) -> [PolicyResult] {
        let info = ResourceInfo(resource)
        var out: [PolicyResult] = []
        for plan in plans where plan.policy.mode == .kubernetes {
            // a policy that does not apply reports no rule (as a ClusterPolicy whose rules do not match)
            out.append(evaluate(plan, resource: resource, info: info, admission: admission, context: context)
                       ?? PolicyResult(policy: plan.policy.name, policyNamespace: plan.policy.namespace, kind: plan.policy.kind.rawValue,
                                       failurePolicy: plan.policy.failurePolicy, rules: []))
        }
        return out
    }

    /// Evaluates every policy on a Kubernetes object: the validating policies, then the image
    /// validating policies on the results of `imageVerificationPlan`'s requests. Pure.
    public func evaluate(_ resource: JSONValue, admission: AdmissionInfo, context: CELRequestContext = .init(),
                         verifications: VerificationResults, secondPass: SecondPassImages) -> [PolicyResult] {
        evaluate(resource, admission: admission, context: context)
            + evaluateImagePolicies(resource, admission: admission, context: context, verifications: verifications, secondPass: secondPass)
    }

    /// Evaluates the JSON-mode policies (`evaluation.mode: JSON`) on any JSON document.
    public func evaluate(jsonPayload: JSONValue, context: CELRequestContext = .init()) -> [PolicyResult] {
        var out: [PolicyResult] = []
        for plan in plans where plan.policy.mode == .json {
            let p = plan.policy
            if let invalid = plan.invalidReason {
                out.append(PolicyResult(policy: p.name, policyNamespace: p.namespace, kind: p.kind.rawValue, failurePolicy: p.failurePolicy, rules: [], invalidReason: invalid))
                continue
            }
            guard let variant = plan.variants.first else { continue }
            var base = KyvernoCELLibrary.handles(context.data)
            base["object"] = CELValue(json: jsonPayload)
            for k in ["oldObject", "request", "namespaceObject", "params", "authorizer", "exceptions"] { base[k] = .null }
            if let ex = exception(for: p, base: base) {
                out.append(PolicyResult(policy: p.name, policyNamespace: p.namespace, kind: p.kind.rawValue, failurePolicy: p.failurePolicy,
                                        rules: [RuleResult(rule: variant.ruleName, type: .validation, status: .skip, message: "rule is skipped due to policy exception \(ex)", failureAction: action(p.validationActions), exceptions: [ex])]))
                continue
            }
            out.append(result(p, variant: variant, base: base, actions: p.validationActions))
        }
        return out
    }

    func action(_ actions: Set<ValidationAction>) -> FailureAction { actions.contains(.deny) ? .enforce : .audit }

    func exception(for p: ValidatingPolicy, base: [String: CELValue]) -> String? {
        for (e, checks) in exceptionPlans where e.policyNames.contains(p.name) {
            if case (.pass, _) = checks.run(base) { return e.key }
        }
        return nil
    }

    func result(_ p: ValidatingPolicy, variant: CELPolicyVariant, base: [String: CELValue], actions: Set<ValidationAction>) -> PolicyResult {
        let (outcome, annotations) = variant.checks.run(base)
        let act = action(actions)
        var rr: RuleResult
        switch outcome {
        case .pass: rr = RuleResult(rule: variant.ruleName, type: .validation, status: .pass, message: "", failureAction: act)
        case .skip(let m): rr = RuleResult(rule: variant.ruleName, type: .validation, status: .skip, message: m, failureAction: act)
        case .fail(let m):
            rr = RuleResult(rule: variant.ruleName, type: .validation, status: actions == [.warn] ? .warn : .fail, message: m, failureAction: act)
        case .error(let m): rr = RuleResult(rule: variant.ruleName, type: .validation, status: .error, message: m, failureAction: act)
        }
        rr.auditAnnotations = annotations
        return PolicyResult(policy: p.name, policyNamespace: p.namespace, kind: p.kind.rawValue, failurePolicy: p.failurePolicy, rules: [rr])
    }

    func evaluate(_ plan: CELPolicyPlan, resource: JSONValue, info: ResourceInfo, admission: AdmissionInfo, context: CELRequestContext) -> PolicyResult? {
        let p = plan.policy
        if let ns = p.namespace, p.kind == .namespacedValidatingPolicy, ns != info.namespace { return nil }
        let isNamespace = info.kind == "Namespace" && info.group.isEmpty
        guard let variant = plan.variants.first(where: { CELPolicyEngine.matches($0.match, info: info, admission: admission, isNamespace: isNamespace) }) else { return nil }
        if let invalid = plan.invalidReason {
            return PolicyResult(policy: p.name, policyNamespace: p.namespace, kind: p.kind.rawValue, failurePolicy: p.failurePolicy, rules: [], invalidReason: invalid)
        }
        var actions = p.validationActions
        var params: JSONValue?
        if p.kind == .validatingAdmissionPolicy {
            let mine = bindings.filter { $0.policyName == p.name }
            if !mine.isEmpty {
                guard let b = mine.first(where: { b in b.matchResources.map { m in
                    CELPolicyEngine.matches(m.resourceRules.isEmpty ? CELMatchConstraints(resourceRules: p.matchConstraints.resourceRules, excludeResourceRules: m.excludeResourceRules, namespaceSelector: m.namespaceSelector, objectSelector: m.objectSelector) : m,
                                            info: info, admission: admission, isNamespace: isNamespace) } ?? true }) else {
                    return PolicyResult(policy: p.name, policyNamespace: nil, kind: p.kind.rawValue, failurePolicy: p.failurePolicy,
                                        rules: [RuleResult(rule: variant.ruleName, type: .validation, status: .skip, message: "no binding matches the resource", failureAction: .audit)])
                }
                actions = b.validationActions
                if let ref = b.paramRef, let kind = p.paramKind {
                    params = context.paramResources.first { o in
                        o["kind"]?.stringValue == kind.kind && (ref.name == nil || o["metadata"]?["name"]?.stringValue == ref.name)
                            && (ref.namespace == nil || o["metadata"]?["namespace"]?.stringValue == ref.namespace)
                            && (ref.selector.map { $0.matches(o["metadata"]?["labels"]?.stringMap ?? [:]) } ?? true)
                    }
                    if params == nil, ref.parameterNotFoundAction != "Allow" {
                        return PolicyResult(policy: p.name, policyNamespace: nil, kind: p.kind.rawValue, failurePolicy: p.failurePolicy,
                                            rules: [RuleResult(rule: variant.ruleName, type: .validation, status: .error, message: "no params found for policy binding \(b.name)", failureAction: action(actions))])
                    }
                }
            } else if actions.isEmpty {
                actions = [.deny]
            }
        }
        let base = CELActivationBuilder.base(object: resource, admission: admission, info: info, context: context, params: params)
        if let ex = exception(for: p, base: base) {
            return PolicyResult(policy: p.name, policyNamespace: p.namespace, kind: p.kind.rawValue, failurePolicy: p.failurePolicy,
                                rules: [RuleResult(rule: variant.ruleName, type: .validation, status: .skip, message: "rule is skipped due to policy exception \(ex)", failureAction: action(actions), exceptions: [ex])])
        }
        return result(p, variant: variant, base: base, actions: actions)
    }
}
