import SignetPolicy

/// Builds the `MutatingWebhookConfiguration` and `ValidatingWebhookConfiguration` a policy set
/// needs, as Kyverno's webhook controller derives its own (pkg/controllers/webhook, v1.15):
///
/// - One webhook per failurePolicy: `*-fail.signet.dev` at `/validate/fail` (`/mutate/fail`) for
///   the Fail policies and `*-ignore.signet.dev` at `/validate/ignore` for the Ignore ones, so
///   the API server applies each policy's own failurePolicy when signet cannot answer; a webhook
///   without rules is left out.
/// - timeoutSeconds: the largest `webhookTimeoutSeconds` of its policies, never under the default
///   (10 s) and at most 30 s.
/// - Rules from the kinds of `match` (autogen rules included) with their `operations`, or the
///   defaults: CREATE, UPDATE, DELETE, CONNECT for validate (and verifyImages' `verifyDigest`/
///   `required` second pass), CREATE, UPDATE for verifyImages on the mutating side. An
///   `exclude.any` entry that names only kinds and operations removes them. `pods` brings
///   `pods/ephemeralcontainers`.
/// - `sideEffects: None`, `admissionReviewVersions: [v1]`, `matchPolicy: Equivalent`,
///   `reinvocationPolicy: IfNeeded` on the mutating side, and a namespaceSelector leaving out
///   kube-system and signet's own namespace.
///
/// Kinds are resolved to resources with a table of the built-in Kubernetes kinds (Kyverno asks
/// the API server's discovery); other kinds must be given in `Options.extraResources`, or the
/// build fails naming the policy, rule and field.
public struct WebhookConfigurationBuilder: Sendable {
    /// Where the API server sends reviews, and what it leaves out.
    public struct Options: Sendable {
        /// The Service in front of `signet serve` (ignored when `url` is set).
        public var serviceName: String = "signet-webhook"
        public var serviceNamespace: String = "signet-system"
        public var servicePort: Int = 443
        /// A URL (`https://host:port`) instead of a Service, for a webhook outside the cluster.
        public var url: String?
        /// Base64 PEM of the CA that signed the server certificate (`signet cert` prints it).
        public var caBundle: String?
        /// Namespaces never sent to the webhook (besides `serviceNamespace`).
        public var excludedNamespaces: [String] = ["kube-system"]
        /// Kyverno's `--webhookTimeout` default.
        public var defaultTimeoutSeconds: Int = 10
        /// Names of the two configurations.
        public var mutatingName: String = "signet-mutate"
        public var validatingName: String = "signet-validate"
        /// Kinds beyond the built-in table (custom resources).
        public var extraResources: [String: APIResource] = [:]
        public init() {}
    }

    /// Where a kind is served: group, version, plural resource, and whether it is namespaced.
    public struct APIResource: Sendable, Hashable {
        public var group: String
        public var version: String
        public var resource: String
        public var namespaced: Bool
        public init(group: String, version: String, resource: String, namespaced: Bool) {
            self.group = group; self.version = version; self.resource = resource; self.namespaced = namespaced
        }

        /// Parses `GROUP/VERSION/RESOURCE[:Namespaced|Cluster]` (`/v1/pods` or `v1/pods` for the core group).
        public init(parsing text: String) throws {
            var spec = Substring(text)
            var namespaced = true
            if let colon = spec.lastIndex(of: ":") {
                switch spec[spec.index(after: colon)...].lowercased() {
                case "namespaced": namespaced = true
                case "cluster": namespaced = false
                default: throw SignetAdmissionError(.policy, "invalid scope in '\(text)' (want Namespaced or Cluster)")
                }
                spec = spec[..<colon]
            }
            let parts = spec.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let (g, v, r): (String, String, String)
            switch parts.count {
            case 2: (g, v, r) = ("", parts[0], parts[1])
            case 3: (g, v, r) = (parts[0], parts[1], parts[2])
            default: throw SignetAdmissionError(.policy, "invalid resource '\(text)' (want GROUP/VERSION/RESOURCE[:Namespaced|Cluster])")
            }
            guard !v.isEmpty, !r.isEmpty else {
                throw SignetAdmissionError(.policy, "invalid resource '\(text)' (want GROUP/VERSION/RESOURCE[:Namespaced|Cluster])")
            }
            self.init(group: g, version: v, resource: r, namespaced: namespaced)
        }
    }

