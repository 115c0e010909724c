/// `match` / `exclude` evaluation (Kyverno pkg/engine/utils/match.go semantics).
enum Matcher {
    struct Subject {
        let info: ResourceInfo
        let group: String
        let version: String
        let kind: String
        let subresource: String
        let admission: AdmissionInfo
    }

    static func subject(_ info: ResourceInfo, _ admission: AdmissionInfo) -> Subject {
        if let rk = admission.requestKind {
            return Subject(info: info, group: rk.group, version: rk.version, kind: rk.kind, subresource: admission.subresource, admission: admission)
        }
        return Subject(info: info, group: info.group, version: info.version, kind: info.kind, subresource: admission.subresource, admission: admission)
    }

    /// Whether `rule` applies (match and not excluded).
    static func matches(_ rule: Rule, policyNamespace: String?, _ s: Subject) -> Bool {
        if let ns = policyNamespace, !ns.isEmpty, ns != s.info.namespace { return false }
        let m = rule.match
        if !m.any.isEmpty {
            guard m.any.contains(where: { matchFilter($0, s) }) else { return false }
        } else if !m.all.isEmpty {
            guard m.all.allSatisfy({ matchFilter($0, s) }) else { return false }
        } else {
            guard matchFilter(m.legacy, s) else { return false }
        }
        guard let ex = rule.exclude, !ex.isEmpty else { return true }
        if !ex.any.isEmpty {
            return !ex.any.contains(where: { excludeFilter($0, s) })
        } else if !ex.all.isEmpty {
            return !ex.all.allSatisfy({ excludeFilter($0, s) })
        }
        return !excludeFilter(ex.legacy, s)
    }

    static func matchFilter(_ f: ResourceFilter, _ s: Subject) -> Bool {
        var user = f.userInfo
        if !s.admission.hasUserInfo { user = UserInfoFilter() }
        if f.resources.isEmpty && user.isEmpty { return false }  // "match cannot be empty"
        return block(f.resources, user, s, allowEphemeral: true)
    }

    static func excludeFilter(_ f: ResourceFilter, _ s: Subject) -> Bool {
        if f.resources.isEmpty && f.userInfo.isEmpty { return false }
        return block(f.resources, f.userInfo, s, allowEphemeral: true)
    }

    /// `doesResourceMatchConditionBlock`: true when every given condition holds.
    static func block(_ d: ResourceDescription, _ u: UserInfoFilter, _ s: Subject, allowEphemeral: Bool) -> Bool {
        if !d.operations.isEmpty && !d.operations.contains(s.admission.operation.rawValue) { return false }
        if !d.kinds.isEmpty && !d.kinds.contains(where: { $0.matches(group: s.group, version: s.version, kind: s.kind, subresource: s.subresource, allowEphemeral: allowEphemeral) }) { return false }
        if let n = d.name, !n.isEmpty, !Wildcard.match(n, s.info.name) { return false }
        if !d.names.isEmpty && !d.names.contains(where: { Wildcard.match($0, s.info.name) }) { return false }
        if !d.namespaces.isEmpty {
            let ns = s.info.kind == "Namespace" ? s.info.name : s.info.namespace
            if !d.namespaces.contains(where: { Wildcard.match($0, ns) }) { return false }
        }
        if !d.annotations.isEmpty {
            for (k, v) in d.annotations where !s.info.annotations.contains(where: { Wildcard.match(k, $0.key) && Wildcard.match(v, $0.value) }) { return false }
        }
        if let sel = d.selector, !sel.matches(s.info.labels) { return false }
        if let nsSel = d.namespaceSelector {
            if s.info.kind == "Namespace" { return false }
            if !s.info.kind.isEmpty, !nsSel.matches(s.admission.namespaceLabels) { return false }
        }
        if !u.roles.isEmpty && !u.roles.contains(where: { s.admission.roles.contains($0) }) { return false }
        if !u.clusterRoles.isEmpty && !u.clusterRoles.contains(where: { s.admission.clusterRoles.contains($0) }) { return false }
        if !u.subjects.isEmpty && !matchSubjects(u.subjects, s.admission) { return false }
        return true
    }

    static func matchSubjects(_ subjects: [Subject_], _ a: AdmissionInfo) -> Bool {
        for sub in subjects {
            switch sub.kind {
            case "ServiceAccount":
                if Wildcard.match("system:serviceaccount:\(sub.namespace):\(sub.name)", a.username) { return true }
            case "Group":
                if a.groups.contains(where: { Wildcard.match(sub.name, $0) }) { return true }
            case "User":
                if Wildcard.match(sub.name, a.username) { return true }
            default: break
            }
        }
        return false
    }

    /// PolicyException `match` (pkg/utils/match `CheckMatchesResources`): no user-info stripping,
    /// no ephemeral-container allowance.
    static func exceptionMatches(_ m: MatchResources, _ s: Subject) -> Bool {
        func check(_ f: ResourceFilter) -> Bool {
            if f.isEmpty { return false }
            return block(f.resources, f.userInfo, s, allowEphemeral: false)
        }
        if !m.any.isEmpty { return m.any.contains(where: check) }
        if !m.all.isEmpty { return m.all.allSatisfy(check) }
        return false
    }
}

typealias Subject_ = Subject
