import Foundation
import SignetPrimitives

/// Converts the `verifyImages` rules of ClusterPolicies into ImageValidatingPolicies that enforce
/// the same thing (issue 14, `signet migrate`), naming every rule or field it cannot carry over.
public enum PolicyMigration {
    /// The converted documents and what could not be carried over.
    public struct Output: Sendable {
        /// `policies.kyverno.io/v1` ImageValidatingPolicy documents (verifyImages rules) and
        /// ValidatingPolicy documents (validate rules with a plain `pattern`).
        public var documents: [JSONValue] = []
        /// Names of the rules that were converted.
        public var convertedRules: Set<String> = []
        /// One warning per rule or field not carried over.
        public var diagnostics: [Diagnostic] = []
        /// True when nothing was left out (no warning or error).
        public var isComplete: Bool { diagnostics.isEmpty }
    }

    /// Converts one ClusterPolicy (or Policy): one ImageValidatingPolicy per `verifyImages` entry.
    public static func migrate(_ p: ClusterPolicy) -> Output {
        var out = Output()
        func note(_ path: String, _ message: String) {
            out.diagnostics.append(Diagnostic(.warning, path: "\(p.kind)/\(p.name): \(path)", "not carried over: \(message)"))
        }
        if p.namespace != nil { note("metadata.namespace", "a namespaced Policy becomes a cluster-wide ImageValidatingPolicy; restrict it with matchConstraints.namespaceSelector") }
        for (ri, rule) in p.rules.enumerated() {
            let rp = "spec.rules[\(ri)]"
            for (field, present) in [("exclude", rule.exclude != nil), ("preconditions", rule.preconditions != nil), ("context", !rule.context.isEmpty),
                                     ("celPreconditions", rule.celPreconditions != nil), ("imageExtractors", rule.imageExtractors != nil)] where present {
                note("\(rp).\(field)", "\(field) has no ImageValidatingPolicy equivalent here")
            }
            for reason in rule.unsupported { note(rp, reason) }
            let resourceRules = self.resourceRules(rule.match, path: rp + ".match", note: note)
            if !rule.hasVerifyImages {
                if let doc = validatingPolicy(p, rule: rule, path: rp, resourceRules: resourceRules, note: note) {
                    out.documents.append(doc)
                    out.convertedRules.insert(rule.name)
                }
                continue
            }
            out.convertedRules.insert(rule.name)
            for (vi, iv) in rule.verifyImages.enumerated() {
                let vp = "\(rp).verifyImages[\(vi)]"
                let name = rule.verifyImages.count == 1 ? "\(p.name)-\(rule.name)" : "\(p.name)-\(rule.name)-\(vi)"
                if !iv.skipImageReferences.isEmpty { note(vp + ".skipImageReferences", "excluded image globs are not expressible as matchImageReferences") }
                var attestors: [JSONValue] = []
                var checks: [String] = []
                // One attestor per entry; a set becomes `verify...(i, [its attestors]) >= count`.
                func sets(_ sets: [AttestorSet], prefix: String, path: String, call: (String) -> String) {
                    for (si, set) in sets.enumerated() {
                        var names: [String] = []
                        for (ei, entry) in set.entries.enumerated() {
                            let ep = "\(path).attestors[\(si)].entries[\(ei)]"
                            guard let keys = entry.keys else { note(ep, "\(entry.unsupportedKind ?? "this") attestor is not supported"); continue }
                            var key: [String: JSONValue] = [:]
                            if let pem = keys.publicKey { key["data"] = .string(pem) }
                            else if let kms = keys.kms { key["kms"] = .string(kms) }
                            else { note(ep + ".keys.secret", "secret-held keys: put the public key in cosign.key.data"); continue }
                            if keys.signatureAlgorithm != "sha256" { key["hashAlgorithm"] = .string(keys.signatureAlgorithm) }
                            var cosign: [String: JSONValue] = ["key": .object(key)]
                            if keys.ignoreTlog { cosign["ctlog"] = ["insecureIgnoreTlog": true] }
                            else { note(ep + ".keys.rekor", "transparency log verification (signet requires insecureIgnoreTlog: true)") }
                            if let repo = entry.repository ?? iv.repository { cosign["source"] = ["repository": .string(repo)] }
                            var annotations = iv.annotations
                            for (k, v) in entry.annotations { annotations[k] = v }
                            if !annotations.isEmpty { cosign["annotations"] = .object(annotations.mapValues(JSONValue.string)) }
                            let attestor = "\(prefix)s\(si)e\(ei)"
                            attestors.append(["name": .string(attestor), "cosign": .object(cosign)])
                            names.append("attestors." + attestor)
                        }
                        guard !names.isEmpty else { continue }
                        checks.append("\(call(names.joined(separator: ", "))) >= \(min(set.requiredCount, names.count))")
                    }
                }
                sets(iv.attestors, prefix: "", path: vp) { "verifyImageSignatures(i, [\($0)])" }
                var attestations: [JSONValue] = []
                for (ai, a) in iv.attestations.enumerated() {
                    let an = "t\(ai)"
                    attestations.append(["name": .string(an), "intoto": ["type": .string(a.type)]])
                    // JMESPath conditions over the predicate would be CEL over extractPayload(...):
                    // not translated, so named.
                    if !a.conditions.isEmpty {
                        note("\(vp).attestations[\(ai)].conditions", "JMESPath attestation conditions: write them as CEL over extractPayload(i, attestations.\(an))")
                    }
                    let own = !a.attestors.isEmpty
                    sets(own ? a.attestors : iv.attestors, prefix: own ? "t\(ai)" : "", path: own ? "\(vp).attestations[\(ai)]" : vp) {
                        "verifyAttestationSignatures(i, attestations.\(an), [\($0)])"
                    }
                }
                // The shared attestors were added once per use: keep the first of each name.
                var seen = Set<String>()
                attestors = attestors.filter { seen.insert($0["name"]?.stringValue ?? "").inserted }
                let action = iv.failureAction ?? p.validationFailureAction
                var spec: [String: JSONValue] = [
                    "failurePolicy": .string(p.failurePolicy.rawValue),
                    "validationActions": [.string(action == .enforce ? "Deny" : "Audit")],
                    "webhookConfiguration": ["timeoutSeconds": .integer(Int64(p.webhookTimeoutSeconds))],
                    "matchConstraints": ["resourceRules": .array(resourceRules)],
                    "matchImageReferences": .array(iv.imageReferences.map { ["glob": .string($0)] }),
                    "attestors": .array(attestors),
                    "validationConfigurations": ["mutateDigest": .bool(iv.mutateDigest), "verifyDigest": .bool(iv.verifyDigest),
                                                 "required": .bool(iv.required)],
                    "validations": [["expression": .string(checks.isEmpty ? "true"
                                        : "(images.containers + images.initContainers + images.ephemeralContainers).all(i, \(checks.joined(separator: " && ")))"),
                                     "message": .string("failed to verify image signatures and attestations (\(p.name)/\(rule.name))")]],
                ]
                if !attestations.isEmpty { spec["attestations"] = .array(attestations) }
                // imageRegistryCredentials.secrets: the same Secrets, read in the same namespace.
                if !iv.registrySecrets.isEmpty {
                    spec["credentials"] = ["secrets": .array(iv.registrySecrets.map { .string($0.name) })]
                }
                if !p.background { spec["evaluation"] = ["background": ["enabled": false]] }
                out.documents.append(["apiVersion": "policies.kyverno.io/v1", "kind": "ImageValidatingPolicy",
                                      "metadata": ["name": .string(name)], "spec": .object(spec)])
            }
        }
        return out
    }