    public let options: Options
    public init(options: Options = Options()) { self.options = options }

    /// Operations Kyverno registers when `match` names none.
    static let validateOperations = ["CREATE", "UPDATE", "DELETE", "CONNECT"]
    static let mutateOperations = ["CREATE", "UPDATE"]

    /// The built-in kinds (Kubernetes 1.30 discovery), by kind.
    public static let builtInResources: [String: APIResource] = {
        var t: [String: APIResource] = [:]
        func add(_ group: String, _ version: String, _ namespaced: Bool, _ kinds: [(String, String)]) {
            for (kind, resource) in kinds { t[kind] = APIResource(group: group, version: version, resource: resource, namespaced: namespaced) }
        }
        add("", "v1", true, [("Pod", "pods"), ("ReplicationController", "replicationcontrollers"), ("Service", "services"),
                             ("ConfigMap", "configmaps"), ("Secret", "secrets"), ("ServiceAccount", "serviceaccounts"),
                             ("PersistentVolumeClaim", "persistentvolumeclaims"), ("Endpoints", "endpoints"), ("Event", "events"),
                             ("LimitRange", "limitranges"), ("ResourceQuota", "resourcequotas"), ("PodTemplate", "podtemplates"),
                             ("Binding", "bindings")])
        add("", "v1", false, [("Namespace", "namespaces"), ("Node", "nodes"), ("PersistentVolume", "persistentvolumes")])
        add("apps", "v1", true, [("Deployment", "deployments"), ("DaemonSet", "daemonsets"), ("StatefulSet", "statefulsets"),
                                 ("ReplicaSet", "replicasets"), ("ControllerRevision", "controllerrevisions")])
        add("batch", "v1", true, [("Job", "jobs"), ("CronJob", "cronjobs")])
        add("autoscaling", "v2", true, [("HorizontalPodAutoscaler", "horizontalpodautoscalers")])
        add("policy", "v1", true, [("PodDisruptionBudget", "poddisruptionbudgets")])
        add("networking.k8s.io", "v1", true, [("Ingress", "ingresses"), ("NetworkPolicy", "networkpolicies")])
        add("networking.k8s.io", "v1", false, [("IngressClass", "ingressclasses")])
        add("rbac.authorization.k8s.io", "v1", true, [("Role", "roles"), ("RoleBinding", "rolebindings")])
        add("rbac.authorization.k8s.io", "v1", false, [("ClusterRole", "clusterroles"), ("ClusterRoleBinding", "clusterrolebindings")])
        add("storage.k8s.io", "v1", false, [("StorageClass", "storageclasses"), ("CSIDriver", "csidrivers"),
                                            ("CSINode", "csinodes"), ("VolumeAttachment", "volumeattachments")])
        add("admissionregistration.k8s.io", "v1", false, [("ValidatingWebhookConfiguration", "validatingwebhookconfigurations"),
                                                          ("MutatingWebhookConfiguration", "mutatingwebhookconfigurations")])
        add("apiextensions.k8s.io", "v1", false, [("CustomResourceDefinition", "customresourcedefinitions")])
        add("coordination.k8s.io", "v1", true, [("Lease", "leases")])
        add("discovery.k8s.io", "v1", true, [("EndpointSlice", "endpointslices")])
        add("scheduling.k8s.io", "v1", false, [("PriorityClass", "priorityclasses")])
        add("certificates.k8s.io", "v1", false, [("CertificateSigningRequest", "certificatesigningrequests")])
        add("node.k8s.io", "v1", false, [("RuntimeClass", "runtimeclasses")])
        add("kyverno.io", "v1", false, [("ClusterPolicy", "clusterpolicies")])
        add("kyverno.io", "v1", true, [("Policy", "policies")])
        return t
    }()

