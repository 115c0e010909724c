import SignetPrimitives

/// Loading of the JMESPath parts of a rule: `preconditions`, `context`, `validate.deny`,
/// `validate.foreach`, and whether the rule needs the variable context.
extension FieldReader {
    static func containsReferences(_ v: JSONValue) -> Bool {
        switch v {
        case .string(let s): return s.contains("$(")
        case .array(let a): return a.contains(where: containsReferences)
        case .object(let o): return o.values.contains(where: containsReferences)
        default: return false
        }
    }

    mutating func conditions(_ v: JSONValue, path: String) -> ConditionBlock {
        var errs: [(String, String)] = []
        let b = ConditionBlock.parse(v, path: path, errors: &errs)
        for (p, m) in errs { error(p, m) }
        return b
    }

    /// Rule-level `preconditions` and `context`; returns reasons that make the rule unsupported.
    mutating func variableFields(_ o: [String: JSONValue], path p: String, into rule: inout Rule) -> [String] {
        var reasons: [String] = []
        if let pc = o["preconditions"], pc != .null {
            rule.preconditions = conditions(pc, path: p + ".preconditions")
            rule.usesVariables = true
        }
        if let c = o["context"], c != .null {
            let (entries, r) = contextEntries(c, path: p + ".context")
            rule.context = entries
            reasons += r
            rule.usesVariables = true
        }
        return reasons
    }

    mutating func contextEntries(_ v: JSONValue, path: String) -> ([ContextEntry], [String]) {
        guard case .array(let a) = v else { error(path, "must be a list"); return ([], []) }
        var out: [ContextEntry] = []
        var reasons: [String] = []
        for (i, e) in a.enumerated() {
            let ep = "\(path)[\(i)]"
            guard case .object(let o) = e else { error(ep, "a context entry must be a map"); continue }
            guard let name = o["name"]?.stringValue, !name.isEmpty else { error(ep + ".name", "a context entry needs a name"); continue }
            if let vo = o["variable"]?.objectValue {
                checkKeys(vo, path: ep + ".variable", known: ["value", "jmesPath", "default"])
                if vo["value"] == nil && vo["jmesPath"] == nil { error(ep + ".variable", "a variable needs a value or a jmesPath") }
                out.append(ContextEntry(name: name, source: .variable(value: vo["value"], jmesPath: vo["jmesPath"]?.stringValue, defaultValue: vo["default"])))
            } else if let co = o["configMap"]?.objectValue {
                checkKeys(co, path: ep + ".configMap", known: ["name", "namespace"])
                out.append(ContextEntry(name: name, source: .configMap(name: co["name"]?.stringValue ?? "", namespace: co["namespace"]?.stringValue ?? "")))
            } else if let ao = o["apiCall"]?.objectValue {
                checkKeys(ao, path: ep + ".apiCall", known: ["urlPath", "method", "data", "jmesPath", "default", "service"])
                var data: JSONValue?
                if let d = ao["data"]?.arrayValue {
                    var m: [String: JSONValue] = [:]
                    for kv in d { if let k = kv["key"]?.stringValue { m[k] = kv["value"] ?? .null } }
                    data = .object(m)
                }
                if let so = ao["service"]?.objectValue {
                    // Kyverno's ServiceCall (url, caBundle, headers): signet answers it from test
                    // mocks only, and says so wherever the policy is loaded.
                    checkKeys(so, path: ep + ".apiCall.service", known: ["url", "caBundle", "headers"])
                    warn(ep + ".apiCall.service", "external service calls are answered only from a test's apiCallResponses; elsewhere the entry fails to load")
                    out.append(ContextEntry(name: name, source: .serviceCall(url: so["url"]?.stringValue ?? "", method: ao["method"]?.stringValue ?? "GET",
                                                                             data: data, jmesPath: ao["jmesPath"]?.stringValue, defaultValue: ao["default"])))
                    continue
                }
                out.append(ContextEntry(name: name, source: .apiCall(urlPath: ao["urlPath"]?.stringValue ?? "", method: ao["method"]?.stringValue ?? "GET",
                                                                     data: data, jmesPath: ao["jmesPath"]?.stringValue, defaultValue: ao["default"])))
            } else if let io = o["imageRegistry"]?.objectValue {
                checkKeys(io, path: ep + ".imageRegistry", known: ["reference", "jmesPath", "imageRegistryCredentials"])
                out.append(ContextEntry(name: name, source: .imageRegistry(reference: io["reference"]?.stringValue ?? "", jmesPath: io["jmesPath"]?.stringValue)))
            } else if let go = o["globalReference"]?.objectValue {
                checkKeys(go, path: ep + ".globalReference", known: ["name", "jmesPath"])
                out.append(ContextEntry(name: name, source: .globalReference(name: go["name"]?.stringValue ?? "", jmesPath: go["jmesPath"]?.stringValue)))
            } else {
                warn(ep, "not supported: unknown context entry type")
                reasons.append("\(ep): unknown context entry type")
            }
        }
        return (out, reasons)
    }

