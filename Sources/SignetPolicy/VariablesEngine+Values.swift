import SignetPrimitives

/// The Kyverno CLI values file (`cli.kyverno.io/v1alpha1` `Values`, a test's `variables` file or
/// inline `values`, `kyverno apply -f`): `globalValues`, `policies[].resources[].values`,
/// `policies[].rules[].values` / `foreachValues`, `namespaceSelector`, `namespaces`,
/// `subresources`. Read once; `VariableValues` carries the variables into the engine and
/// `PolicyEngine.valuesRequests` gives the request each policy sees.
public struct KyvernoValuesFile: Sendable {
    /// The variables (global, per resource, per rule, foreach).
    public var variables = VariableValues()
    /// Namespace labels by namespace name (`namespaceSelector`, then `namespaces`, which win).
    public var namespaceLabels: [String: [String: String]] = [:]
    /// Namespace objects (`namespaces`).
    public var namespaces: [String: JSONValue] = [:]
    /// `subresources`: a subresource kind and the parent it is a subresource of.
    public var subresources: [Subresource] = []
    /// `globalValues["request.operation"]`, parsed.
    public var operation: AdmissionOperation?

    /// One `subresources` entry (`metav1.APIResource` pairs).
    public struct Subresource: Sendable, Hashable {
        /// Group, version and kind of the subresource object (`Scale`...).
        public var group: String, version: String, kind: String
        /// Group, version and kind of the parent (`Deployment`...).
        public var parentGroup: String, parentVersion: String, parentKind: String
        /// `deployments/scale`.
        public var name: String
    }

    public init() {}

    /// Reads the documents of a values file (several are merged in order).
    public init(documents: [JSONValue]) throws {
        for d in documents { try read(d) }
    }

    /// Adds one values document.
    public mutating func read(_ vd: JSONValue) throws {
        guard case .object(let o) = vd else {
            if vd == .null { return }
            throw SignetPolicyError(.invalidPolicy, "a values document must be a map")
        }
        let known: Set<String> = ["apiVersion", "kind", "metadata", "globalValues", "policies", "namespaceSelector", "namespaces", "subresources"]
        if let unknown = o.keys.filter({ !known.contains($0) }).sorted().first {
            throw SignetPolicyError(.invalidPolicy, "unknown field \"\(unknown)\" in values file")
        }
        variables.read(valuesDocument: vd)
        for p in vd["policies"]?.arrayValue ?? [] {
            guard let pn = p["name"]?.stringValue else { continue }
            for r in p["rules"]?.arrayValue ?? [] {
                guard let rn = r["name"]?.stringValue, let fv = r["foreachValues"]?.objectValue else { continue }
                for (k, v) in fv { variables.foreachValues[pn, default: [:]][rn, default: [:]][k] = v.arrayValue ?? [v] }
            }
        }
        for e in vd["namespaceSelector"]?.arrayValue ?? [] {
            if let n = e["name"]?.stringValue { namespaceLabels[n] = e["labels"]?.stringMap ?? [:] }
        }
        for ns in vd["namespaces"]?.arrayValue ?? [] {
            guard let n = ns["metadata"]?["name"]?.stringValue else { continue }
            namespaces[n] = ns
            namespaceLabels[n] = ns["metadata"]?["labels"]?.stringMap ?? [:]
        }
        for s in vd["subresources"]?.arrayValue ?? [] {
            let sr = s["subresource"], pr = s["parentResource"]
            subresources.append(Subresource(group: sr?["group"]?.stringValue ?? "", version: sr?["version"]?.stringValue ?? "", kind: sr?["kind"]?.stringValue ?? "",
                                            parentGroup: pr?["group"]?.stringValue ?? "", parentVersion: pr?["version"]?.stringValue ?? "",
                                            parentKind: pr?["kind"]?.stringValue ?? "", name: sr?["name"]?.stringValue ?? ""))
        }
        if let op = vd["globalValues"]?["request.operation"]?.stringValue {
            guard let parsed = AdmissionOperation(rawValue: op) else {
                throw SignetPolicyError(.invalidPolicy, "globalValues request.operation must be CREATE, UPDATE, DELETE or CONNECT, not '\(op)'")
            }
            operation = parsed
        }
    }