    /// The kind served as `resource` in `group` (`pods` -> `Pod`), from the built-in table.
    public static func kind(ofResource resource: String, group: String) -> String? {
        kindsByResource[group + "/" + resource]
    }

    static let kindsByResource: [String: String] = {
        var t: [String: String] = [:]
        for (kind, r) in builtInResources { t[r.group + "/" + r.resource] = kind }
        return t
    }()

    /// One rule of a webhook: resources of one group/version/scope with one set of operations.
    public struct WebhookRule: Sendable, Hashable, Comparable {
        public var group: String
        public var version: String
        public var scope: String
        public var operations: [String]
        public var resources: [String]

        public static func < (a: WebhookRule, b: WebhookRule) -> Bool {
            (a.group, a.version, a.scope, a.operations.joined(separator: ","))
                < (b.group, b.version, b.scope, b.operations.joined(separator: ","))
        }
    }

    /// One webhook: its name, path, failurePolicy, timeout and rules.
    public struct Webhook: Sendable, Hashable {
        public var name: String
        public var path: String
        public var failurePolicy: FailurePolicy
        public var timeoutSeconds: Int
        public var rules: [WebhookRule]
    }

    /// What the builder derived: the webhooks of both configurations.
    public struct Result: Sendable {
        public var mutating: [Webhook]
        public var validating: [Webhook]
    }

    /// Resource key while collecting: (group, version, resource, scope) -> operations.
    struct Target: Hashable { var group, version, resource, scope: String }

    /// Derives the webhooks from `policies` (invalid and `admission: false` policies are left out).
    /// ImageValidatingPolicies get the validate webhook (their validations, `verifyDigest`,
    /// `required`) and, with `mutateDigest`, the mutate webhook for CREATE and UPDATE as well.
    public func build(_ policies: [ClusterPolicy], validatingPolicies: [ValidatingPolicy] = [],
                      imagePolicies: [ImageValidatingPolicy] = []) throws -> Result {
        var mutating: [Webhook] = []
        var validating: [Webhook] = []
        for group in [PolicyGroup.ignore, .fail] {
            let members = policies.filter { $0.admission && !$0.isInvalid && group.contains(failurePolicy: $0.failurePolicy) }
            var validateTargets: [Target: Set<String>] = [:]
            var mutateTargets: [Target: Set<String>] = [:]
            var timeout = options.defaultTimeoutSeconds
            for policy in members {
                var used = false
                for (index, rule) in policy.effectiveRules.enumerated() {
                    let secondPass = rule.verifyImages.contains { $0.verifyDigest || $0.required }
                    // Unsupported rules report errors from /validate (failurePolicy decides).
                    if rule.hasValidate || secondPass || (!rule.hasVerifyImages && !rule.unsupported.isEmpty) {
                        try collect(rule, index: index, policy: policy, defaults: Self.validateOperations, into: &validateTargets)
                        used = true
                    }
                    if rule.hasVerifyImages {
                        try collect(rule, index: index, policy: policy, defaults: Self.mutateOperations, into: &mutateTargets)
                        used = true
                    }
                }
                if used { timeout = max(timeout, policy.webhookTimeoutSeconds) }
            }
            for vp in validatingPolicies + imagePolicies.map(\.base)
            where vp.admission && !vp.isInvalid && vp.mode == .kubernetes && group.contains(failurePolicy: vp.failurePolicy) {
                collect(vp, into: &validateTargets)
                timeout = max(timeout, vp.webhookTimeoutSeconds)
            }
            for ip in imagePolicies where ip.validationConfiguration.mutateDigest && ip.base.admission && !ip.base.isInvalid
                && ip.base.mode == .kubernetes && group.contains(failurePolicy: ip.failurePolicy) {
                var mutate: [Target: Set<String>] = [:]
                collect(ip.base, into: &mutate)
                for (target, ops) in mutate {
                    let kept = ops.intersection(Self.mutateOperations)
                    if !kept.isEmpty { mutateTargets[target, default: []].formUnion(kept) }
                }
            }
            timeout = min(timeout, 30)
            let suffix = group.rawValue
            let failurePolicy: FailurePolicy = group == .ignore ? .ignore : .fail
            let v = Self.rules(validateTargets)
            if !v.isEmpty {
                validating.append(Webhook(name: "validate-\(suffix).signet.dev", path: "/validate/\(suffix)",
                                          failurePolicy: failurePolicy, timeoutSeconds: timeout, rules: v))
            }
            let m = Self.rules(mutateTargets)
            if !m.isEmpty {
                mutating.append(Webhook(name: "mutate-\(suffix).signet.dev", path: "/mutate/\(suffix)",
                                        failurePolicy: failurePolicy, timeoutSeconds: timeout, rules: m))
            }
        }
        return Result(mutating: mutating, validating: validating)
    }

