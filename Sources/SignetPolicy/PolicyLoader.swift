import Foundation
import SignetPrimitives

/// Loads Kyverno `kyverno.io/v1` (and v2beta1) ClusterPolicy/Policy documents from YAML or JSON
/// values, applying Kyverno's defaults, computing autogen rules and reporting every field it does
/// not implement as a `Diagnostic` (warning, or error in strict mode). Invalid policies get errors.
public struct PolicyLoader: Sendable {
    /// Unimplemented fields are errors instead of warnings.
    public var strict: Bool

    public init(strict: Bool = false) { self.strict = strict }

    /// The result of loading: policies (possibly invalid, see `ClusterPolicy.isInvalid`),
    /// documents that are not policies, and diagnostics not tied to a policy.
    public struct Result: Sendable {
        public var policies: [ClusterPolicy] = []
        public var otherDocuments: [JSONValue] = []
        public var diagnostics: [Diagnostic] = []
        /// ValidatingPolicy / NamespacedValidatingPolicy / ValidatingAdmissionPolicy documents.
        public var validatingPolicies: [ValidatingPolicy] = []
        /// ValidatingAdmissionPolicyBindings.
        public var admissionPolicyBindings: [ValidatingAdmissionPolicyBinding] = []
        /// `policies.kyverno.io` PolicyExceptions.
        public var celExceptions: [CELPolicyException] = []
        /// ImageValidatingPolicy / NamespacedImageValidatingPolicy documents (their findings in `diagnostics` of each).
        public var imageValidatingPolicies: [ImageValidatingPolicy] = []
    }

    /// Parses YAML text (several documents, `List`s) and loads the policies in it.
    public func load(yaml text: String, sourcePath: String? = nil) throws -> Result {
        var result = Result()
        for doc in try YAMLDocuments.parse(text) {
            add(doc, sourcePath: sourcePath, to: &result)
        }
        return result
    }