    /// The admission data of `resource` from the values: namespace labels, and the parent kind
    /// and subresource name when the resource's kind is a declared subresource.
    public func admission(for resource: JSONValue, base: AdmissionInfo) -> AdmissionInfo {
        let info = ResourceInfo(resource)
        var a = base
        a.namespaceLabels = namespaceLabels[info.namespace] ?? [:]
        for s in subresources where (s.group, s.version, s.kind) == (info.group, info.version, info.kind) {
            a.requestKind = (s.parentGroup, s.parentVersion, s.parentKind)
            a.subresource = s.name.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        }
        return a
    }
}

extension VariableValues {
    /// The request the Kyverno CLI builds for `policy` on `resource` (`makePolicyContext`): the
    /// operation from `request.operation` (global or the resource's values), the old object
    /// (the resource itself) on UPDATE and DELETE, and `request.object` as the values leave it
    /// (`request.object.metadata.labels.x: y` changes the object the rule matches and checks).
    /// `changed` tells whether it differs from the default request.
    public func request(policy: String, resource: JSONValue, admission: AdmissionInfo) -> (resource: JSONValue, admission: AdmissionInfo, changed: Bool) {
        let values = requestValues(policy: policy, resource: resource)
        var a = admission
        var changed = false
        if let op = values.first(where: { $0.key == "request.operation" })?.value.stringValue, let parsed = AdmissionOperation(rawValue: op), parsed != a.operation {
            a.operation = parsed
            changed = true
        }
        if (a.operation == .update || a.operation == .delete), a.oldObject == nil { a.oldObject = resource }
        let touchesObject = values.contains { k, _ in
            let path = VariableContext.keyPath(k)
            return path.count >= 2 && path[0] == "request" && path[1] == "object"
        }
        guard touchesObject, a.operation != .delete else { return (resource, a, changed) }
        var ctx = VariableContext(resource: resource, admission: a)
        for (k, v) in values { ctx.add(k, v) }
        guard let object = ctx.data["request"]?["object"], object != resource else { return (resource, a, changed) }
        return (object, a, true)
    }
}

extension PolicyEngine {
    /// One evaluation of a values-file run: an engine (a subset of the policies), the resource
    /// and the admission data it sees.
    public struct ValuesRequest: Sendable {
        /// The engine holding the policies this request is for (the first keeps the CEL policies).
        public var engine: PolicyEngine
        /// The resource as the values leave it.
        public var resource: JSONValue
        /// The admission data (operation, old object) as the values leave them.
        public var admission: AdmissionInfo
    }

    /// Splits an evaluation of `resource` by the request each policy sees under the values of
    /// `configuration.variables` (`VariableValues.request`): the policies that see the default
    /// request stay together (with the CEL policies); each policy whose values change the
    /// request is evaluated alone. Merge the `policies` of the responses.
    public func valuesRequests(for resource: JSONValue, admission: AdmissionInfo) -> [ValuesRequest] {
        let values = configuration.variables
        var base = admission
        if (base.operation == .update || base.operation == .delete), base.oldObject == nil { base.oldObject = resource }
        guard !values.global.isEmpty || !values.resources.isEmpty || !values.overrides.isEmpty else { return [ValuesRequest(engine: self, resource: resource, admission: base)] }
        var plain: [ClusterPolicy] = []
        var own: [ValuesRequest] = []
        for p in policies {
            let r = values.request(policy: p.name, resource: resource, admission: base)
            if r.changed {
                own.append(ValuesRequest(engine: PolicyEngine(policies: [p], exceptions: exceptions, verifier: verifier, configuration: configuration),
                                         resource: r.resource, admission: r.admission))
            } else {
                plain.append(p)
            }
        }
        if own.isEmpty { return [ValuesRequest(engine: self, resource: resource, admission: base)] }
        let first = PolicyEngine(policies: plain, exceptions: exceptions, verifier: verifier, configuration: configuration, celEngine: celEngine)
        return [ValuesRequest(engine: first, resource: resource, admission: base)] + own
    }
}