    /// Adds the resources and operations `rule` matches, minus what a plain `exclude.any` entry removes.
    func collect(_ rule: Rule, index: Int, policy: ClusterPolicy, defaults: [String], into collected: inout [Target: Set<String>]) throws {
        let field = "spec.rules[\(index)].match"
        let filters = rule.match.any + rule.match.all + [rule.match.legacy]
        var mine: [Target: Set<String>] = [:]
        for filter in filters where !filter.resources.kinds.isEmpty {
            let ops = filter.resources.operations.isEmpty ? defaults : filter.resources.operations.filter(defaults.contains)
            if ops.isEmpty { continue }
            for kind in filter.resources.kinds {
                for t in try targets(for: kind, policy: policy, rule: rule, field: field) {
                    mine[t, default: []].formUnion(ops)
                }
            }
        }
        // Kyverno: only `exclude.any` entries with nothing but kinds/operations narrow the webhook.
        for entry in rule.exclude?.any ?? [] {
            let r = entry.resources
            guard entry.userInfo.isEmpty, r.name == nil, r.names.isEmpty, r.namespaces.isEmpty, r.annotations.isEmpty,
                  r.selector == nil, r.namespaceSelector == nil else { continue }
            let ops = Set(r.operations.isEmpty ? Self.validateOperations : r.operations)
            var removed: Set<Target>? = nil
            if !r.kinds.isEmpty {
                removed = []
                for kind in r.kinds {
                    removed!.formUnion(try targets(for: kind, policy: policy, rule: rule, field: "spec.rules[\(index)].exclude.any"))
                }
            }
            for key in Array(mine.keys) where removed == nil || removed!.contains(key) {
                mine[key]!.subtract(ops)
                if mine[key]!.isEmpty { mine[key] = nil }
            }
        }
        for (t, ops) in mine { collected[t, default: []].formUnion(ops) }
    }

    /// The resources a kind selector names; wildcards stay wildcards, in the policy's scope.
    func targets(for kind: KindSelector, policy: ClusterPolicy, rule: Rule, field: String) throws -> [Target] {
        if kind.kind.contains("*") || kind.kind.contains("?") {
            let scope = policy.kind == "Policy" ? "Namespaced" : "*"
            let resource = kind.subresource.isEmpty ? "*" : "*/\(kind.subresource)"
            return [Target(group: kind.group, version: kind.version, resource: resource, scope: scope)]
        }
        guard let known = options.extraResources[kind.kind] ?? Self.builtInResources[kind.kind] else {
            throw SignetAdmissionError(.policy, "policy \(policy.name), rule \(rule.name): \(field) kind '\(kind.raw)' is not a built-in kind; name its resource with --resource \(kind.kind)=GROUP/VERSION/RESOURCE[:Namespaced|Cluster]")
        }
        let group = kind.group == "*" ? known.group : kind.group
        let version = kind.version == "*" ? known.version : kind.version
        let scope = known.namespaced ? "Namespaced" : "*"
        var out = [Target(group: group, version: version,
                          resource: kind.subresource.isEmpty ? known.resource : "\(known.resource)/\(kind.subresource)", scope: scope)]
        // Kyverno adds the ephemeral containers subresource wherever Pods are registered.
        if known.resource == "pods" && kind.subresource.isEmpty && group.isEmpty && version == "v1" {
            out.append(Target(group: group, version: version, resource: "pods/ephemeralcontainers", scope: scope))
        }
        return out
    }