    /// One resource on which a ClusterPolicy's verifyImages rules and their migration disagree.
    public struct Difference: Sendable, CustomStringConvertible {
        /// The resource the two disagree on.
        public var resource: ResourceInfo
        /// What differs (decisions and block messages, or patch paths).
        public var message: String
        public var description: String { "\(resource.kind)/\(resource.namespace.isEmpty ? "" : resource.namespace + "/")\(resource.name): \(message)" }
    }

    /// `migrate --check`: applies the verifyImages rules of `original` and the policies migrated
    /// from it to each resource (one verifier, plan → verify → evaluate for both) and returns every
    /// resource where the decision (blocked or not) or the digest patches differ. Rules that were
    /// not converted are left out of the comparison (they are reported by `migrate`).
    public static func check(_ original: ClusterPolicy, migrated: PolicyLoader.Result, convertedRules: Set<String>, resources: [JSONValue],
                             admission: AdmissionInfo = AdmissionInfo(), verifier: (any ImageVerifier)?) async -> [Difference] {
        var old = original
        old.rules = original.rules.filter { convertedRules.contains($0.name) }
        let oldEngine = PolicyEngine(policies: [old], verifier: verifier)
        let newEngine = PolicyEngine(policies: [], verifier: verifier,
                                     celEngine: CELPolicyEngine(policies: migrated.validatingPolicies, imagePolicies: migrated.imageValidatingPolicies))
        var out: [Difference] = []
        for r in resources {
            let o = await oldEngine.evaluate(r, admission: admission)
            let n = await newEngine.evaluate(r, admission: admission)
            if o.blocked != n.blocked {
                out.append(Difference(resource: ResourceInfo(r), message: "ClusterPolicy \(o.blocked ? "blocks" : "allows"), migrated policies \(n.blocked ? "block" : "allow")"
                                      + (o.blocked ? ": " + o.blockMessage.trimmingCharacters(in: .whitespacesAndNewlines) : "")
                                      + (n.blocked ? ": " + n.blockMessage.trimmingCharacters(in: .whitespacesAndNewlines) : "")))
            } else if !o.blocked && o.patches != n.patches {
                out.append(Difference(resource: ResourceInfo(r), message: "digest patches differ: \(o.patches.map(\.path)) vs \(n.patches.map(\.path))"))
            }
        }
        return out
    }

