import SignetPrimitives

/// A rule `context` entry (Kyverno `ContextEntry`): a named value added to the variables before
/// the rule's conditions and patterns are evaluated.
public struct ContextEntry: Sendable {
    /// The source of the value.
    public enum Source: Sendable {
        /// `variable`: `value` (variables substituted), or a `jmesPath` on the context, with a `default`.
        case variable(value: JSONValue?, jmesPath: String?, defaultValue: JSONValue?)
        /// `configMap`: `name`, `namespace` (may hold variables).
        case configMap(name: String, namespace: String)
        /// `apiCall`: a Kubernetes API `urlPath` (GET, or POST with `data`), or a `service` URL.
        case apiCall(urlPath: String, method: String, data: JSONValue?, jmesPath: String?, defaultValue: JSONValue?)
        /// `apiCall.service`: a call to an HTTP service outside the cluster (`url`, GET or POST with
        /// `data`). Answered from a test's `apiCallResponses` mocks only: signet never calls out
        /// from a ClusterPolicy context entry (elsewhere the entry fails to load, an error).
        case serviceCall(url: String, method: String, data: JSONValue?, jmesPath: String?, defaultValue: JSONValue?)
        /// `imageRegistry`: the config and manifest of `reference`.
        case imageRegistry(reference: String, jmesPath: String?)
        /// `globalReference`: a GlobalContextEntry by name.
        case globalReference(name: String, jmesPath: String?)
    }
    public var name: String
    public var source: Source

    func mapStrings(_ f: (String) -> String) -> ContextEntry {
        var c = self
        switch source {
        case .variable(let v, let j, let d): c.source = .variable(value: v?.mapStrings(f), jmesPath: j.map(f), defaultValue: d)
        case .configMap(let n, let ns): c.source = .configMap(name: f(n), namespace: f(ns))
        case .apiCall(let u, let m, let d, let j, let dv): c.source = .apiCall(urlPath: f(u), method: m, data: d?.mapStrings(f), jmesPath: j.map(f), defaultValue: dv)
        case .serviceCall(let u, let m, let d, let j, let dv): c.source = .serviceCall(url: f(u), method: m, data: d?.mapStrings(f), jmesPath: j.map(f), defaultValue: dv)
        case .imageRegistry(let r, let j): c.source = .imageRegistry(reference: f(r), jmesPath: j.map(f))
        case .globalReference(let n, let j): c.source = .globalReference(name: n, jmesPath: j.map(f))
        }
        return c
    }
}