    /// Groups targets into webhook rules: per group, version and scope, then per identical
    /// operations; a wildcard resource covers the others of its group/version/scope.
    static func rules(_ targets: [Target: Set<String>]) -> [WebhookRule] {
        let order = validateOperations
        var grouped: [[String]: [String]] = [:]  // [group, version, scope, ops...] -> resources
        var covered = targets
        for (t, _) in targets where t.resource == "*" {
            for (other, ops) in targets where other != t && other.group == t.group && other.version == t.version
                && other.scope == t.scope && !other.resource.contains("/") && ops.isSubset(of: targets[t]!) {
                covered[other] = nil
            }
        }
        for (t, ops) in covered {
            let sortedOps = order.filter(ops.contains)
            grouped[[t.group, t.version, t.scope] + sortedOps, default: []].append(t.resource)
        }
        return grouped.map { key, resources in
            WebhookRule(group: key[0], version: key[1], scope: key[2], operations: Array(key[3...]), resources: resources.sorted())
        }.sorted()
    }

    // MARK: - Rendering

    /// Both configurations as one YAML stream (mutating first), ready for `kubectl apply -f`.
    public func yaml(_ result: Result) -> String {
        var out = ""
        out += configuration(kind: "MutatingWebhookConfiguration", name: options.mutatingName, webhooks: result.mutating, mutating: true)
        out += "---\n"
        out += configuration(kind: "ValidatingWebhookConfiguration", name: options.validatingName, webhooks: result.validating, mutating: false)
        return out
    }

    func configuration(kind: String, name: String, webhooks: [Webhook], mutating: Bool) -> String {
        var y = """
            apiVersion: admissionregistration.k8s.io/v1
            kind: \(kind)
            metadata:
              name: \(name)
              labels:
                app.kubernetes.io/name: signet

            """
        if webhooks.isEmpty { return y + "webhooks: []\n" }
        y += "webhooks:\n"
        let excluded = ([options.serviceNamespace] + options.excludedNamespaces)
        var seen = Set<String>()
        let namespaces = excluded.filter { !$0.isEmpty && seen.insert($0).inserted }.sorted()
        for w in webhooks {
            y += "  - name: \(w.name)\n"
            y += "    admissionReviewVersions: [\"v1\"]\n"
            y += "    sideEffects: None\n"
            y += "    failurePolicy: \(w.failurePolicy)\n"
            y += "    matchPolicy: Equivalent\n"
            y += "    timeoutSeconds: \(w.timeoutSeconds)\n"
            if mutating { y += "    reinvocationPolicy: IfNeeded\n" }
            y += "    clientConfig:\n"
            if let url = options.url {
                var base = url
                while base.hasSuffix("/") { base.removeLast() }
                y += "      url: \(Self.quote(base + w.path))\n"
            } else {
                y += "      service:\n"
                y += "        name: \(options.serviceName)\n"
                y += "        namespace: \(options.serviceNamespace)\n"
                y += "        path: \(w.path)\n"
                y += "        port: \(options.servicePort)\n"
            }
            if let ca = options.caBundle, !ca.isEmpty { y += "      caBundle: \(ca)\n" }
            y += "    namespaceSelector:\n"
            y += "      matchExpressions:\n"
            y += "        - key: kubernetes.io/metadata.name\n"
            y += "          operator: NotIn\n"
            y += "          values: [\(namespaces.map(Self.quote).joined(separator: ", "))]\n"
            y += "    rules:\n"
            for r in w.rules {
                y += "      - apiGroups: [\(Self.quote(r.group))]\n"
                y += "        apiVersions: [\(Self.quote(r.version))]\n"
                y += "        operations: [\(r.operations.map(Self.quote).joined(separator: ", "))]\n"
                y += "        resources: [\(r.resources.map(Self.quote).joined(separator: ", "))]\n"
                y += "        scope: \(Self.quote(r.scope))\n"
            }
        }
        return y
    }

    /// A YAML double-quoted scalar.
    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
