/// A `kyverno.io/v2` (or v2beta1) PolicyException: rules it exempts and the resources it covers.
import SignetPrimitives
public struct PolicyException: Sendable {
    public struct Entry: Sendable, Hashable {
        /// `NAME` for a ClusterPolicy, `NAMESPACE/NAME` for a Policy.
        public var policyName: String
        public var ruleNames: [String]
    }
    public var name: String
    public var namespace: String
    public var exceptions: [Entry]
    public var match: MatchResources
    /// `conditions` (JMESPath `any`/`all`): the exception applies only when they hold on the
    /// request context (Kyverno `MatchesException`); an evaluation error does not apply it.
    public var conditions: ConditionBlock?
    /// Whether the exception has `conditions`.
    public var hasConditions: Bool { conditions != nil }
    /// `podSecurity`: Pod Security controls exempted for `validate.podSecurity` rules (an exception
    /// with them does not skip such a rule: its controls are excluded from the evaluation).
    public var podSecurity: [PodSecurityExclusion] = []
    public var diagnostics: [Diagnostic]

    /// `namespace/name`.
    public var key: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    /// Whether it exempts `rule` of `policy` (autogen rules are named explicitly, as in Kyverno).
    public func covers(policy: String, policyNamespace: String?, rule: String) -> Bool {
        let full = (policyNamespace ?? "").isEmpty ? policy : "\(policyNamespace!)/\(policy)"
        return exceptions.contains { e in
            e.policyName == full && e.ruleNames.contains { Wildcard.match($0, rule) }
        }
    }

    /// Loads one document; nil when it is not a PolicyException.
    public init?(document: JSONValue, strict: Bool = false) {
        guard case .object(let o) = document, o["kind"]?.stringValue == "PolicyException",
              o["apiVersion"]?.stringValue?.hasPrefix("kyverno.io/") == true else { return nil }
        var r = FieldReader(strict: strict)
        name = o["metadata"]?["name"]?.stringValue ?? ""
        namespace = o["metadata"]?["namespace"]?.stringValue ?? ""
        r.prefix = "PolicyException/\(name)"
        let spec = o["spec"]?.objectValue ?? [:]
        r.checkKeys(spec, path: "spec", known: ["exceptions", "match", "background", "podSecurity", "conditions"])
        podSecurity = r.podSecurityExclusions(spec["podSecurity"], path: "spec.podSecurity")
        conditions = spec["conditions"].flatMap { $0 == .null ? nil : r.conditions($0, path: "spec.conditions") }
        var entries: [Entry] = []
        for (i, e) in (spec["exceptions"]?.arrayValue ?? []).enumerated() {
            let p = "spec.exceptions[\(i)]"
            entries.append(Entry(policyName: e["policyName"]?.stringValue ?? "", ruleNames: r.strings(e["ruleNames"], path: p + ".ruleNames")))
        }
        exceptions = entries
        match = r.matchResources(spec["match"], path: "spec.match", isMatch: false)
        diagnostics = r.diags
    }
}
