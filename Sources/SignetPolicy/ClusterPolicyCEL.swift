import SignetCEL
import SignetPrimitives

/// A ClusterPolicy `validate.cel` block: Kubernetes ValidatingAdmissionPolicy parts inside a rule.
public struct CELRuleValidation: Sendable {
    public var expressions: [CELValidation]
    public var variables: [NamedCELExpression]
    public var auditAnnotations: [CELAuditAnnotation]
    public var paramKind: CELParamKind?
    public var paramRef: CELParamRef?
    let checks: CompiledCELChecks

    /// The same block with every expression rewritten (autogen for Pod controllers); nil when it does not compile.
    func rewritten(specPath: String) -> CELRuleValidation {
        var c = self
        let checks = CompiledCELChecks.compile(matchConditions: [], variables: variables, validations: expressions, auditAnnotations: auditAnnotations,
                                               pathPrefix: "", rewrite: { CELPolicyEngine.rewrite($0, specPath: specPath) }, report: { _, _ in })
        c = CELRuleValidation(expressions: expressions, variables: variables, auditAnnotations: auditAnnotations, paramKind: paramKind, paramRef: paramRef, checks: checks)
        return c
    }
}

/// A rule's `celPreconditions` (Kubernetes match conditions).
public struct CELPreconditions: Sendable {
    public var conditions: [NamedCELExpression]
    let checks: CompiledCELChecks

    func rewritten(specPath: String) -> CELPreconditions {
        CELPreconditions(conditions: conditions, checks: CompiledCELChecks.compile(
            matchConditions: conditions, variables: [], validations: [], auditAnnotations: [], pathPrefix: "",
            rewrite: { CELPolicyEngine.rewrite($0, specPath: specPath) }, report: { _, _ in }))
    }
}

extension FieldReader {
    /// Reads `validate.cel` (errors for expressions that do not compile).
    mutating func celValidation(_ v: JSONValue, path: String) -> CELRuleValidation? {
        guard let o = v.objectValue else { error(path, "must be a map"); return nil }
        checkKeys(o, path: path, known: ["expressions", "variables", "auditAnnotations", "paramKind", "paramRef"],
                  unsupported: ["generate": "generate is not supported"])
        var exprs: [CELValidation] = []
        for (i, e) in (o["expressions"]?.arrayValue ?? []).enumerated() {
            let ep = "\(path).expressions[\(i)]"
            guard let eo = e.objectValue else { error(ep, "must be a map"); continue }
            checkKeys(eo, path: ep, known: ["expression", "message", "messageExpression", "reason"])
            guard let x = eo["expression"]?.stringValue, !x.isEmpty else { error(ep + ".expression", "an expression is required"); continue }
            exprs.append(CELValidation(expression: x, message: eo["message"]?.stringValue, messageExpression: eo["messageExpression"]?.stringValue, reason: eo["reason"]?.stringValue))
        }
        var r = self
        let vars = ValidatingPolicyLoader.named(o["variables"], path: path + ".variables", valueKey: "expression", &r)
        var annotations: [CELAuditAnnotation] = []
        for (i, a) in (o["auditAnnotations"]?.arrayValue ?? []).enumerated() {
            let ap = "\(path).auditAnnotations[\(i)]"
            guard let ao = a.objectValue else { r.error(ap, "must be a map"); continue }
            annotations.append(CELAuditAnnotation(key: ao["key"]?.stringValue ?? "", valueExpression: ao["valueExpression"]?.stringValue ?? ""))
        }
        var paramKind: CELParamKind?
        if let pk = o["paramKind"]?.objectValue { paramKind = CELParamKind(apiVersion: pk["apiVersion"]?.stringValue ?? "", kind: pk["kind"]?.stringValue ?? "") }
        var paramRef: CELParamRef?
        if let pr = o["paramRef"]?.objectValue {
            paramRef = CELParamRef(name: pr["name"]?.stringValue, namespace: pr["namespace"]?.stringValue,
                                   selector: pr["selector"].flatMap { r.labelSelector($0, path: path + ".paramRef.selector") },
                                   parameterNotFoundAction: pr["parameterNotFoundAction"]?.stringValue ?? "Deny")
        }
        if exprs.isEmpty { r.error(path + ".expressions", "at least one expression is required") }
        let checks = CompiledCELChecks.compile(matchConditions: [], variables: vars, validations: exprs, auditAnnotations: annotations,
                                               pathPrefix: path + ".", report: { p, m in r.error(p, m) })
        self = r
        return CELRuleValidation(expressions: exprs, variables: vars, auditAnnotations: annotations, paramKind: paramKind, paramRef: paramRef, checks: checks)
    }

