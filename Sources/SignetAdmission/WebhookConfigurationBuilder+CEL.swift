import SignetPolicy

extension WebhookConfigurationBuilder {
    /// Webhook rules of a ValidatingPolicy / ValidatingAdmissionPolicy: its `matchConstraints.resourceRules`
    /// (operations default to all validate operations), plus the Pod controllers autogen covers.
    func collect(_ policy: ValidatingPolicy, into collected: inout [Target: Set<String>]) {
        var rules = policy.matchConstraints.resourceRules
        if policy.kind != .validatingAdmissionPolicy, rules.contains(where: { $0.apiGroups.contains("") && $0.resources.contains("pods") }) {
            let ops = Array(Set(rules.flatMap(\.operations)))
            for (kind, group, resource) in [("DaemonSet", "apps", "daemonsets"), ("Deployment", "apps", "deployments"), ("Job", "batch", "jobs"),
                                            ("StatefulSet", "apps", "statefulsets"), ("ReplicaSet", "apps", "replicasets"),
                                            ("ReplicationController", "", "replicationcontrollers"), ("CronJob", "batch", "cronjobs")]
            where policy.autogenControllers.contains(kind) {
                rules.append(CELResourceRule(apiGroups: [group], apiVersions: ["v1"], resources: [resource], operations: ops))
            }
        }
        for rule in rules {
            let ops = rule.operations.isEmpty || rule.operations.contains("*") ? Self.validateOperations : rule.operations
            for g in rule.apiGroups {
                for v in rule.apiVersions {
                    for r in rule.resources {
                        collected[Target(group: g, version: v, resource: r, scope: rule.scope), default: []].formUnion(ops)
                    }
                }
            }
        }
    }
}
