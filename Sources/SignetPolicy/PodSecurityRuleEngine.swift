import SignetPrimitives

// Loading and evaluating `validate.podSecurity` rules (Kyverno `validatePssHandler`).

extension FieldReader {
    /// `validate.podSecurity` (Kyverno `PodSecurity`), with Kyverno's `ValidatePSaControlNames` checks.
    mutating func podSecurityRule(_ v: JSONValue, path: String) -> PodSecurityRule? {
        guard case .object(let o) = v else { error(path, "must be a map"); return nil }
        checkKeys(o, path: path, known: ["level", "version", "exclude"])
        let levelText = o["level"]?.stringValue ?? ""
        guard let level = PodSecurityLevel(rawValue: levelText) else {
            error(path + ".level", "Unsupported value: \(PSS.goQuote(levelText)): supported values: \"privileged\", \"baseline\", \"restricted\"")
            return nil
        }
        let versionText: String
        switch o["version"] {
        case nil, .null?: versionText = ""
        case .string(let s)?: versionText = s
        case let other?: error(path + ".version", "must be a string, got \(GoFormat.v(other))"); return nil
        }
        guard PodSecurityVersion(parsing: versionText) != nil else {
            error(path + ".version", "failed to parse pod security api version: must be \"latest\" or \"v1.x\"")
            return nil
        }
        var rule = PodSecurityRule(level: level, versionText: versionText)
        rule.exclude = podSecurityExclusions(o["exclude"], path: path + ".exclude")
        for (i, ex) in rule.exclude.enumerated() where level == .baseline && !["Seccomp", "Capabilities"].contains(ex.controlName)
            && PodSecurityExclusion.restrictedControls.contains(ex.controlName) {
            error("\(path).exclude[\(i)].controlName", "Invalid value: \(PSS.goQuote(ex.controlName)): Invalid control name defined at the given level")
        }
        return rule
    }

    /// A list of `PodSecurityStandard` entries (rule `exclude`, PolicyException `podSecurity`),
    /// with Kyverno's `PodSecurityStandard.Validate` checks.
    mutating func podSecurityExclusions(_ v: JSONValue?, path: String) -> [PodSecurityExclusion] {
        guard let v else { return [] }
        if case .null = v { return [] }
        guard case .array(let a) = v else { error(path, "must be a list"); return [] }
        var out: [PodSecurityExclusion] = []
        for (i, e) in a.enumerated() {
            let p = "\(path)[\(i)]"
            guard case .object(let o) = e else { error(p, "must be a map"); continue }
            checkKeys(o, path: p, known: ["controlName", "images", "restrictedField", "values"])
            let name = o["controlName"]?.stringValue ?? ""
            if PodSecurityExclusion.controlChecks[name] == nil {
                error(p + ".controlName", "Unsupported value: \(PSS.goQuote(name)): supported values: \(PodSecurityExclusion.controlChecks.keys.sorted(by: PSS.less).map(PSS.goQuote).joined(separator: ", "))")
            }
            let ex = PodSecurityExclusion(controlName: name, images: strings(o["images"], path: p + ".images"),
                                          restrictedField: o["restrictedField"]?.stringValue ?? "",
                                          values: strings(o["values"], path: p + ".values"))
            if PodSecurityExclusion.containerLevelControls.contains(name) && ex.images.isEmpty {
                error(p + ".controlName", "Invalid value: \(PSS.goQuote(name)): exclude.images must be specified for the container level control")
            } else if PodSecurityExclusion.podLevelControls.contains(name) && !ex.images.isEmpty {
                error(p + ".controlName", "Invalid value: \(PSS.goQuote(name)): exclude.images must not be specified for the pod level control")
            }
            if !ex.restrictedField.isEmpty && ex.values.isEmpty { error(p + ".values", "Forbidden: values is required") }
            if ex.restrictedField.isEmpty && !ex.values.isEmpty { error(p + ".restrictedField", "Forbidden: restrictedField is required") }
            out.append(ex)
        }
        return out
    }
}

extension PolicyEngine {
    /// The PolicyExceptions that match a podSecurity rule: `.skip` when one of them has no
    /// `podSecurity` entries (the rule is skipped), else their exclusions (applied to a failure).
    enum PodSecurityExceptionMatch {
        case none
        case skip(String)
        case exclusions(keys: [String], [PodSecurityExclusion])
    }