    /// A validate rule whose only check is a plain `pattern` as a ValidatingPolicy; nil (with a
    /// note) for everything else.
    static func validatingPolicy(_ p: ClusterPolicy, rule: Rule, path: String, resourceRules: [JSONValue],
                                 note: (String, String) -> Void) -> JSONValue? {
        guard let v = rule.validate, let pattern = v.pattern, v.anyPattern == nil, v.deny == nil, v.foreach == nil, v.cel == nil else {
            note(path, "rule \(rule.name): only verifyImages rules and validate rules with a plain pattern are converted")
            return nil
        }
        guard let expression = celCondition("object", pattern.source, depth: 0) else {
            note(path + ".validate.pattern", "the pattern uses anchors, operators or shapes that are not converted to CEL")
            return nil
        }
        let action = v.failureAction ?? p.validationFailureAction
        var spec: [String: JSONValue] = [
            "failurePolicy": .string(p.failurePolicy.rawValue),
            "validationActions": [.string(action == .enforce ? "Deny" : "Audit")],
            "webhookConfiguration": ["timeoutSeconds": .integer(Int64(p.webhookTimeoutSeconds))],
            "matchConstraints": ["resourceRules": .array(resourceRules)],
            "validations": [["expression": .string(expression), "message": .string(v.message ?? "validation failed (\(p.name)/\(rule.name))")]],
        ]
        if !p.background { spec["evaluation"] = ["background": ["enabled": false]] }
        return ["apiVersion": "policies.kyverno.io/v1", "kind": "ValidatingPolicy",
                "metadata": ["name": .string("\(p.name)-\(rule.name)")], "spec": .object(spec)]
    }

    /// A Kyverno pattern as a CEL condition on `x`, for the plain subset: maps of identifier keys
    /// without anchors, one-element lists (every element must match), wildcard strings, numbers,
    /// booleans. Nil for anything else (anchors, operators, `|`/`&`, other shapes).
    static func celCondition(_ x: String, _ pattern: JSONValue, depth: Int) -> String? {
        guard depth < 32 else { return nil }
        switch pattern {
        case .object(let o):
            guard !o.isEmpty else { return nil }
            var parts: [String] = []
            for k in o.keys.sorted() {
                guard let v = o[k], isIdentifier(k) else { return nil }
                guard let inner = celCondition("\(x).\(k)", v, depth: depth + 1) else { return nil }
                parts.append("has(\(x).\(k)) && \(inner)")
            }
            return "(" + parts.joined(separator: " && ") + ")"
        case .array(let a):
            guard a.count == 1, let element = a.first else { return nil }
            let e = "e\(depth)"
            guard let inner = celCondition(e, element, depth: depth + 1) else { return nil }
            return "\(x).all(\(e), \(inner))"
        case .string(let s):
            if s == "*" { return "\(x) != null" }
            guard let regex = globRegex(s) else { return nil }
            return "string(\(x)).matches('\(regex)')"
        case .bool(let b): return "\(x) == \(b)"
        case .integer(let n): return "\(x) == \(n)"
        default: return nil
        }
    }

