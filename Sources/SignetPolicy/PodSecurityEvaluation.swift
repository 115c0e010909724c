import SignetPrimitives

/// Evaluation of `validate.podSecurity` as Kyverno's `pkg/pss` and its validate-PSS handler do:
/// the pod (a Pod, or the template of a Pod controller) is checked at the rule's level and
/// version, then the rule's `exclude` entries (and a PolicyException's `podSecurity` entries)
/// remove the violations they cover.
public enum PodSecurity {
    /// Kinds whose pod template Kyverno checks (`getSpec`), beside `Pod`.
    static let templateKinds: Set<String> = ["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController"]

    /// Cost budget of the exclusion matching (field-error comparisons) for one evaluation.
    static let comparisonBudget = 1_000_000

    /// The outcome of a Pod Security evaluation.
    public struct Evaluation: Sendable, Hashable {
        /// The failed checks left after exclusions, in check order.
        public var failures: [PodSecurityCheckFailure]
        public var allowed: Bool { failures.isEmpty }
    }

    /// The pod a resource describes (Kyverno `getSpec`): a Pod's metadata and spec; a controller's
    /// `spec.template`; a CronJob's `spec.jobTemplate.spec.template.spec` with the job template's
    /// metadata. Nil for other kinds.
    static func pod(of resource: JSONValue) -> PSSPod? {
        let kind = resource["kind"]?.stringValue ?? ""
        // The same kinds and spec locations as the standard image extractors.
        guard let specPath = KyvernoImage.podSpecPath(ofKind: kind) else { return nil }
        // The metadata beside the spec, except a CronJob's: the job template's.
        let metadataPath = kind == "CronJob" ? ["spec", "jobTemplate", "metadata"] : specPath.dropLast() + ["metadata"]
        return PSSPod(metadata: resource.value(at: metadataPath)?.objectValue ?? [:], spec: resource.value(at: specPath)?.objectValue ?? [:])
    }

    /// Evaluates `resource` (Pod or Pod controller) against `rule`, then applies `exceptionExclusions`
    /// (from PolicyExceptions) when the pod fails. Throws when the resource carries no pod or the
    /// evaluation exceeds its budget.
    public static func evaluate(_ rule: PodSecurityRule, resource: JSONValue, exceptionExclusions: [PodSecurityExclusion] = []) throws(SignetPolicyError) -> Evaluation {
        guard let pod = pod(of: resource) else {
            throw SignetPolicyError(.podSecurity, "could not find correct resource type")
        }
        var budget = comparisonBudget
        var failures = PSS.evaluate(level: rule.level, version: rule.version, pod: pod)
        if !rule.exclude.isEmpty {
            failures = try exclude(rule.exclude, from: failures, rule: rule, pod: pod, budget: &budget)
        }
        if !failures.isEmpty && !exceptionExclusions.isEmpty {
            failures = try exclude(exceptionExclusions, from: failures, rule: rule, pod: pod, budget: &budget)
        }
        return Evaluation(failures: failures)
    }

    /// Kyverno `ApplyPodSecurityExclusion`: each exclusion evaluates a pod made of what it
    /// selects (pod-level: the pod with one empty container; container-level: the containers
    /// whose image matches) and removes, from `failures`, the field errors it finds again.
    static func exclude(_ excludes: [PodSecurityExclusion], from failures: [PodSecurityCheckFailure], rule: PodSecurityRule,
                        pod: PSSPod, budget: inout Int) throws(SignetPolicyError) -> [PodSecurityCheckFailure] {
        var current = failures
        for ex in excludes {
            if ex.images.isEmpty {
                var spec = pod.spec
                spec["containers"] = .array([.object(["name": .string("fake")])])
                spec["initContainers"] = nil
                spec["ephemeralContainers"] = nil
                let view = PSSPod(metadata: pod.metadata, spec: spec)
                let found = PSS.evaluate(level: rule.level, version: rule.version, pod: view)
                current = try exempt(current, found, ex, pod: pod, matching: nil, budget: &budget)
            } else {
                var spec: [String: JSONValue] = [:]
                for key in ["containers", "initContainers", "ephemeralContainers"] {
                    let selected = (pod.spec[key]?.arrayValue ?? []).filter { Wildcard.matchAny(ex.images, $0["image"]?.stringValue ?? "") }
                    if !selected.isEmpty { spec[key] = .array(selected) }
                }
                var meta: [String: JSONValue] = [:]
                meta["name"] = pod.metadata["name"]
                meta["namespace"] = pod.metadata["namespace"]
                let matching = PSSPod(metadata: meta, spec: spec)
                let found = PSS.evaluate(level: rule.level, version: rule.version, pod: matching)
                current = try exempt(current, found, ex, pod: pod, matching: matching, budget: &budget)
            }
        }
        return current
    }