    /// Reads a file (or every `.yaml`/`.yml`/`.json` file in a directory) and loads its policies.
    public func load(path: String) throws -> Result {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw SignetPolicyError(.io, "policy file \(path) does not exist")
        }
        if isDir.boolValue {
            var result = Result()
            let files = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).sorted()
            // Skip hidden entries: a mounted ConfigMap holds every file twice, under `..data/` and
            // `..TIMESTAMP/`, beside the visible symlinks.
            for f in files where (f.hasSuffix(".yaml") || f.hasSuffix(".yml") || f.hasSuffix(".json"))
                && !f.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                let r = try load(path: (path as NSString).appendingPathComponent(f))
                result.policies += r.policies
                result.otherDocuments += r.otherDocuments
                result.diagnostics += r.diagnostics
                result.validatingPolicies += r.validatingPolicies
                result.admissionPolicyBindings += r.admissionPolicyBindings
                result.celExceptions += r.celExceptions
                result.imageValidatingPolicies += r.imageValidatingPolicies
            }
            return result
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw SignetPolicyError(.io, "cannot read \(path)") }
        return try load(yaml: String(decoding: data, as: UTF8.self), sourcePath: path)
    }

    func add(_ doc: JSONValue, sourcePath: String?, to result: inout Result) {
        guard case .object(let o) = doc else { return }
        let kind = o["kind"]?.stringValue ?? ""
        if kind == "List" || kind.hasSuffix("List"), let items = o["items"]?.arrayValue {
            for item in items { add(item, sourcePath: sourcePath, to: &result) }
            return
        }
        let apiVersion = o["apiVersion"]?.stringValue ?? ""
        if (kind == "ClusterPolicy" || kind == "Policy") && apiVersion.hasPrefix("kyverno.io/") {
            result.policies.append(policy(from: o, sourcePath: sourcePath))
        } else if addCELKind(o, sourcePath: sourcePath, to: &result) {
            return
        } else {
            result.otherDocuments.append(doc)
        }
    }

    /// Loads one policy document.
    public func policy(from o: [String: JSONValue], sourcePath: String? = nil) -> ClusterPolicy {
        var r = FieldReader(strict: strict)
        let kind = o["kind"]?.stringValue ?? "ClusterPolicy"
        let meta = o["metadata"]?.objectValue ?? [:]
        let name = meta["name"]?.stringValue ?? ""
        r.prefix = "\(kind)/\(name)"
        if name.isEmpty { r.error("metadata.name", "a policy name is required") }
        let namespace = meta["namespace"]?.stringValue
        if kind == "ClusterPolicy", let namespace, !namespace.isEmpty {
            r.error("metadata.namespace", "A clusterpolicy should not have the namespace defined")
        }
        let apiVersion = o["apiVersion"]?.stringValue ?? ""
        if !["kyverno.io/v1", "kyverno.io/v2beta1"].contains(apiVersion) {
            r.warn("apiVersion", "apiVersion \(apiVersion) is read as kyverno.io/v1")
        }
        r.checkKeys(o, path: "", known: ["apiVersion", "kind", "metadata", "spec", "status"])
        let annotations = meta["annotations"]?.stringMap ?? [:]
        let spec = o["spec"]?.objectValue ?? [:]
        if o["spec"] == nil { r.error("spec", "spec is required") }
        r.checkKeys(spec, path: "spec", known: ["rules", "validationFailureAction", "validationFailureActionOverrides", "background", "admission", "failurePolicy", "webhookTimeoutSeconds", "webhookConfiguration", "applyRules", "emitWarning"],
                    ignored: ["schemaValidation": "has no effect in Signet (no OpenAPI schema validation)",
                              "useServerSideApply": "only applies to generate rules",
                              "mutateExistingOnPolicyUpdate": "only applies to mutate rules",
                              "generateExisting": "only applies to generate rules",
                              "generateExistingOnPolicyUpdate": "only applies to generate rules",
                              "evaluation": "evaluation modes are not implemented"])
        var action = FailureAction.audit
        if let a = spec["validationFailureAction"] {
            if let s = a.stringValue, let fa = FailureAction(parsing: s) { action = fa }
            else { r.error("spec.validationFailureAction", "invalid value \(GoFormat.v(a)): must be Enforce or Audit") }
        }
        let overrides = r.overrides(spec["validationFailureActionOverrides"], path: "spec.validationFailureActionOverrides")
        let background = r.bool(spec["background"], path: "spec.background", default: true)
        let admission = r.bool(spec["admission"], path: "spec.admission", default: true)
        var failurePolicy = FailurePolicy.fail
        if let fp = spec["failurePolicy"] {
            if let s = fp.stringValue, let value = FailurePolicy(rawValue: s) { failurePolicy = value }
            else { r.error("spec.failurePolicy", "invalid value \(GoFormat.v(fp)): must be Fail or Ignore") }
        }
        var timeout = 10
        if let t = spec["webhookTimeoutSeconds"] {
            if case .integer(let i) = t, (1...30).contains(i) { timeout = Int(i) }
            else { r.error("spec.webhookTimeoutSeconds", "the timeout value must be between 1 and 30 seconds, got \(GoFormat.v(t))") }
        }
        // Kyverno 1.13+: `webhookConfiguration.failurePolicy` and `.timeoutSeconds` take precedence
        // over the deprecated `spec.failurePolicy` and `spec.webhookTimeoutSeconds`.
        if let wc = spec["webhookConfiguration"] {
            if let wco = wc.objectValue {
                _ = r.checkKeys(wco, path: "spec.webhookConfiguration", known: ["failurePolicy", "timeoutSeconds"],
                                ignored: ["matchConditions": "fine-grained webhook match conditions are not implemented: the policy is evaluated for every request its rules match"])
                if let fp = wco["failurePolicy"] {
                    if let s = fp.stringValue, let value = FailurePolicy(rawValue: s) { failurePolicy = value }
                    else { r.error("spec.webhookConfiguration.failurePolicy", "invalid value \(GoFormat.v(fp)): must be Fail or Ignore") }
                }
                if let t = wco["timeoutSeconds"] {
                    if case .integer(let i) = t, (1...30).contains(i) { timeout = Int(i) }
                    else { r.error("spec.webhookConfiguration.timeoutSeconds", "the timeout value must be between 1 and 30 seconds, got \(GoFormat.v(t))") }
                }
            } else if wc != .null {
                r.error("spec.webhookConfiguration", "must be an object")
            }
        }
        var applyRules = ApplyRules.all
        if let ar = spec["applyRules"] {
            if let parsed = ar.stringValue.flatMap(ApplyRules.init(rawValue:)) { applyRules = parsed }
            else { r.error("spec.applyRules", "invalid value \(GoFormat.v(ar)): must be All or One") }
        }
        let emitWarning = r.bool(spec["emitWarning"], path: "spec.emitWarning", default: false)
        if !admission && !background {
            r.error("spec", "disabling both admission and background processing is not allowed")
        }
        var rules: [Rule] = []
        if let rs = spec["rules"] {
            guard case .array(let arr) = rs else {
                r.error("spec.rules", "must be a list")
                return ClusterPolicy(kind: kind, name: name, namespace: namespace, annotations: annotations, validationFailureAction: action, validationFailureActionOverrides: overrides, background: background, admission: admission, failurePolicy: failurePolicy, webhookTimeoutSeconds: timeout, applyRules: applyRules, emitWarning: emitWarning, rules: [], effectiveRules: [], diagnostics: r.diags, sourcePath: sourcePath)
            }
            var seen = Set<String>()
            for (i, rv) in arr.enumerated() {
                let p = "spec.rules[\(i)]"
                guard case .object(let ro) = rv else { r.error(p, "a rule must be a map"); continue }
                if let rule = r.rule(ro, path: p, policyAction: action) {
                    if seen.contains(rule.name) { r.error(p + ".name", "duplicate rule name \(rule.name)") }
                    seen.insert(rule.name)
                    if rule.verifyImages.contains(where: { $0.mutateDigest && ($0.failureAction ?? action) == .audit }) {
                        // validated in rule(); kept here for the spec-level default
                    }
                    rules.append(rule)
                }
            }
        } else {
            r.error("spec.rules", "at least one rule is required")
        }
        if !admission && rules.contains(where: { $0.hasVerifyImages }) {
            r.error("spec.admission", "disabling admission processing is only allowed with validation policies")
        }
        var policy = ClusterPolicy(kind: kind, name: name, namespace: namespace, annotations: annotations, validationFailureAction: action,
                                   validationFailureActionOverrides: overrides, background: background, admission: admission,
                                   failurePolicy: failurePolicy, webhookTimeoutSeconds: timeout, applyRules: applyRules,
                                   emitWarning: emitWarning, rules: rules, effectiveRules: rules, diagnostics: [], sourcePath: sourcePath)
        policy.effectiveRules = Autogen.computeRules(policy)
        policy.diagnostics = r.diags
        return policy
    }
}