    func podSecurityExceptions(_ p: ClusterPolicy, _ rule: Rule, _ subject: Matcher.Subject, resource: JSONValue, admission: AdmissionInfo) -> PodSecurityExceptionMatch {
        guard !exceptions.isEmpty else { return .none }
        let matched = exceptions.filter { e in
            e.covers(policy: p.name, policyNamespace: p.kind == "Policy" ? p.namespace : nil, rule: rule.name)
                && Matcher.exceptionMatches(e.match, subject) && exceptionConditionsHold(e, resource: resource, admission: admission)
        }
        if matched.isEmpty { return .none }
        if let plain = matched.first(where: { $0.podSecurity.isEmpty }) { return .skip(plain.key) }
        return .exclusions(keys: matched.map(\.key), matched.flatMap(\.podSecurity))
    }

    /// Kyverno's validate-PSS handler for one rule: nil on DELETE (no result).
    func podSecurityResult(_ rp: RulePlan, _ ps: PodSecurityRule, _ v: Validation, plan: PolicyPlan, resource: JSONValue, subject: Matcher.Subject,
                           admission: AdmissionInfo, action: FailureAction) -> RuleResult? {
        if admission.operation == .delete { return nil }
        let rule = rp.rule
        // Kyverno invokeRuleHandler: context entries and preconditions before the handler.
        if rule.preconditions != nil || !rule.context.isEmpty {
            func result(_ s: RuleStatus, _ m: String) -> RuleResult {
                RuleResult(rule: rule.name, type: .validation, status: s, message: m, failureAction: action)
            }
            let ctx: VariableContext
            do { ctx = try variableContext(rule, policy: plan.policy, resource: resource, admission: admission) }
            catch { return result(.error, "failed to load context: \(Self.text(error))") }
            if let pc = rule.preconditions {
                do {
                    let (ok, msgs) = try pc.evaluate(in: ctx)
                    if !ok { return result(.skip, (["preconditions not met"] + msgs.filter { !$0.isEmpty }).joined(separator: "; ")) }
                } catch { return result(.error, "failed to evaluate preconditions: \(Self.text(error))") }
            }
        }
        let r = podSecurityCheck(rule, ps, policy: plan.policy, resource: resource, subject: subject, admission: admission, action: action)
        // allowExistingViolations: on UPDATE under Enforce, a failure the old object shares is skipped.
        if r.status == .fail, action == .enforce, v.allowExistingViolations, admission.operation == .update, let old = admission.oldObject {
            var oldAdmission = admission
            oldAdmission.operation = .create
            let oldSubject = Matcher.subject(ResourceInfo(old), oldAdmission)
            if Matcher.matches(rule, policyNamespace: plan.scopeNamespace, oldSubject),
               podSecurityCheck(rule, ps, policy: plan.policy, resource: old, subject: oldSubject, admission: oldAdmission, action: action).status == .fail {
                return RuleResult(rule: rule.name, type: .validation, status: .skip, message: "skipping the rule evaluation as pre-existing violations are allowed", failureAction: action)
            }
        }
        return r
    }

    func podSecurityCheck(_ rule: Rule, _ ps: PodSecurityRule, policy: ClusterPolicy, resource: JSONValue, subject: Matcher.Subject,
                          admission: AdmissionInfo, action: FailureAction) -> RuleResult {
        func result(_ s: RuleStatus, _ m: String, exceptions: [String] = []) -> RuleResult {
            RuleResult(rule: rule.name, type: .validation, status: s, message: m, failureAction: action, exceptions: exceptions)
        }
        var exclusions: [PodSecurityExclusion] = []
        var keys: [String] = []
        switch podSecurityExceptions(policy, rule, subject, resource: resource, admission: admission) {
        case .none: break
        case .skip(let key): return result(.skip, "rule is skipped due to policy exception " + key, exceptions: [key])
        case .exclusions(let k, let e): keys = k; exclusions = e
        }
        do {
            let withRule = try PodSecurity.evaluate(ps, resource: resource)
            if withRule.allowed { return result(.pass, "Validation rule '\(rule.name)' passed.") }
            var failures = withRule.failures
            if !exclusions.isEmpty {
                failures = try PodSecurity.evaluate(ps, resource: resource, exceptionExclusions: exclusions).failures
                if failures.isEmpty {
                    return result(.skip, "rule is skipped due to policy exceptions " + keys.joined(separator: ", "), exceptions: keys)
                }
            }
            let kind = resource["kind"]?.stringValue ?? ""
            return result(.fail, "Validation rule '\(rule.name)' failed. It violates PodSecurity \"\(ps.level.rawValue):\(ps.versionText)\": "
                          + PodSecurity.format(failures, kind: kind))
        } catch {
            return result(.error, "Error while getting new resource: \(error.message)")
        }
    }
}
