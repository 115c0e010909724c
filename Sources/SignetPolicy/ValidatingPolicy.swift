import SignetPrimitives

/// The CEL policy kinds Signet evaluates (closed set), read from `apiVersion`/`kind`.
public enum CELPolicyKind: String, Sendable, Hashable, CaseIterable {
    /// `policies.kyverno.io/{v1,v1beta1,v1alpha1}` ValidatingPolicy (cluster-wide).
    case validatingPolicy = "ValidatingPolicy"
    /// `policies.kyverno.io` NamespacedValidatingPolicy (applies only in its namespace).
    case namespacedValidatingPolicy = "NamespacedValidatingPolicy"
    /// `admissionregistration.k8s.io/{v1,v1beta1,v1alpha1}` ValidatingAdmissionPolicy.
    case validatingAdmissionPolicy = "ValidatingAdmissionPolicy"

    /// The kind of a document, nil when it is not one of these kinds at a supported version.
    public init?(apiVersion: String, kind: String) {
        let versions = ["v1", "v1beta1", "v1alpha1"]
        let parts = apiVersion.split(separator: "/").map(String.init)
        guard parts.count == 2, versions.contains(parts[1]) else { return nil }
        switch (parts[0], kind) {
        case ("policies.kyverno.io", "ValidatingPolicy"): self = .validatingPolicy
        case ("policies.kyverno.io", "NamespacedValidatingPolicy"): self = .namespacedValidatingPolicy
        case ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"): self = .validatingAdmissionPolicy
        default: return nil
        }
    }
}

/// `validationActions` entries (Kubernetes ValidatingAdmissionPolicyBinding / Kyverno ValidatingPolicy).
public enum ValidationAction: String, Sendable, Hashable, CaseIterable {
    case deny = "Deny", audit = "Audit", warn = "Warn"
}

/// How a ValidatingPolicy reads its input (`spec.evaluation.mode`).
public enum CELEvaluationMode: String, Sendable, Hashable {
    /// Kubernetes objects in admission requests (the default).
    case kubernetes = "Kubernetes"
    /// Any JSON document (`signet apply --json-payload`, `jsonPayloads` in tests).
    case json = "JSON"
    /// Envoy external-authorization `CheckRequest`s (kyverno-authz; `envoyPayloads` in tests).
    case envoy = "Envoy"
    /// HTTP authorization requests (kyverno-authz; `httpPayloads` in tests).
    case http = "HTTP"
}

/// One `resourceRules` entry of `matchConstraints` (Kubernetes `NamedRuleWithOperations`).
public struct CELResourceRule: Sendable, Hashable {
    public var apiGroups: [String] = []
    public var apiVersions: [String] = []
    public var resources: [String] = []
    public var operations: [String] = []
    public var resourceNames: [String] = []
    /// `Cluster`, `Namespaced` or `*` (default).
    public var scope: String = "*"

    public init(apiGroups: [String] = [], apiVersions: [String] = [], resources: [String] = [], operations: [String] = [],
                resourceNames: [String] = [], scope: String = "*") {
        self.apiGroups = apiGroups
        self.apiVersions = apiVersions
        self.resources = resources
        self.operations = operations
        self.resourceNames = resourceNames
        self.scope = scope
    }

    /// Whether the rule covers a request for `resource` (plural, with optional `/subresource`).
    public func matches(group: String, version: String, resource: String, subresource: String, operation: String, name: String, namespaced: Bool) -> Bool {
        guard apiGroups.contains(where: { $0 == "*" || $0 == group }),
              apiVersions.contains(where: { $0 == "*" || $0 == version }),
              operations.isEmpty || operations.contains(where: { $0 == "*" || $0 == operation }) else { return false }
        let full = subresource.isEmpty ? resource : resource + "/" + subresource
        let resourceOK = resources.contains { r in
            if r == "*" { return subresource.isEmpty }
            if r == "*/*" { return true }
            if r == full { return true }
            if r.hasSuffix("/*"), subresource.isEmpty == false, r.dropLast(2) == Substring(resource) { return true }
            if r.hasPrefix("*/"), r.dropFirst(2) == Substring(subresource) { return true }
            return false
        }
        guard resourceOK else { return false }
        if !resourceNames.isEmpty, !resourceNames.contains(name) { return false }
        switch scope {
        case "Cluster": return !namespaced
        case "Namespaced": return namespaced
        default: return true
        }
    }
}