    /// Kyverno `exemptExclusions` (the result keeps check order where Kyverno's map does not).
    static func exempt(_ failures: [PodSecurityCheckFailure], _ found: [PodSecurityCheckFailure], _ ex: PodSecurityExclusion,
                       pod: PSSPod, matching: PSSPod?, budget: inout Int) throws(SignetPolicyError) -> [PodSecurityCheckFailure] {
        let ids = Set(PodSecurityExclusion.controlChecks[ex.controlName] ?? [])
        guard !ids.isEmpty else { return failures }
        var byID: [String: PodSecurityCheckFailure] = [:]
        for f in failures { byID[f.id] = f }
        let containerLevel = matching != nil
        // The failures' field shapes and container names, computed once (kept parallel to `errors`).
        var shapes: [String: [(FieldShape, String)]] = [:]
        for id in ids {
            guard let errs = byID[id]?.errors else { continue }
            shapes[id] = errs.map { e in
                let d = FieldShape(e.field, containerLevel: containerLevel)
                return (d, d.isContainer ? containerName(pod, d.index, d.list) : "")
            }
        }
        for result in found where ids.contains(result.id) {
            for exErr in result.errors ?? [] {
                let e = FieldShape(exErr.field, containerLevel: containerLevel)
                let exName = e.isContainer ? containerName(matching, e.index, e.list) : ""
                guard ex.restrictedField.isEmpty || e.generalized == ex.restrictedField else { continue }
                if !ex.values.isEmpty && !exErr.values.allSatisfy({ Wildcard.matchAny(ex.values, $0) }) { continue }
                guard var def = byID[result.id], var errs = def.errors, var shape = shapes[result.id], shape.count == errs.count else { continue }
                var i = 0
                while i < errs.count {
                    budget -= 1
                    if budget < 0 { throw SignetPolicyError(.podSecurity, "pod security exclusions exceed the evaluation budget") }
                    let (d, name) = shape[i]
                    if e.generalized == d.generalized && (!d.isContainer || exName == name) {
                        // Go's `remove`: the last element takes the removed one's place.
                        errs.swapAt(i, errs.count - 1)
                        errs.removeLast()
                        shape.swapAt(i, shape.count - 1)
                        shape.removeLast()
                        break
                    }
                    i += 1
                }
                shapes[result.id] = shape
                if errs.isEmpty { byID[result.id] = nil } else { def.errors = errs; byID[result.id] = def }
            }
        }
        return failures.compactMap { byID[$0.id] }
    }

    /// A field path with its indexes replaced by `*` (Kyverno `parseField` / `regexIndex`).
    struct FieldShape {
        var generalized: String
        /// First index in the path, and the second alphabetic word (`containers`...).
        var index: Int?
        var list: String
        var isContainer: Bool

        init(_ field: String, containerLevel: Bool) {
            var out = "", words: [String] = [], word = "", firstIndex: Int?, digits = ""
            func flushDigits() {
                if !digits.isEmpty {
                    if firstIndex == nil { firstIndex = Int(digits) ?? 0 }
                    out += "*"
                    digits = ""
                }
            }
            for ch in field.unicodeScalars {
                if ch.value >= 0x30 && ch.value <= 0x39 {
                    digits.unicodeScalars.append(ch)
                    if !word.isEmpty { words.append(word); word = "" }
                    continue
                }
                flushDigits()
                out.unicodeScalars.append(ch)
                if (ch.value >= 0x41 && ch.value <= 0x5A) || (ch.value >= 0x61 && ch.value <= 0x7A) { word.unicodeScalars.append(ch) }
                else if !word.isEmpty { words.append(word); word = "" }
            }
            flushDigits()
            if !word.isEmpty { words.append(word) }
            generalized = out
            index = firstIndex
            list = words.count > 1 ? words[1] : ""
            isContainer = containerLevel && ["containers", "initContainers", "ephemeralContainers"].contains(list)
        }
    }

    static func containerName(_ pod: PSSPod?, _ index: Int?, _ list: String) -> String {
        guard let pod, let index, let items = pod.spec[list]?.arrayValue, index >= 0, index < items.count else { return "" }
        return items[index]["name"]?.stringValue ?? ""
    }

    /// Kyverno `convertChecks` + `FormatChecksPrint`: the failures as the rule message prints them,
    /// with fields rewritten to the controller's template.
    public static func format(_ failures: [PodSecurityCheckFailure], kind: String) -> String {
        var b = ""
        for f in failures {
            b += "(Forbidden reason: \(f.reason), field error list: ["
            if let errs = f.errors {
                b += errs.map { e -> String in
                    var e = e
                    if templateKinds.contains(kind) { e.field = e.field.replacing("spec", with: "spec.template.spec") }
                    else if kind == "CronJob" { e.field = e.field.replacing("spec", with: "spec.jobTemplate.spec.template.spec") }
                    e.field = e.field.replacing("metadata", with: "spec.template.metadata")
                    return e.formatted
                }.joined(separator: ", ")
            }
            b += "])"
        }
        return b
    }
}

extension PSS {
    /// Go `%q` for the strings checks quote (printable ASCII kept, the rest escaped).
    static func goQuote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7F {
                    let h = String(u.value, radix: 16)
                    out += "\\x" + (h.count < 2 ? "0" + h : h)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

extension SignetPolicyError.Code {
    /// A Pod Security evaluation that cannot run (no pod in the resource, budget exceeded).
    public static let podSecurity = SignetPolicyError.Code("pod-security")
}
