/// What policies need to know from the cluster besides the request itself: the labels of the
import SignetPrimitives
/// request's namespace (a `namespaceSelector` in `match`/`exclude`) and the RBAC roles and
/// cluster roles bound to the requesting user (`roles`/`clusterRoles` in `match`/`exclude`).
public struct ClusterContextNeeds: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// `namespaceSelector` somewhere in a rule's `match` or `exclude`.
    public static let namespaceLabels = ClusterContextNeeds(rawValue: 1)
    /// `roles` or `clusterRoles` somewhere in a rule's `match` or `exclude`.
    public static let roles = ClusterContextNeeds(rawValue: 2)
}

extension MatchResources {
    var filters: [ResourceFilter] { any + all + [legacy] }

    var clusterContextNeeds: ClusterContextNeeds {
        var needs: ClusterContextNeeds = []
        for f in filters {
            if f.resources.namespaceSelector != nil { needs.insert(.namespaceLabels) }
            if !f.userInfo.roles.isEmpty || !f.userInfo.clusterRoles.isEmpty { needs.insert(.roles) }
        }
        return needs
    }
}

extension Rule {
    /// What this rule's `match`, `exclude` and `validate.failureActionOverrides` read from the cluster.
    public var clusterContextNeeds: ClusterContextNeeds {
        var needs = match.clusterContextNeeds.union(exclude?.clusterContextNeeds ?? [])
        if validate?.failureActionOverrides.contains(where: { $0.namespaceSelector != nil }) == true {
            needs.insert(.namespaceLabels)
        }
        return needs
    }
}

extension ClusterPolicy {
    /// What the policy-wide settings read from the cluster: a `namespaceSelector` in
    /// `validationFailureActionOverrides` (it decides every rule's action).
    var policyWideNeeds: ClusterContextNeeds {
        validationFailureActionOverrides.contains { $0.namespaceSelector != nil } ? .namespaceLabels : []
    }

    /// What the policy's rules (autogen rules included) and its failure action overrides read from
    /// the cluster. Kyverno looks the namespace's labels up only when some policy has a
    /// namespaceSelector; so do we, and for roles too.
    public var clusterContextNeeds: ClusterContextNeeds {
        effectiveRules.reduce(into: policyWideNeeds) { $0.formUnion($1.clusterContextNeeds) }
    }
}

extension PolicyEngine {
    /// What any policy of this engine reads from the cluster.
    public var clusterContextNeeds: ClusterContextNeeds {
        policies.reduce(into: []) { $0.formUnion($1.clusterContextNeeds) }
    }

    /// The answer when the cluster could not tell what the policies need (`missing`): every rule
    /// that needs it and whose kinds cover `resource` reports an `error` with `message` (then
    /// failurePolicy decides: Fail denies, Ignore allows with a warning). Policies with no such
    /// rule get no result here; the caller evaluates them normally.
    public func clusterContextErrors(_ resource: JSONValue, admission: AdmissionInfo, missing: ClusterContextNeeds,
                                     message: String) -> [Int: PolicyResult] {
        let info = ResourceInfo(resource)
        let subject = Matcher.subject(info, admission)
        var out: [Int: PolicyResult] = [:]
        for (index, plan) in plans.enumerated() where plan.invalid == nil {
            let p = plan.policy
            var rules: [RuleResult] = []
            let wide = p.policyWideNeeds
            for rp in plan.imageRules + plan.validateRules where !rp.rule.clusterContextNeeds.union(wide).isDisjoint(with: missing) {
                let kinds = rp.rule.match.allKinds
                let kindApplies = kinds.isEmpty || kinds.contains {
                    $0.matches(group: subject.group, version: subject.version, kind: subject.kind,
                               subresource: subject.subresource, allowEphemeral: true)
                }
                guard kindApplies else { continue }
                rules.append(RuleResult(rule: rp.rule.name, type: rp.rule.hasVerifyImages ? .imageVerify : .validation,
                                        status: .error, message: message,
                                        failureAction: failureAction(p, rp.rule, info: info, admission: admission)))
            }
            if !rules.isEmpty {
                out[index] = PolicyResult(policy: p.name, policyNamespace: p.namespace, kind: p.kind,
                                          failurePolicy: p.failurePolicy, rules: rules)
            }
        }
        return out
    }
}