/// `matchConstraints` (Kubernetes `MatchResources`).
public struct CELMatchConstraints: Sendable, Hashable {
    public var resourceRules: [CELResourceRule] = []
    public var excludeResourceRules: [CELResourceRule] = []
    public var namespaceSelector: LabelSelector?
    public var objectSelector: LabelSelector?
    /// `Equivalent` (default) or `Exact`.
    public var matchPolicy: String = "Equivalent"
}

/// A named CEL expression (`variables`, `matchConditions`).
public struct NamedCELExpression: Sendable, Hashable {
    public var name: String
    public var expression: String
}

/// One `validations` entry.
public struct CELValidation: Sendable, Hashable {
    public var expression: String
    public var message: String?
    public var messageExpression: String?
    /// `Unauthorized`, `Forbidden`, `Invalid`, `RequestEntityTooLarge`.
    public var reason: String?
}

/// One `auditAnnotations` entry.
public struct CELAuditAnnotation: Sendable, Hashable {
    public var key: String
    public var valueExpression: String
}

/// `paramKind` of a ValidatingAdmissionPolicy or `validate.cel`.
public struct CELParamKind: Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
}

/// `paramRef` of a binding or `validate.cel`.
public struct CELParamRef: Sendable, Hashable {
    public var name: String?
    public var namespace: String?
    public var selector: LabelSelector?
    /// `Allow` or `Deny` (default Deny).
    public var parameterNotFoundAction: String = "Deny"
}

/// A ValidatingPolicy, NamespacedValidatingPolicy or ValidatingAdmissionPolicy, with defaults applied.
/// The one model the CEL engine evaluates (a ClusterPolicy `validate.cel` rule reuses its parts).
public struct ValidatingPolicy: Sendable {
    public var kind: CELPolicyKind
    public var apiVersion: String
    public var name: String
    /// Set for NamespacedValidatingPolicy: the only namespace it applies to.
    public var namespace: String?
    public var annotations: [String: String] = [:]
    public var matchConstraints = CELMatchConstraints()
    public var matchConditions: [NamedCELExpression] = []
    public var variables: [NamedCELExpression] = []
    public var validations: [CELValidation] = []
    public var auditAnnotations: [CELAuditAnnotation] = []
    /// `validationActions` (default `[Deny]`, as Kubernetes).
    public var validationActions: Set<ValidationAction> = [.deny]
    public var failurePolicy: FailurePolicy = .fail
    public var webhookTimeoutSeconds: Int = 10
    public var admission: Bool = true
    public var background: Bool = true
    public var mode: CELEvaluationMode = .kubernetes
    /// Pod controllers autogen applies to (`autogen.podControllers.controllers`); defaults to all.
    public var autogenControllers: [String] = Autogen.podControllers
    public var paramKind: CELParamKind?
    public var diagnostics: [Diagnostic] = []
    public var sourcePath: String?

    /// True when loading found an error: the engine reports it instead of evaluating it.
    public var isInvalid: Bool { diagnostics.contains { $0.severity == .error } }
    /// `Kind/name` for messages.
    public var displayName: String { "\(kind.rawValue)/\(name)" }
}

/// A ValidatingAdmissionPolicyBinding (Kubernetes): binds a ValidatingAdmissionPolicy to params and actions.
public struct ValidatingAdmissionPolicyBinding: Sendable {
    public var name: String
    public var policyName: String
    public var paramRef: CELParamRef?
    public var validationActions: Set<ValidationAction>
    public var matchResources: CELMatchConstraints?
    public var diagnostics: [Diagnostic] = []
}

