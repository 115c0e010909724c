/// Kyverno's autogen (pkg/autogen/v1): Pod rules also apply to Pod controllers through
/// `autogen-NAME` (DaemonSet, Deployment, Job, StatefulSet, ReplicaSet, ReplicationController;
/// pattern under `spec.template`) and `autogen-cronjob-NAME` (CronJob; under
/// `spec.jobTemplate.spec.template`). The annotation `pod-policies.kyverno.io/autogen-controllers`
/// (`none` or a comma list) selects the controllers.
public enum Autogen {
    public static let annotation = "pod-policies.kyverno.io/autogen-controllers"
    public static let podControllers = ["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController", "CronJob"]
    static let gvk: [String: String] = [
        "DaemonSet": "apps/v1/DaemonSet", "Deployment": "apps/v1/Deployment", "Job": "batch/v1/Job",
        "StatefulSet": "apps/v1/StatefulSet", "ReplicaSet": "apps/v1/ReplicaSet",
        "ReplicationController": "v1/ReplicationController", "CronJob": "batch/v1/CronJob", "Pod": "v1/Pod",
    ]

    static func containsKind(_ kinds: [KindSelector], _ kind: String) -> Bool {
        kinds.contains { sel in
            // Kyverno ContainsKind: the kind part of the selector (before any subresource)
            let parts = sel.raw.split(separator: "/").map(String.init)
            var k: String
            switch parts.count {
            case 1: k = parts[0].replacingOccurrences(of: ".", with: "/")
            case 2: k = KindSelector.isVersionString(parts[0]) ? parts[1].replacingOccurrences(of: ".", with: "/") : parts[0] + "/" + parts[1]
            case 3: k = KindSelector.isVersionString(parts[0]) ? parts[1] + "/" + parts[2] : parts[2].replacingOccurrences(of: ".", with: "/")
            case 4: k = parts[2] + "/" + parts[3]
            default: k = ""
            }
            if let slash = k.firstIndex(of: "/"), k.split(separator: "/").count == 2 { k = String(k[..<slash]) }
            return k == kind
        }
    }

    /// Kyverno `CanAutoGen`: every rule must be free of names/selectors/annotations and of
    /// multi-kind lists that include Pod; at least one rule must name Pod or a controller.
    static func canAutogen(_ rules: [Rule]) -> Bool {
        var needed = false
        let set = Set(podControllers + ["Pod"])
        func ok(_ d: ResourceDescription) -> Bool {
            if d.name != nil || !d.names.isEmpty || d.selector != nil || !d.annotations.isEmpty || (d.kinds.count > 1 && containsKind(d.kinds, "Pod")) { return false }
            if d.kinds.contains(where: { set.contains($0.raw) }) { needed = true }
            return true
        }
        for r in rules {
            if !ok(r.match.legacy.resources) { return false }
            for f in r.match.any where !ok(f.resources) { return false }
            for f in r.match.all where !ok(f.resources) { return false }
            if let ex = r.exclude {
                if !ok(ex.legacy.resources) { return false }
                for f in ex.any where !ok(f.resources) { return false }
                for f in ex.all where !ok(f.resources) { return false }
            }
        }
        return needed
    }

    /// The rules Kyverno evaluates for `policy`: its own (minus stale `autogen-` ones when rules
    /// are generated) followed by the generated ones.
    public static func computeRules(_ policy: ClusterPolicy) -> [Rule] {
        guard canAutogen(policy.rules) else { return policy.rules }
        var controllers: [String]
        if let ann = policy.annotations[annotation] {
            controllers = ann.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        } else {
            controllers = podControllers
        }
        if controllers == ["none"] { return policy.rules }
        controllers.sort()
        var generated: [Rule] = []
        for rule in policy.rules {
            if let g = controllerRule(rule, controllers: controllers.filter { $0 != "CronJob" }) { generated.append(g.rewritingVariables(cronJob: false)) }
            if controllers.contains(where: { $0.contains("CronJob") || $0.contains("all") }), let c = cronJobRule(rule, controllers: controllers) { generated.append(c.rewritingVariables(cronJob: true)) }
        }
        if generated.isEmpty { return policy.rules }
        return policy.rules.filter { !$0.name.hasPrefix("autogen-") } + generated
    }