    /// Reads `celPreconditions`.
    mutating func celPreconditions(_ v: JSONValue, path: String) -> CELPreconditions {
        var r = self
        let conds = ValidatingPolicyLoader.named(v, path: path, valueKey: "expression", &r)
        let checks = CompiledCELChecks.compile(matchConditions: conds, variables: [], validations: [], auditAnnotations: [],
                                               pathPrefix: path + ".", report: { p, m in r.error(p, m) })
        self = r
        return CELPreconditions(conditions: conds, checks: checks)
    }
}

extension PolicyEngine {
    /// `celPreconditions` of a rule: nil when they hold, else the skip (or error) result.
    func celPreconditionResult(_ rule: Rule, resource: JSONValue, info: ResourceInfo, admission: AdmissionInfo, action: FailureAction) -> RuleResult? {
        guard let pre = rule.celPreconditions else { return nil }
        let base = CELActivationBuilder.base(object: resource, admission: admission, info: info, context: configuration.cel, params: nil)
        switch pre.checks.run(base).0 {
        case .pass: return nil
        case .skip, .fail: return RuleResult(rule: rule.name, type: .validation, status: .skip, message: "cel preconditions not met", failureAction: action)
        case .error(let m): return RuleResult(rule: rule.name, type: .validation, status: .error, message: m, failureAction: action)
        }
    }

    /// Evaluates a `validate.cel` rule (Kyverno: `validation error: <message>` on failure).
    func celRuleResult(_ rule: Rule, _ c: CELRuleValidation, resource: JSONValue, info: ResourceInfo, admission: AdmissionInfo, action: FailureAction) -> RuleResult {
        var params: JSONValue?
        if let ref = c.paramRef, let kind = c.paramKind {
            params = configuration.cel.paramResources.first { o in
                o["kind"]?.stringValue == kind.kind && (ref.name == nil || o["metadata"]?["name"]?.stringValue == ref.name)
                    && (ref.namespace == nil || o["metadata"]?["namespace"]?.stringValue == ref.namespace)
            } ?? configuration.cel.data.resources.first { o in
                o["kind"]?.stringValue == kind.kind && (ref.name == nil || o["metadata"]?["name"]?.stringValue == ref.name)
            }
            if params == nil && ref.parameterNotFoundAction != "Allow" {
                return RuleResult(rule: rule.name, type: .validation, status: .error, message: "failed to find params \(ref.namespace ?? "")/\(ref.name ?? "") of kind \(kind.kind)", failureAction: action)
            }
        }
        let base = CELActivationBuilder.base(object: resource, admission: admission, info: info, context: configuration.cel, params: params)
        let (outcome, annotations) = c.checks.run(base)
        var r: RuleResult
        switch outcome {
        case .pass: r = RuleResult(rule: rule.name, type: .validation, status: .pass, message: "", failureAction: action)
        case .skip(let m): r = RuleResult(rule: rule.name, type: .validation, status: .skip, message: m, failureAction: action)
        case .fail(let m): r = RuleResult(rule: rule.name, type: .validation, status: .fail, message: m, failureAction: action)
        // Kubernetes' validator turns an evaluation error into a Deny decision under failurePolicy
        // Fail, which Kyverno reports as a failure of the rule
        case .error(let m): r = RuleResult(rule: rule.name, type: .validation, status: .fail, message: m, failureAction: action)
        }
        r.auditAnnotations = annotations
        return r
    }
}