/// A `policies.kyverno.io` PolicyException: exempts CEL policies by name for resources its
/// `matchConditions` select (all must be true).
public struct CELPolicyException: Sendable {
    public var name: String
    public var namespace: String
    public var policyNames: [String]
    public var matchConditions: [NamedCELExpression]
    public var diagnostics: [Diagnostic] = []
    public var key: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }
}

/// Loads the CEL policy kinds from decoded YAML/JSON documents, reporting every field it does not
/// implement as a diagnostic (never a silent drop).
public enum ValidatingPolicyLoader {
    /// Loads a policy document; nil when the document is not a CEL policy kind.
    public static func policy(from o: [String: JSONValue], strict: Bool = false, sourcePath: String? = nil) -> ValidatingPolicy? {
        let apiVersion = o["apiVersion"]?.stringValue ?? ""
        guard let kind = CELPolicyKind(apiVersion: apiVersion, kind: o["kind"]?.stringValue ?? "") else { return nil }
        var r = FieldReader(strict: strict)
        let md = o["metadata"]?.objectValue ?? [:]
        let name = md["name"]?.stringValue ?? ""
        r.prefix = "\(kind.rawValue)/\(name)"
        var p = ValidatingPolicy(kind: kind, apiVersion: apiVersion, name: name, sourcePath: sourcePath)
        if name.isEmpty { r.error("metadata.name", "a policy name is required") }
        p.annotations = r.stringMap(md["annotations"], path: "metadata.annotations")
        if kind == .namespacedValidatingPolicy { p.namespace = md["namespace"]?.stringValue ?? "default" }
        r.checkKeys(o, path: "", known: ["apiVersion", "kind", "metadata", "spec", "status"])
        let spec = o["spec"]?.objectValue ?? [:]
        var known: Set<String> = ["matchConstraints", "matchConditions", "variables", "validations", "auditAnnotations", "failurePolicy", "paramKind"]
        if kind != .validatingAdmissionPolicy { known.formUnion(["validationActions", "webhookConfiguration", "evaluation", "autogen"]) }
        r.checkKeys(spec, path: "spec", known: known)
        if kind == .validatingAdmissionPolicy { p.validationActions = [] }
        if let mc = spec["matchConstraints"] { p.matchConstraints = matchConstraints(mc, path: "spec.matchConstraints", &r) }
        else if kind == .validatingAdmissionPolicy { r.error("spec.matchConstraints", "matchConstraints is required") }
        p.matchConditions = named(spec["matchConditions"], path: "spec.matchConditions", valueKey: "expression", &r)
        p.variables = named(spec["variables"], path: "spec.variables", valueKey: "expression", &r)
        for (i, v) in (spec["validations"]?.arrayValue ?? []).enumerated() {
            let vp = "spec.validations[\(i)]"
            guard let vo = v.objectValue else { r.error(vp, "must be a map"); continue }
            r.checkKeys(vo, path: vp, known: ["expression", "message", "messageExpression", "reason"])
            guard let e = vo["expression"]?.stringValue, !e.isEmpty else { r.error(vp + ".expression", "an expression is required"); continue }
            p.validations.append(CELValidation(expression: e, message: vo["message"]?.stringValue, messageExpression: vo["messageExpression"]?.stringValue, reason: vo["reason"]?.stringValue))
        }
        for (i, a) in (spec["auditAnnotations"]?.arrayValue ?? []).enumerated() {
            let ap = "spec.auditAnnotations[\(i)]"
            guard let ao = a.objectValue else { r.error(ap, "must be a map"); continue }
            r.checkKeys(ao, path: ap, known: ["key", "valueExpression"])
            p.auditAnnotations.append(CELAuditAnnotation(key: ao["key"]?.stringValue ?? "", valueExpression: ao["valueExpression"]?.stringValue ?? ""))
        }
        if let acts = spec["validationActions"] {
            p.validationActions = actions(acts, path: "spec.validationActions", &r)
        }
        if let fp = spec["failurePolicy"] {
            if let s = fp.stringValue, let f = FailurePolicy(rawValue: s) { p.failurePolicy = f }
            else { r.error("spec.failurePolicy", "must be Fail or Ignore") }
        }
        if let wc = spec["webhookConfiguration"]?.objectValue {
            r.checkKeys(wc, path: "spec.webhookConfiguration", known: ["timeoutSeconds"])
            if let t = wc["timeoutSeconds"] {
                if case .integer(let n) = t, (1...30).contains(n) { p.webhookTimeoutSeconds = Int(n) }
                else { r.error("spec.webhookConfiguration.timeoutSeconds", "must be an integer between 1 and 30") }
            }
        }
        if let ev = spec["evaluation"]?.objectValue {
            r.checkKeys(ev, path: "spec.evaluation", known: ["admission", "background", "mode"])
            p.admission = r.bool(ev["admission"]?["enabled"], path: "spec.evaluation.admission.enabled", default: true)
            p.background = r.bool(ev["background"]?["enabled"], path: "spec.evaluation.background.enabled", default: true)
            if let m = ev["mode"] {
                if let s = m.stringValue, let mode = CELEvaluationMode(rawValue: s) { p.mode = mode }
                else { r.error("spec.evaluation.mode", "must be Kubernetes, JSON, Envoy or HTTP") }
            }
        }
        if let ag = spec["autogen"]?.objectValue {
            r.checkKeys(ag, path: "spec.autogen", known: ["podControllers"])
            if let pc = ag["podControllers"]?.objectValue {
                r.checkKeys(pc, path: "spec.autogen.podControllers", known: ["controllers"])
                if pc["controllers"] != nil {
                    let names = r.strings(pc["controllers"], path: "spec.autogen.podControllers.controllers")
                    p.autogenControllers = names.map { c in
                        // accept plural resource names as Kyverno does (`deployments`)
                        Autogen.podControllers.first { $0.lowercased() == c.lowercased() || $0.lowercased() + "s" == c.lowercased() } ?? c
                    }
                }
            }
        }
        if let pk = spec["paramKind"]?.objectValue {
            p.paramKind = CELParamKind(apiVersion: pk["apiVersion"]?.stringValue ?? "", kind: pk["kind"]?.stringValue ?? "")
        }
        if p.validations.isEmpty && p.auditAnnotations.isEmpty {
            r.error("spec.validations", "at least one of validations or auditAnnotations is required")
        }
        p.diagnostics = r.diags
        return p
    }