    /// `validate.deny`, `validate.foreach`, and variables in pattern/anyPattern/message.
    mutating func validateVariableFields(_ vo: [String: JSONValue], path vp: String, into v: inout Validation, rule: inout Rule) {
        if let d = vo["deny"] {
            if case .object(let dobj) = d {
                checkKeys(dobj, path: vp + ".deny", known: ["conditions"])
                v.deny = dobj["conditions"].map { conditions($0, path: vp + ".deny.conditions") } ?? ConditionBlock()
            } else if d == .null {
                v.deny = ConditionBlock()
            } else { error(vp + ".deny", "must be a map") }
            rule.usesVariables = true
        }
        if let f = vo["foreach"] {
            v.foreach = foreachList(f, path: vp + ".foreach", depth: 0)
            rule.usesVariables = true
        }
        for k in ["pattern", "anyPattern", "message"] where vo[k].map(Variables.containsVariables) == true {
            rule.usesVariables = true
        }
    }

    mutating func foreachList(_ v: JSONValue, path: String, depth: Int) -> [ForEachValidation] {
        guard depth < 8 else { error(path, "foreach nested too deeply"); return [] }
        guard case .array(let a) = v else { error(path, "must be a list"); return [] }
        var out: [ForEachValidation] = []
        for (i, e) in a.enumerated() {
            let fp = "\(path)[\(i)]"
            guard case .object(let o) = e else { error(fp, "must be a map"); continue }
            checkKeys(o, path: fp, known: ["list", "elementScope", "context", "preconditions", "pattern", "anyPattern", "deny", "foreach"])
            guard let list = o["list"]?.stringValue, !list.isEmpty else { error(fp + ".list", "a foreach needs a list"); continue }
            var f = ForEachValidation(list: list)
            if let es = o["elementScope"], case .bool(let b) = es { f.elementScope = b }
            if let c = o["context"] { f.context = contextEntries(c, path: fp + ".context").0 }
            if let pc = o["preconditions"], pc != .null { f.preconditions = conditions(pc, path: fp + ".preconditions") }
            if let pat = o["pattern"] { checkPattern(pat, path: fp + ".pattern"); f.pattern = pat }
            if let ap = o["anyPattern"] {
                if case .array(let arr) = ap { f.anyPattern = arr } else { error(fp + ".anyPattern", "must be a list") }
            }
            if let d = o["deny"] {
                f.deny = d["conditions"].map { conditions($0, path: fp + ".deny.conditions") } ?? ConditionBlock()
            }
            if let nested = o["foreach"] { f.foreach = foreachList(nested, path: fp + ".foreach", depth: depth + 1) }
            let kinds = ["pattern", "anyPattern", "deny", "foreach"].filter { o[$0] != nil }
            if kinds.count != 1 { error(fp, "a foreach needs exactly one of pattern, anyPattern, deny or foreach") }
            out.append(f)
        }
        return out
    }
}

extension Rule {
    /// Kyverno autogen (`updateGenRuleByte`): variables naming the Pod's `request.object.spec`
    /// and `request.object.metadata` are moved under the controller's template.
    func rewritingVariables(cronJob: Bool) -> Rule {
        guard usesVariables else { return self }
        let tpl = cronJob ? "spec.jobTemplate.spec.template" : "spec.template"
        func f(_ s: String) -> String {
            guard s.contains("request.") else { return s }
            var t = s.replacingAll("request.object.spec", with: "request.object.\(tpl).spec")
            t = t.replacingAll("request.oldObject.spec", with: "request.oldObject.\(tpl).spec")
            t = t.replacingAll("request.object.metadata", with: "request.object.\(tpl).metadata")
            t = t.replacingAll("request.oldObject.metadata", with: "request.oldObject.\(tpl).metadata")
            return t
        }
        var r = self
        r.preconditions = preconditions?.mapStrings(f)
        r.context = context.map { $0.mapStrings(f) }
        if var v = validate {
            v.message = v.message.map(f)
            v.deny = v.deny?.mapStrings(f)
            v.foreach = v.foreach?.map { $0.mapStrings(f) }
            if let p = v.pattern, Variables.containsVariables(p.source) { v.pattern = Pattern(p.source.mapStrings(f)) }
            if let ap = v.anyPattern { v.anyPattern = ap.map { Variables.containsVariables($0.source) ? Pattern($0.source.mapStrings(f)) : $0 } }
            r.validate = v
        }
        return r
    }
}