    static func isIdentifier(_ k: String) -> Bool {
        guard let first = k.utf8.first, first == UInt8(ascii: "_") || (first | 0x20) >= UInt8(ascii: "a") && (first | 0x20) <= UInt8(ascii: "z") else { return false }
        let reserved: Set<String> = ["in", "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
                                     "package", "namespace", "return", "var", "void", "while", "true", "false", "null"]
        return !reserved.contains(k) && k.utf8.allSatisfy { c in
            c == UInt8(ascii: "_") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || ((c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z"))
        }
    }

    /// A Kyverno wildcard string as an anchored RE2 regex without backslashes; nil when the string
    /// may be a Kyverno operator expression (`!`, `<`, `>`, `|`, `&`, ranges) or needs escapes.
    static func globRegex(_ s: String) -> String? {
        if s.isEmpty || s.hasPrefix("!") || s.hasPrefix("<") || s.hasPrefix(">") || s.contains("|") || s.contains("&") { return nil }
        if s.contains("-"), s.split(separator: "-").count == 2, s.allSatisfy({ $0.isNumber || $0 == "-" || $0 == "." || $0 == "!" }) { return nil }
        var out = "^"
        for c in s {
            switch c {
            case "*": out += ".*"
            case "?": out += "."
            case ".", "+", "(", ")", "{", "}", "$": out += "[\(c)]"
            case "^", "\\", "[", "]", "'", "\"": return nil
            default: out.append(c)
            }
        }
        return out + "$"
    }

    /// Kinds of the core (`""`) API group.
    static let coreKinds: Set<String> = ["Pod", "ConfigMap", "Secret", "Service", "ServiceAccount", "Namespace", "Node",
                                         "PersistentVolume", "PersistentVolumeClaim", "ReplicationController", "Endpoints", "Event"]

    /// `match` kinds and operations as `matchConstraints.resourceRules`.
    static func resourceRules(_ m: MatchResources, path: String, note: (String, String) -> Void) -> [JSONValue] {
        var filters = m.any + m.all
        if !m.legacy.isEmpty { filters.append(m.legacy) }
        if !m.all.isEmpty && m.all.count > 1 { note(path + ".all", "several `all` filters are merged as alternatives") }
        var out: [JSONValue] = []
        for f in filters {
            let r = f.resources
            if !r.names.isEmpty || r.name != nil { note(path, "resource names") }
            if !r.namespaces.isEmpty { note(path, "namespaces (use namespaceSelector)") }
            if r.selector != nil || r.namespaceSelector != nil { note(path, "label selectors") }
            if !r.annotations.isEmpty { note(path, "annotations") }
            if !f.userInfo.isEmpty { note(path, "userInfo (roles, clusterRoles, subjects)") }
            let ops = r.operations.isEmpty ? ["CREATE", "UPDATE"] : r.operations
            for k in r.kinds {
                // A kind named without its group: the core group for core kinds (so that autogen
                // covers Pod controllers), any group otherwise (Kyverno matches the kind alone).
                let group = k.group == "*" && coreKinds.contains(k.kind) ? "" : k.group
                if !k.subresource.isEmpty { note(path, "subresource \(k.subresource) of \(k.kind)") }
                out.append(["apiGroups": [.string(group)],
                            "apiVersions": [.string(k.version.isEmpty ? "*" : k.version)],
                            "resources": [.string(k.kind == "*" ? "*" : KubernetesResourceNames.plural(of: k.kind))],
                            "operations": .array(ops.map(JSONValue.string))])
            }
        }
        return out
    }
}