    /// Loads a ValidatingAdmissionPolicyBinding; nil for other documents.
    public static func binding(from o: [String: JSONValue], strict: Bool = false) -> ValidatingAdmissionPolicyBinding? {
        guard o["kind"]?.stringValue == "ValidatingAdmissionPolicyBinding",
              o["apiVersion"]?.stringValue?.hasPrefix("admissionregistration.k8s.io/") == true else { return nil }
        var r = FieldReader(strict: strict)
        let name = o["metadata"]?["name"]?.stringValue ?? ""
        r.prefix = "ValidatingAdmissionPolicyBinding/\(name)"
        let spec = o["spec"]?.objectValue ?? [:]
        r.checkKeys(spec, path: "spec", known: ["policyName", "paramRef", "validationActions", "matchResources"])
        var ref: CELParamRef?
        if let pr = spec["paramRef"]?.objectValue {
            r.checkKeys(pr, path: "spec.paramRef", known: ["name", "namespace", "selector", "parameterNotFoundAction"])
            ref = CELParamRef(name: pr["name"]?.stringValue, namespace: pr["namespace"]?.stringValue,
                              selector: pr["selector"].flatMap { r.labelSelector($0, path: "spec.paramRef.selector") },
                              parameterNotFoundAction: pr["parameterNotFoundAction"]?.stringValue ?? "Deny")
        }
        let acts = spec["validationActions"].map { actions($0, path: "spec.validationActions", &r) } ?? [.deny]
        let mr = spec["matchResources"].map { matchConstraints($0, path: "spec.matchResources", &r) }
        return ValidatingAdmissionPolicyBinding(name: name, policyName: spec["policyName"]?.stringValue ?? "", paramRef: ref,
                                                validationActions: acts, matchResources: mr, diagnostics: r.diags)
    }