/// Walks policy fields with their paths, collecting diagnostics.
struct FieldReader {
    var diags: [Diagnostic] = []
    let strict: Bool
    var prefix = ""

    init(strict: Bool) { self.strict = strict }

    func at(_ path: String) -> String { path.isEmpty ? prefix : "\(prefix): \(path)" }
    mutating func error(_ path: String, _ msg: String) { diags.append(Diagnostic(.error, path: at(path), msg)) }
    mutating func warn(_ path: String, _ msg: String) { diags.append(Diagnostic(strict ? .error : .warning, path: at(path), msg)) }

    static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : a + "." + b }

    /// Reports keys that are neither implemented (`known`) nor listed in `ignored` (no effect here)
    /// or `unsupported` (returned, so the caller marks the rule unsupported).
    @discardableResult
    mutating func checkKeys(_ o: [String: JSONValue], path: String, known: Set<String>, ignored: [String: String] = [:], unsupported: [String: String] = [:]) -> [String] {
        var reasons: [String] = []
        for k in o.keys.sorted() where !known.contains(k) {
            let p = FieldReader.join(path, k)
            if let why = ignored[k] { warn(p, "not implemented: \(why)") }
            else if let why = unsupported[k] { warn(p, "not supported: \(why)"); reasons.append("\(p): \(why)") }
            else { warn(p, "unknown field"); reasons.append("\(p): unknown field") }
        }
        return reasons
    }

    mutating func bool(_ v: JSONValue?, path: String, default d: Bool) -> Bool {
        guard let v else { return d }
        if case .bool(let b) = v { return b }
        if case .null = v { return d }
        error(path, "must be a boolean, got \(GoFormat.v(v))")
        return d
    }

    mutating func strings(_ v: JSONValue?, path: String) -> [String] {
        guard let v else { return [] }
        if case .null = v { return [] }
        guard case .array(let a) = v else { error(path, "must be a list of strings"); return [] }
        var out: [String] = []
        for (i, e) in a.enumerated() {
            if case .string(let s) = e { out.append(s) } else { error("\(path)[\(i)]", "must be a string") }
        }
        return out
    }

    mutating func stringMap(_ v: JSONValue?, path: String) -> [String: String] {
        guard let v else { return [:] }
        if case .null = v { return [:] }
        guard case .object(let o) = v else { error(path, "must be a map of strings"); return [:] }
        var out: [String: String] = [:]
        for (k, e) in o {
            if case .string(let s) = e { out[k] = s }
            else { error(FieldReader.join(path, k), "labels and annotations supports only string values, \"use double quotes around the non string values\"") }
        }
        return out
    }

    mutating func overrides(_ v: JSONValue?, path: String) -> [FailureActionOverride] {
        guard let v, case .array(let a) = v else { return [] }
        var out: [FailureActionOverride] = []
        for (i, e) in a.enumerated() {
            let p = "\(path)[\(i)]"
            guard case .object(let o) = e else { error(p, "must be a map"); continue }
            checkKeys(o, path: p, known: ["action", "namespaces", "namespaceSelector"])
            guard let s = o["action"]?.stringValue, let act = FailureAction(parsing: s) else {
                error(p + ".action", "invalid action"); continue
            }
            let ns = strings(o["namespaces"], path: p + ".namespaces")
            let sel = o["namespaceSelector"].flatMap { labelSelector($0, path: p + ".namespaceSelector") }
            out.append(FailureActionOverride(action: act, namespaces: ns, namespaceSelector: sel))
        }
        return out
    }

    mutating func labelSelector(_ v: JSONValue, path: String) -> LabelSelector? {
        if case .null = v { return nil }
        guard case .object(let o) = v else { error(path, "must be a label selector"); return nil }
        checkKeys(o, path: path, known: ["matchLabels", "matchExpressions"])
        var sel = LabelSelector(matchLabels: [:], matchExpressions: [])
        if let ml = o["matchLabels"] {
            if case .object(let m) = ml {
                for (k, e) in m {
                    switch e {
                    case .string(let s): sel.matchLabels[k] = s
                    case .bool(let b): sel.matchLabels[k] = b ? "true" : "false"
                    case .integer(let i): sel.matchLabels[k] = String(i)
                    default: error("\(path).matchLabels.\(k)", "must be a string")
                    }
                }
            } else if ml != .null { error(path + ".matchLabels", "must be a map") }
        }
        if let me = o["matchExpressions"], case .array(let arr) = me {
            for (i, e) in arr.enumerated() {
                let p = "\(path).matchExpressions[\(i)]"
                guard case .object(let eo) = e else { error(p, "must be a map"); continue }
                checkKeys(eo, path: p, known: ["key", "operator", "values"])
                let key = eo["key"]?.stringValue ?? ""
                guard let opS = eo["operator"]?.stringValue, let op = LabelSelector.Requirement.Operator(rawValue: opS) else {
                    error(p + ".operator", "\(GoFormat.v(eo["operator"])) is not a valid label selector operator"); continue
                }
                let values = strings(eo["values"], path: p + ".values")
                if (op == .in || op == .notIn) && values.isEmpty { error(p + ".values", "values: Required value: must be specified when `operator` is 'In' or 'NotIn'") }
                if (op == .exists || op == .doesNotExist) && !values.isEmpty { error(p + ".values", "values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'") }
                sel.matchExpressions.append(.init(key: key, op: op, values: values))
            }
        }
        return sel
    }

    mutating func resourceDescription(_ v: JSONValue?, path: String) -> ResourceDescription {
        var d = ResourceDescription()
        guard let v else { return d }
        if case .null = v { return d }
        guard case .object(let o) = v else { error(path, "must be a map"); return d }
        checkKeys(o, path: path, known: ["kinds", "name", "names", "namespaces", "annotations", "selector", "namespaceSelector", "operations"])
        d.kinds = strings(o["kinds"], path: path + ".kinds").map(KindSelector.init)
        for (i, k) in d.kinds.enumerated() where k.kind.isEmpty { error("\(path).kinds[\(i)]", "invalid kind \(k.raw)") }
        if let n = o["name"] {
            if case .string(let s) = n { d.name = s } else if n != .null { error(path + ".name", "must be a string") }
        }
        d.names = strings(o["names"], path: path + ".names")
        d.namespaces = strings(o["namespaces"], path: path + ".namespaces")
        d.annotations = stringMap(o["annotations"], path: path + ".annotations")
        d.selector = o["selector"].flatMap { labelSelector($0, path: path + ".selector") }
        d.namespaceSelector = o["namespaceSelector"].flatMap { labelSelector($0, path: path + ".namespaceSelector") }
        d.operations = strings(o["operations"], path: path + ".operations")
        for (i, op) in d.operations.enumerated() where !["CREATE", "UPDATE", "DELETE", "CONNECT"].contains(op) {
            error("\(path).operations[\(i)]", "unknown value '\(op)'. Only the following values are allowed: [CREATE, UPDATE, DELETE, CONNECT]")
        }
        return d
    }

    mutating func userInfo(_ o: [String: JSONValue], path: String) -> UserInfoFilter {
        var u = UserInfoFilter()
        u.roles = strings(o["roles"], path: FieldReader.join(path, "roles"))
        u.clusterRoles = strings(o["clusterRoles"], path: FieldReader.join(path, "clusterRoles"))
        if let s = o["subjects"], case .array(let arr) = s {
            for (i, e) in arr.enumerated() {
                let p = "\(FieldReader.join(path, "subjects"))[\(i)]"
                guard case .object(let so) = e else { error(p, "must be a map"); continue }
                checkKeys(so, path: p, known: ["kind", "name", "namespace", "apiGroup"])
                u.subjects.append(Subject(kind: so["kind"]?.stringValue ?? "", name: so["name"]?.stringValue ?? "", namespace: so["namespace"]?.stringValue ?? ""))
            }
        }
        return u
    }

    mutating func filter(_ v: JSONValue, path: String) -> ResourceFilter {
        var f = ResourceFilter()
        guard case .object(let o) = v else { error(path, "must be a map"); return f }
        checkKeys(o, path: path, known: ["resources", "subjects", "roles", "clusterRoles"])
        f.resources = resourceDescription(o["resources"], path: path + ".resources")
        f.userInfo = userInfo(o, path: path)
        return f
    }

    mutating func matchResources(_ v: JSONValue?, path: String, isMatch: Bool) -> MatchResources {
        var m = MatchResources()
        guard let v else { return m }
        if case .null = v { return m }
        guard case .object(let o) = v else { error(path, "must be a map"); return m }
        checkKeys(o, path: path, known: ["any", "all", "resources", "subjects", "roles", "clusterRoles"])
        if let a = o["any"], case .array(let arr) = a { m.any = arr.enumerated().map { filter($1, path: "\(path).any[\($0)]") } }
        if let a = o["all"], case .array(let arr) = a { m.all = arr.enumerated().map { filter($1, path: "\(path).all[\($0)]") } }
        m.legacy.resources = resourceDescription(o["resources"], path: path + ".resources")
        m.legacy.userInfo = userInfo(o, path: path)
        if !m.any.isEmpty && !m.all.isEmpty { error(path, "can't specify any and all together") }
        if (!m.any.isEmpty || !m.all.isEmpty) && !m.legacy.isEmpty {
            error(path, isMatch ? "can't specify any/all together with match resources" : "can't specify any/all together with exclude resources")
        }
        if isMatch {
            for (i, f) in m.any.enumerated() where f.resources.kinds.isEmpty {
                error("\(path).any[\(i)].resources.kinds", "at least one element must be specified in a kind block, the kind attribute is mandatory when working with the resources element")
            }
            for (i, f) in m.all.enumerated() where f.resources.kinds.isEmpty {
                error("\(path).all[\(i)].resources.kinds", "at least one element must be specified in a kind block, the kind attribute is mandatory when working with the resources element")
            }
            if m.any.isEmpty && m.all.isEmpty && m.legacy.resources.kinds.isEmpty {
                error(path + ".resources.kinds", "at least one element must be specified in a kind block, the kind attribute is mandatory when working with the resources element")
            }
        }
        return m
    }

    static func containsVariables(_ v: JSONValue) -> Bool {
        switch v {
        case .string(let s): return s.contains("{{") || s.contains("$(")
        case .array(let a): return a.contains(where: containsVariables)
        case .object(let o): return o.keys.contains(where: { $0.contains("{{") }) || o.values.contains(where: containsVariables)
        default: return false
        }
    }

    /// Checks anchors in a pattern: known modifiers only, `^()` on lists of maps, anchors not on
    /// scalar keys where Kyverno forbids them.
    mutating func checkPattern(_ v: JSONValue, path: String) {
        switch v {
        case .object(let o):
            for (k, e) in o {
                let p = FieldReader.join(path, k)
                let t = k.trimmingCharacters(in: .whitespaces)
                if let a = Anchor(parsing: k) {
                    if a.kind == .existence {
                        guard case .array(let items) = e, items.allSatisfy({ if case .object = $0 { return true }; return false }) else {
                            error(p, "existence anchor ^() must have a list of maps as its value"); continue
                        }
                    }
                    if a.kind == .addIfNotPresent { error(p, "+() anchors are only allowed in mutate overlays") }
                } else if t.hasSuffix(")") && t.contains("(") {
                    error(p, "invalid anchor \(k): the modifier must be one of (), =(), ^(), X(), <()")
                } else if t.hasPrefix("(") || t.hasPrefix("=(") || t.hasPrefix("^(") || t.hasPrefix("X(") || t.hasPrefix("<(") || t.hasPrefix("+(") {
                    error(p, "invalid anchor \(k): missing closing parenthesis")
                }
                checkPattern(e, path: p)
            }
        case .array(let a):
            for (i, e) in a.enumerated() { checkPattern(e, path: "\(path)[\(i)]") }
        case .string(let s):
            for alt in s.components(separatedBy: "|") {
                for c in alt.components(separatedBy: "&") {
                    let t = c.trimmingCharacters(in: .init(charactersIn: " "))
                    for bad in ["=>", "=<", "==", "!=", "<>", "><", ">>", "<<"] where t.hasPrefix(bad) {
                        error(path, "unknown operator \(bad) in \(s)")
                    }
                }
            }
        default: break
        }
    }

    mutating func rule(_ o: [String: JSONValue], path p: String, policyAction: FailureAction) -> Rule? {
        var unsupported = checkKeys(o, path: p, known: ["name", "match", "exclude", "validate", "verifyImages", "preconditions", "context", "celPreconditions", "imageExtractors"],
                                    ignored: ["reportProperties": "policy report properties are not produced",
                                              "skipBackgroundRequests": "background requests are not processed"],
                                    unsupported: ["mutate": "mutate rules are not supported",
                                                  "generate": "generate rules are not supported"])
        guard let name = o["name"]?.stringValue, !name.isEmpty else { error(p + ".name", "a rule name is required"); return nil }
        if name.count > 63 { error(p + ".name", "rule name \(name) is longer than 63 characters") }
        let match = matchResources(o["match"], path: p + ".match", isMatch: true)
        if o["match"] == nil { error(p + ".match", "match resources not specified") }
        let exclude: MatchResources? = o["exclude"].map { matchResources($0, path: p + ".exclude", isMatch: false) }
        if FieldReader.containsVariables(o["match"] ?? .null) { error(p + ".match", "rule \"\(name)\" should not have variables in match section") }
        if FieldReader.containsVariables(o["exclude"] ?? .null) { error(p + ".exclude", "rule \"\(name)\" should not have variables in exclude section") }
        var rule = Rule(name: name, match: match, exclude: exclude)
        unsupported += variableFields(o, path: p, into: &rule)
        if let cp = o["celPreconditions"] { rule.celPreconditions = celPreconditions(cp, path: p + ".celPreconditions") }
        var types = 0
        if let vv = o["validate"] {
            types += 1
            if case .object(let vo) = vv {
                let vp = p + ".validate"
                unsupported += checkKeys(vo, path: vp, known: ["message", "pattern", "anyPattern", "failureAction", "failureActionOverrides", "allowExistingViolations", "deny", "foreach", "cel", "podSecurity"],
                                         unsupported: ["manifests": "manifest signature validation is not supported",
                                                       "assert": "assertion trees are not supported"])
                var v = Validation()
                if let m = vo["message"] {
                    if case .string(let s) = m { v.message = s } else { error(vp + ".message", "must be a string") }
                }
                if let pat = vo["pattern"] {
                    checkPattern(pat, path: vp + ".pattern")
                    v.pattern = Pattern(pat)
                }
                if let ap = vo["anyPattern"] {
                    if case .array(let arr) = ap {
                        for (i, e) in arr.enumerated() { checkPattern(e, path: "\(vp).anyPattern[\(i)]") }
                        v.anyPattern = arr.map(Pattern.init)
                    } else { error(vp + ".anyPattern", "failed to deserialize anyPattern, expected type array") }
                }
                if v.pattern != nil && v.anyPattern != nil { error(vp, "only one of pattern, anyPattern, deny, foreach, podSecurity or cel may be specified") }
                let kinds = ["pattern", "anyPattern", "deny", "foreach", "podSecurity", "cel", "manifests", "assert"].filter { vo[$0] != nil }
                if kinds.count > 1 { error(vp, "only one of \(kinds.joined(separator: ", ")) may be specified") }
                if kinds.isEmpty { error(vp, "a validate rule needs one of pattern, anyPattern, deny, foreach, podSecurity or cel") }
                if let fa = vo["failureAction"] {
                    if let s = fa.stringValue, let a = FailureAction(parsing: s) { v.failureAction = a }
                    else { error(vp + ".failureAction", "invalid value \(GoFormat.v(fa)): must be Enforce or Audit") }
                }
                v.failureActionOverrides = overrides(vo["failureActionOverrides"], path: vp + ".failureActionOverrides")
                v.allowExistingViolations = bool(vo["allowExistingViolations"], path: vp + ".allowExistingViolations", default: true)
                // `$(...)` references point into the pattern itself: resolved once, here
                for k in ["pattern", "anyPattern"] where vo[k].map(FieldReader.containsReferences) == true {
                    do {
                        guard let doc = vo[k] else { continue }
                        let resolved = try References.resolve(doc)
                        if k == "pattern" { v.pattern = Pattern(resolved) } else { v.anyPattern = resolved.arrayValue?.map(Pattern.init) }
                    } catch {
                        unsupported.append("\(vp).\(k): variable substitution failed: \((error as? SignetPolicyError)?.message ?? "\(error)")")
                    }
                }
                validateVariableFields(vo, path: vp, into: &v, rule: &rule)
                if let c = vo["cel"] { v.cel = celValidation(c, path: vp + ".cel") }
                if let ps = vo["podSecurity"] { v.podSecurity = podSecurityRule(ps, path: vp + ".podSecurity") }
                rule.validate = v
            } else { error(p + ".validate", "must be a map") }
        }
        if let vi = o["verifyImages"] {
            types += 1
            if case .array(let arr) = vi {
                for (i, e) in arr.enumerated() {
                    let ip = "\(p).verifyImages[\(i)]"
                    guard case .object(let io) = e else { error(ip, "must be a map"); continue }
                    let (iv, reasons) = imageVerification(io, path: ip, policyAction: policyAction)
                    unsupported += reasons
                    rule.verifyImages.append(iv)
                }
                // Attestation `conditions` are evaluated with the predicate's fields; `{{ }}`
                // elsewhere (imageReferences, attestor keys...) is substituted per request
                if FieldReader.containsVariables(Self.withoutAttestationConditions(vi)) {
                    rule.verifyImagesSource = vi
                }
            } else { error(p + ".verifyImages", "must be a list") }
        }
        if let ie = o["imageExtractors"] {
            rule.imageExtractors = imageExtractorConfigs(ie, path: p + ".imageExtractors")
            // Kyverno validateRuleImageExtractorsJMESPath
            if rule.verifyImages.contains(where: \.mutateDigest), rule.imageExtractors?.values.contains(where: { $0.contains { !$0.jmesPath.isEmpty } }) == true {
                error(p + ".imageExtractors", "jmespath may not be used in an image extractor when mutating digests with verify images")
            }
        }
        for k in ["mutate", "generate"] where o[k] != nil { types += 1 }
        if types == 0 { error(p, "a rule needs one of validate, verifyImages, mutate or generate") }
        if types > 1 { error(p, "multiple operations defined in the rule, only one operation (validate, verifyImages, mutate or generate) is allowed per rule") }
        rule.unsupported = unsupported
        return rule
    }

    mutating func imageVerification(_ o: [String: JSONValue], path ip: String, policyAction: FailureAction) -> (ImageVerification, [String]) {
        var reasons = checkKeys(o, path: ip, known: ["imageReferences", "skipImageReferences", "attestors", "repository", "required", "verifyDigest", "mutateDigest", "useCache", "failureAction", "type", "annotations", "attestations", "imageRegistryCredentials"],
                                ignored: ["cosignOCI11": "the verifier reads both the tag scheme and OCI 1.1 referrers"],
                                unsupported: ["validate": "verifyImages validate (JMESPath deny) is not supported",
                                              "image": "the deprecated image field is not supported, use imageReferences",
                                              "key": "the deprecated key field is not supported, use attestors",
                                              "roots": "certificate roots are not supported",
                                              "subject": "keyless subjects are not supported",
                                              "issuer": "keyless issuers are not supported",
                                              "additionalExtensions": "keyless extensions are not supported"])
        var iv = ImageVerification()
        iv.imageReferences = strings(o["imageReferences"], path: ip + ".imageReferences")
        iv.skipImageReferences = strings(o["skipImageReferences"], path: ip + ".skipImageReferences")
        if iv.imageReferences.isEmpty && o["image"] == nil { error(ip, "An image reference is required") }
        if let t = o["type"] {
            let s = t.stringValue ?? ""
            iv.type = s
            if s != "Cosign" { warn(ip + ".type", "not supported: \(s) signatures are not supported (Cosign only)"); reasons.append("\(ip).type: \(s) is not supported") }
        }
        iv.repository = o["repository"]?.stringValue
        // imageRegistryCredentials.secrets: read in signet's own namespace (Kyverno: its namespace).
        if let rc = o["imageRegistryCredentials"]?.objectValue {
            for (k, _) in rc where k != "secrets" && k != "allowInsecureRegistry" && k != "providers" {
                warn(ip + ".imageRegistryCredentials." + k, "unknown field")
            }
            if rc["providers"] != nil { warn(ip + ".imageRegistryCredentials.providers", "not implemented: credential providers are not used; signet uses its own credentials and the secrets") }
            if rc["allowInsecureRegistry"]?.boolValue == true { warn(ip + ".imageRegistryCredentials.allowInsecureRegistry", "not implemented: insecure registries are allowed only by signet's --allow-insecure-registry flag") }
            for name in strings(rc["secrets"], path: ip + ".imageRegistryCredentials.secrets") {
                if RegistrySecretReference.isValidName(name) { iv.registrySecrets.append(RegistrySecretReference(namespace: nil, name: name)) }
                else { warn(ip + ".imageRegistryCredentials.secrets", "\(name) is not a valid secret name: ignored") }
            }
        }
        iv.annotations = stringMap(o["annotations"], path: ip + ".annotations")
        if let at = o["attestations"] {
            let (attestations, why) = imageAttestations(at, path: ip + ".attestations", policyAction: policyAction)
            iv.attestations = attestations
            reasons += why
        }
        iv.required = bool(o["required"], path: ip + ".required", default: true)
        iv.verifyDigest = bool(o["verifyDigest"], path: ip + ".verifyDigest", default: true)
        iv.mutateDigest = bool(o["mutateDigest"], path: ip + ".mutateDigest", default: true)
        iv.useCache = bool(o["useCache"], path: ip + ".useCache", default: true)
        if let fa = o["failureAction"] {
            if let s = fa.stringValue, let a = FailureAction(parsing: s) { iv.failureAction = a }
            else { error(ip + ".failureAction", "invalid value \(GoFormat.v(fa)): must be Enforce or Audit") }
        }
        if iv.mutateDigest && (iv.failureAction ?? policyAction) == .audit {
            error(ip + ".mutateDigest", "mutateDigest must be set to false for ‘Audit’ failure action")
        }
        if let a = o["attestors"], case .array(let sets) = a {
            for (si, sv) in sets.enumerated() {
                let sp = "\(ip).attestors[\(si)]"
                guard case .object(let so) = sv else { error(sp, "must be a map"); continue }
                checkKeys(so, path: sp, known: ["count", "entries"])
                var set = AttestorSet(count: nil, entries: [])
                if let c = so["count"] {
                    if case .integer(let n) = c, n >= 0 { set.count = Int(n) } else { error(sp + ".count", "must be a non-negative integer") }
                }
                if let es = so["entries"], case .array(let arr) = es {
                    for (ei, ev) in arr.enumerated() {
                        let ep = "\(sp).entries[\(ei)]"
                        guard case .object(let eo) = ev else { error(ep, "must be a map"); continue }
                        reasons += checkKeys(eo, path: ep, known: ["keys", "repository", "annotations"],
                                             unsupported: ["certificates": "certificate attestors are not supported",
                                                           "keyless": "keyless (Fulcio) attestors are not supported",
                                                           "attestor": "nested attestors are not supported"])
                        let repo = eo["repository"]?.stringValue
                        let ann = stringMap(eo["annotations"], path: ep + ".annotations")
                        if let kv = eo["keys"], case .object(let ko) = kv {
                            let kp = ep + ".keys"
                            checkKeys(ko, path: kp, known: ["publicKeys", "secret", "kms", "signatureAlgorithm", "rekor", "ctlog"])
                            var base = StaticKeyAttestor()
                            base.signatureAlgorithm = ko["signatureAlgorithm"]?.stringValue ?? "sha256"
                            if !["sha224", "sha256", "sha384", "sha512"].contains(base.signatureAlgorithm) { error(kp + ".signatureAlgorithm", "Invalid signature algorithm provided") }
                            if let rk = ko["rekor"], case .object(let ro) = rk {
                                checkKeys(ro, path: kp + ".rekor", known: ["url", "pubkey", "ignoreTlog"])
                                base.ignoreTlog = bool(ro["ignoreTlog"], path: kp + ".rekor.ignoreTlog", default: false)
                                base.rekorURL = ro["url"]?.stringValue
                            }
                            if let ct = ko["ctlog"], case .object(let co) = ct {
                                checkKeys(co, path: kp + ".ctlog", known: ["ignoreSCT", "pubkey", "tsaCertChain"])
                                base.ignoreSCT = bool(co["ignoreSCT"], path: kp + ".ctlog.ignoreSCT", default: false)
                            }
                            // Kyverno: publicKeys > secret > kms
                            if let pk = ko["publicKeys"]?.stringValue, !pk.isEmpty {
                                // `{{ }}` keys are substituted per request (substitutedVerifyImages)
                                let pems = Variables.containsVariables(pk) ? [pk] : PEM.split(pk)
                                if pems.isEmpty { error(kp + ".publicKeys", "no PEM public key found") }
                                for pem in pems {
                                    var k = base
                                    k.publicKey = pem
                                    set.entries.append(AttestorEntry(keys: k, repository: repo, annotations: ann))
                                }
                                continue
                            } else if let sec = ko["secret"], case .object(let so2) = sec {
                                var k = base
                                k.secretName = so2["name"]?.stringValue
                                k.secretNamespace = so2["namespace"]?.stringValue
                                if k.secretName == nil { error(kp + ".secret.name", "a secret name is required") }
                                set.entries.append(AttestorEntry(keys: k, repository: repo, annotations: ann))
                            } else if let kms = ko["kms"]?.stringValue, !kms.isEmpty {
                                var k = base
                                k.kms = kms
                                set.entries.append(AttestorEntry(keys: k, repository: repo, annotations: ann))
                            } else {
                                error(kp, "A public key, kms key or secret is required")
                            }
                        } else {
                            var e = AttestorEntry(keys: nil, repository: repo, annotations: ann)
                            e.unsupportedKind = ["certificates", "keyless", "attestor"].first(where: { eo[$0] != nil })
                            if e.unsupportedKind == nil { error(ep, "keys, certificates, keyless, or a nested attestor is required") }
                            set.entries.append(e)
                        }
                    }
                }
                if set.entries.isEmpty { error(sp, "An entry is required") }
                if let c = set.count, c > set.entries.count { error(sp, "Count cannot exceed length of entries") }
                iv.attestors.append(set)
            }
        }
        return (iv, reasons)
    }
}

/// PEM helpers.
public enum PEM {
    /// Splits text holding several PEM blocks into one string per block (as Kyverno's
    /// `ExpandStaticKeys` does for `publicKeys`).
    public static func split(_ text: String) -> [String] {
        var out: [String] = []
        var current: [Substring] = []
        var inside = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("-----BEGIN ") { inside = true; current = [Substring(t)]; continue }
            if inside {
                current.append(Substring(t))
                if t.hasPrefix("-----END ") {
                    out.append(current.joined(separator: "\n") + "\n")
                    inside = false
                }
            }
        }
        return out
    }
}