    static func autogenName(_ prefix: String, _ name: String) -> String {
        let n = prefix + "-" + name
        return n.count > 63 ? String(n.prefix(63)) : n
    }

    static func controllerRule(_ rule: Rule, controllers input: [String]) -> Rule? {
        if rule.name.hasPrefix("autogen-") || input.isEmpty || input == [""] { return nil }
        let excludeKinds = rule.exclude?.allKinds ?? []
        guard containsKind(rule.match.allKinds, "Pod"), excludeKinds.isEmpty || containsKind(excludeKinds, "Pod") else { return nil }
        var controllers = input
        if controllers == ["all"] {
            controllers = ["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController"]
        } else if controllers != ["none"] {
            let valid = controllers.filter { ["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController"].contains($0) }
            if !valid.isEmpty { controllers = valid }
        }
        return generate(rule, name: autogenName("autogen", rule.name), templateKey: "template", kinds: controllers.sorted()) { filters, kinds in
            filters.map { f in
                var f = f
                if containsKind(f.resources.kinds, "Pod") { f.resources.kinds = kinds }
                return f
            }
        }
    }

    static func cronJobRule(_ rule: Rule, controllers: [String]) -> Rule? {
        guard let base = controllerRule(rule, controllers: controllers) else { return nil }
        var g = generate(base, name: autogenName("autogen-cronjob", rule.name), templateKey: "jobTemplate", kinds: ["CronJob"]) { filters, kinds in
            filters.map { f in var f = f; f.resources.kinds = kinds; return f }
        }
        g?.isAutogen = true
        return g
    }

    static func generate(_ rule: Rule, name: String, templateKey: String, kinds raw: [String],
                         filters: ([ResourceFilter], [KindSelector]) -> [ResourceFilter]) -> Rule? {
        let kinds = raw.map { KindSelector(gvk[$0] ?? $0) }
        var r = rule
        r.name = name
        r.isAutogen = true
        if !r.match.any.isEmpty { r.match.any = filters(r.match.any, kinds) }
        else if !r.match.all.isEmpty { r.match.all = filters(r.match.all, kinds) }
        else { r.match.legacy.resources.kinds = kinds }
        if var ex = r.exclude {
            if !ex.any.isEmpty { ex.any = filters(ex.any, kinds) }
            else if !ex.all.isEmpty { ex.all = filters(ex.all, kinds) }
            else if !ex.legacy.resources.kinds.isEmpty { ex.legacy.resources.kinds = kinds }
            r.exclude = ex
        }
        r.celPreconditions = r.celPreconditions?.rewritten(specPath: templateKey == "template" ? "object.spec.template" : "object.spec.jobTemplate.spec.template")
        func wrap(_ p: Pattern) -> Pattern { Pattern(["spec": .object([templateKey: p.source])]) }
        if var v = r.validate {
            if let p = v.pattern { v.pattern = wrap(p) }
            else if let ap = v.anyPattern { v.anyPattern = ap.map(wrap) }
            else if let c = v.cel { v.cel = c.rewritten(specPath: templateKey == "template" ? "object.spec.template" : "object.spec.jobTemplate.spec.template") }
            else if v.deny == nil && v.foreach == nil && v.podSecurity == nil && r.unsupported.isEmpty { return nil }
            r.validate = v
            return r
        }
        if !r.verifyImages.isEmpty { return r }
        if !r.unsupported.isEmpty { return r }
        return nil
    }
}

extension KindSelector {
    static func isVersionString(_ s: String) -> Bool {
        if s == "*" { return true }
        guard s.hasPrefix("v"), s.count > 1 else { return false }
        let rest = s.dropFirst()
        guard let digitsEnd = rest.firstIndex(where: { !$0.isNumber }) else { return true }
        guard digitsEnd != rest.startIndex else { return false }
        let tail = rest[digitsEnd...]
        for q in ["alpha", "beta"] where tail.hasPrefix(q) {
            let n = tail.dropFirst(q.count)
            return !n.isEmpty && n.allSatisfy(\.isNumber)
        }
        return false
    }
}