    /// Loads a `policies.kyverno.io` PolicyException; nil for other documents.
    public static func exception(from o: [String: JSONValue], strict: Bool = false) -> CELPolicyException? {
        guard o["kind"]?.stringValue == "PolicyException",
              o["apiVersion"]?.stringValue?.hasPrefix("policies.kyverno.io/") == true else { return nil }
        var r = FieldReader(strict: strict)
        let md = o["metadata"]?.objectValue ?? [:]
        let name = md["name"]?.stringValue ?? ""
        r.prefix = "PolicyException/\(name)"
        let spec = o["spec"]?.objectValue ?? [:]
        r.checkKeys(spec, path: "spec", known: ["policyRefs", "matchConditions", "images"])
        let refs = (spec["policyRefs"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        return CELPolicyException(name: name, namespace: md["namespace"]?.stringValue ?? "", policyNames: refs,
                                  matchConditions: named(spec["matchConditions"], path: "spec.matchConditions", valueKey: "expression", &r),
                                  diagnostics: r.diags)
    }

    static func actions(_ v: JSONValue, path: String, _ r: inout FieldReader) -> Set<ValidationAction> {
        var out: Set<ValidationAction> = []
        for (i, s) in r.strings(v, path: path).enumerated() {
            if let a = ValidationAction(rawValue: s) { out.insert(a) }
            else { r.error("\(path)[\(i)]", "unsupported validation action \(s): must be Deny, Audit or Warn") }
        }
        if out.contains(.deny) && out.contains(.warn) { r.error(path, "Deny and Warn may not be used together") }
        return out
    }

    static func named(_ v: JSONValue?, path: String, valueKey: String, _ r: inout FieldReader) -> [NamedCELExpression] {
        var out: [NamedCELExpression] = []
        for (i, e) in (v?.arrayValue ?? []).enumerated() {
            let ep = "\(path)[\(i)]"
            guard let eo = e.objectValue else { r.error(ep, "must be a map"); continue }
            r.checkKeys(eo, path: ep, known: ["name", valueKey])
            guard let expr = eo[valueKey]?.stringValue, !expr.isEmpty else { r.error("\(ep).\(valueKey)", "an expression is required"); continue }
            out.append(NamedCELExpression(name: eo["name"]?.stringValue ?? "", expression: expr))
        }
        return out
    }

    static func resourceRules(_ v: JSONValue?, path: String, _ r: inout FieldReader) -> [CELResourceRule] {
        var out: [CELResourceRule] = []
        for (i, e) in (v?.arrayValue ?? []).enumerated() {
            let ep = "\(path)[\(i)]"
            guard let eo = e.objectValue else { r.error(ep, "must be a map"); continue }
            r.checkKeys(eo, path: ep, known: ["apiGroups", "apiVersions", "resources", "operations", "resourceNames", "scope"])
            var rule = CELResourceRule()
            rule.apiGroups = r.strings(eo["apiGroups"], path: ep + ".apiGroups")
            rule.apiVersions = r.strings(eo["apiVersions"], path: ep + ".apiVersions")
            rule.resources = r.strings(eo["resources"], path: ep + ".resources")
            rule.operations = r.strings(eo["operations"], path: ep + ".operations")
            rule.resourceNames = r.strings(eo["resourceNames"], path: ep + ".resourceNames")
            rule.scope = eo["scope"]?.stringValue ?? "*"
            out.append(rule)
        }
        return out
    }

    static func matchConstraints(_ v: JSONValue, path: String, _ r: inout FieldReader) -> CELMatchConstraints {
        var m = CELMatchConstraints()
        guard let o = v.objectValue else { r.error(path, "must be a map"); return m }
        r.checkKeys(o, path: path, known: ["resourceRules", "excludeResourceRules", "namespaceSelector", "objectSelector", "matchPolicy"])
        m.resourceRules = resourceRules(o["resourceRules"], path: path + ".resourceRules", &r)
        m.excludeResourceRules = resourceRules(o["excludeResourceRules"], path: path + ".excludeResourceRules", &r)
        m.namespaceSelector = o["namespaceSelector"].flatMap { r.labelSelector($0, path: path + ".namespaceSelector") }
        m.objectSelector = o["objectSelector"].flatMap { r.labelSelector($0, path: path + ".objectSelector") }
        if let mp = o["matchPolicy"]?.stringValue { m.matchPolicy = mp }
        return m
    }
}

extension PolicyLoader {
    /// Policy kinds Signet recognises but does not evaluate: reported, never dropped silently.
    static let unsupportedPolicyKinds: [String: Set<String>] = [
        "policies.kyverno.io": ["MutatingPolicy", "NamespacedMutatingPolicy",
                                "GeneratingPolicy", "NamespacedGeneratingPolicy", "DeletingPolicy", "NamespacedDeletingPolicy"],
        "admissionregistration.k8s.io": ["MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"],
        "kyverno.io": ["CleanupPolicy", "ClusterCleanupPolicy", "UpdateRequest"],
    ]

    /// The CEL kinds' hook in `add`: true when the document was taken (loaded or reported).
    func addCELKind(_ o: [String: JSONValue], sourcePath: String?, to result: inout Result) -> Bool {
        if let p = ImageValidatingPolicyLoader.policy(from: o, strict: strict, sourcePath: sourcePath) {
            result.imageValidatingPolicies.append(p)
            return true
        }
        if let p = ValidatingPolicyLoader.policy(from: o, strict: strict, sourcePath: sourcePath) {
            result.validatingPolicies.append(p)
            return true
        }
        if let b = ValidatingPolicyLoader.binding(from: o, strict: strict) {
            result.admissionPolicyBindings.append(b)
            result.diagnostics += b.diagnostics
            return true
        }
        if let e = ValidatingPolicyLoader.exception(from: o, strict: strict) {
            result.celExceptions.append(e)
            result.diagnostics += e.diagnostics
            return true
        }
        let apiVersion = o["apiVersion"]?.stringValue ?? ""
        let kind = o["kind"]?.stringValue ?? ""
        let group = apiVersion.split(separator: "/").dropLast().joined(separator: "/")
        if Self.unsupportedPolicyKinds[group]?.contains(kind) == true || (group == "policies.kyverno.io" && kind.hasSuffix("Policy")) {
            let name = o["metadata"]?["name"]?.stringValue ?? ""
            result.diagnostics.append(Diagnostic(strict ? .error : .warning, path: "\(kind)/\(name)", "not supported: policy kind \(apiVersion) \(kind) is not implemented by signet"))
        } else if (group == "policies.kyverno.io" || group == "admissionregistration.k8s.io") && kind == "ValidatingPolicy" || kind == "ValidatingAdmissionPolicy" || kind == "NamespacedValidatingPolicy" {
            let name = o["metadata"]?["name"]?.stringValue ?? ""
            result.diagnostics.append(Diagnostic(strict ? .error : .warning, path: "\(kind)/\(name)", "not supported: \(kind) at apiVersion \(apiVersion) is not implemented by signet"))
        }
        return false
    }
}
