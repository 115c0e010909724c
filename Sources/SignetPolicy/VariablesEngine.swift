import SignetJMESPath
import SignetPrimitives

/// Values the variables of rules read besides the request: what `kyverno test`'s values file,
/// `signet apply -f` and the webhook's data sources provide. Part of the engine configuration,
/// so evaluation stays a pure function of its inputs.
public struct VariableValues: Sendable {
    /// `globalValues`: dotted keys (`request.operation`) set for every evaluation.
    public var global: [String: JSONValue] = [:]
    /// `policies[].resources[].values`: policy name → resource name → values.
    public var resources: [String: [String: [String: JSONValue]]] = [:]
    /// `policies[].rules[].values`: policy name → rule name → values; they replace the rule's
    /// non-variable context entries (Kyverno CLI semantics).
    public var rules: [String: [String: [String: JSONValue]]] = [:]
    /// ConfigMaps by `namespace/name` (`configMap` context entries).
    public var configMaps: [String: JSONValue] = [:]
    /// Kubernetes objects an `apiCall` can read (test mocks, `signet apply` resources).
    public var apiResources: [JSONValue] = []
    /// `globalReference` data by GlobalContextEntry name.
    public var globalContext: [String: JSONValue] = [:]
    /// `imageRegistry` data by image reference, fetched before evaluation
    /// (`PrefetchedImageData.contextImages`); consulted before `contextProvider`.
    public var images: [String: JSONValue] = [:]

    public init() {}

    /// True when nothing is set.
    public var isEmpty: Bool {
        global.isEmpty && resources.isEmpty && rules.isEmpty && configMaps.isEmpty && apiResources.isEmpty && globalContext.isEmpty
    }
}

/// Answers context entries that need I/O (`apiCall` in `serve`, `imageRegistry`): injected by
/// the executable so the library does no network I/O of its own. Calls are synchronous reads of
/// data the caller fetched or can fetch; errors become rule errors.
public protocol ContextDataProvider: Sendable {
    /// The JSON answer of the Kubernetes API for `urlPath` (`GET`, or `POST` with `data`).
    func apiCall(urlPath: String, method: String, data: JSONValue?) throws -> JSONValue
    /// `{image, resolvedImage, registry, repository, identifier, manifest, configData}` for an image reference.
    func imageData(reference: String) throws -> JSONValue
}

extension PolicyEngine {
    /// The variable context for one rule of `policy` on `resource`: request data, values, then
    /// the rule's context entries in order.
    func variableContext(_ rule: Rule, policy: ClusterPolicy, resource: JSONValue, admission: AdmissionInfo) throws -> VariableContext {
        var ctx = VariableContext(resource: resource, admission: admission)
        let values = configuration.variables
        for (k, v) in values.global.sorted(by: { $0.key < $1.key }) { ctx.add(k, v) }
        let name = resource["metadata"]?["name"]?.stringValue ?? ""
        if let rv = values.resources[policy.name]?[name] {
            for (k, v) in rv.sorted(by: { $0.key < $1.key }) { ctx.add(k, v) }
        }
        let baseRule = Self.baseRuleName(rule.name)
        let ruleValues = values.rules[policy.name]?[baseRule] ?? values.rules[policy.name]?[rule.name]
        if let ruleValues {
            for (k, v) in ruleValues.sorted(by: { $0.key < $1.key }) { ctx.add(k, v) }
        }
        // values named `ENTRY.path` stand for the context entry ENTRY (Kyverno CLI)
        let skip = Set((ruleValues ?? [:]).keys.map { String($0.split(separator: ".").first ?? Substring($0)) })
        ctx.skipEntries = skip
        try loadContext(rule.context, into: &ctx)
        return ctx
    }

    static func baseRuleName(_ n: String) -> String {
        if n.hasPrefix("autogen-cronjob-") { return String(n.dropFirst("autogen-cronjob-".count)) }
        if n.hasPrefix("autogen-") { return String(n.dropFirst("autogen-".count)) }
        return n
    }

    /// Kyverno `LoadContext`: each entry in order, later entries seeing earlier ones.
    func loadContext(_ entries: [ContextEntry], into ctx: inout VariableContext, skip: Set<String> = []) throws {
        for e in entries {
            if skip.contains(e.name) || ctx.skipEntries.contains(e.name), !e.isVariable { continue }
            let value: JSONValue
            switch e.source {
            case .variable(let raw, let jp, let def):
                var v: JSONValue = .null
                var jpResolved: String?
                if let jp { jpResolved = try Variables.substitute(string: jp, in: ctx).stringValue ?? jp }
                if let raw {
                    let sub = try Variables.substitute(raw, in: ctx)
                    if let jpResolved {
                        v = (try? JMESPathExpression(compiling: jpResolved, options: Variables.options).evaluate(sub)) ?? .null
                    } else { v = sub }
                } else if let jpResolved {
                    v = (try? ctx.query(jpResolved)) ?? .null
                }
                if v == .null, let def { v = try Variables.substitute(def, in: ctx) }
                if v == .null { throw SignetPolicyError(.variableNotFound, "failed to add context entry \(e.name): the variable resolved to null") }
                value = v
            case .configMap(let n, let ns):
                let name = try Variables.substitute(string: n, in: ctx).stringValue ?? n
                let namespace = try Variables.substitute(string: ns, in: ctx).stringValue ?? ns
                guard let cm = configuration.variables.configMaps[namespace + "/" + name] ?? configuration.variables.configMaps["/" + name] else {
                    throw SignetPolicyError(.variableNotFound, "failed to load context entry \(e.name): configmap \(namespace)/\(name) not found")
                }
                value = cm
            case .apiCall(let u, let method, let data, let jp, let def):
                let url = try Variables.substitute(string: u, in: ctx).stringValue ?? u
                let body = try data.map { try Variables.substitute($0, in: ctx) }
                var v: JSONValue
                do {
                    if let provider = configuration.contextProvider {
                        v = try provider.apiCall(urlPath: url, method: method, data: body)
                    } else {
                        v = try ContextAPIMock.answer(urlPath: url, resources: configuration.variables.apiResources)
                    }
                    if let jp {
                        let path = try Variables.substitute(string: jp, in: ctx).stringValue ?? jp
                        v = try JMESPathExpression(compiling: path, options: Variables.options).evaluate(v)
                    }
                } catch {
                    guard let def else { throw SignetPolicyError(.variableSubstitution, "failed to load context entry \(e.name): \(error)") }
                    v = def
                }
                if v == .null, let def { v = def }
                value = v
            case .imageRegistry(let r, let jp):
                let ref = try Variables.substitute(string: r, in: ctx).stringValue ?? r
                var v: JSONValue
                if let prefetched = configuration.variables.images[ref] {
                    v = prefetched
                } else if let provider = configuration.contextProvider {
                    v = try provider.imageData(reference: ref)
                } else {
                    throw SignetPolicyError(.unsupported, "failed to load context entry \(e.name): no image registry access is configured")
                }
                if let jp {
                    let path = try Variables.substitute(string: jp, in: ctx).stringValue ?? jp
                    v = try JMESPathExpression(compiling: path, options: Variables.options).evaluate(v)
                }
                value = v
            case .globalReference(let n, let jp):
                guard var v = configuration.variables.globalContext[n] else {
                    throw SignetPolicyError(.variableNotFound, "failed to load context entry \(e.name): global context entry \(n) not found")
                }
                if let jp {
                    let path = try Variables.substitute(string: jp, in: ctx).stringValue ?? jp
                    v = try JMESPathExpression(compiling: path, options: Variables.options).evaluate(v)
                }
                value = v
            }
            ctx.add(e.name, value)
        }
    }

    /// A validate rule that needs variables: context, preconditions, then deny, foreach or the
    /// substituted patterns (Kyverno validator.validate).
    func validateWithVariables(_ rp: RulePlan, _ v: Validation, policy: ClusterPolicy, resource: JSONValue,
                               admission: AdmissionInfo, action: FailureAction) -> RuleResult {
        let rule = rp.rule
        func result(_ s: RuleStatus, _ m: String) -> RuleResult {
            RuleResult(rule: rule.name, type: .validation, status: s, message: m, failureAction: action)
        }
        var ctx: VariableContext
        do { ctx = try variableContext(rule, policy: policy, resource: resource, admission: admission) }
        catch { return result(.error, "failed to load context: \(Self.text(error))") }
        if let pc = rule.preconditions {
            do {
                let (ok, msgs) = try pc.evaluate(in: ctx)
                if !ok { return result(.skip, (["preconditions not met"] + msgs.filter { !$0.isEmpty }).joined(separator: "; ")) }
            } catch { return result(.error, "failed to evaluate preconditions: \(Self.text(error))") }
        }
        if let deny = v.deny {
            do {
                let denied = deny.any == nil && deny.all == nil ? true : try deny.evaluate(in: ctx).holds
                if !denied { return result(.pass, rp.passMessage) }
                guard let m = v.message, !m.isEmpty else { return result(.fail, "validation error: rule \(rule.name) failed") }
                return result(.fail, substitutedMessage(m, ctx))
            } catch { return result(.error, "failed to check deny conditions: \(Self.text(error))") }
        }
        if let fe = v.foreach {
            return validateForEach(fe, rp: rp, v: v, ctx: ctx, resource: resource, action: action)
        }
        var sv = v
        do {
            if let p = v.pattern, Variables.containsVariables(p.source) { sv.pattern = Pattern(try Variables.substitute(p.source, in: ctx)) }
            if let ap = v.anyPattern {
                sv.anyPattern = try ap.map { Variables.containsVariables($0.source) ? Pattern(try Variables.substitute($0.source, in: ctx)) : $0 }
            }
        } catch { return result(.error, "variable substitution failed: \(Self.text(error))") }
        var r = validate(rp, sv, resource: resource, action: action)
        if r.status != .pass, let m = v.message, Variables.containsVariables(m) {
            sv.message = substitutedMessage(m, ctx)
            r = validate(rp, sv, resource: resource, action: action)
        }
        return r
    }

    /// Kyverno: a message that fails to substitute reports why; a non-string result is rejected.
    func substitutedMessage(_ m: String, _ ctx: VariableContext) -> String {
        do {
            let s = try Variables.substitute(string: m, in: ctx)
            if case .string(let t) = s { return t }
            return "the produced message didn't resolve to a string, check your policy definition."
        } catch { return "failed to substitute variables in message: \(Self.text(error))" }
    }

    static func text(_ e: any Error) -> String {
        if let p = e as? SignetPolicyError { return p.message }
        return "\(e)"
    }
}

extension ContextEntry {
    var isVariable: Bool { if case .variable = source { return true }; return false }
}

/// Answers `apiCall` entries from a list of objects, as the Kyverno CLI's fake client does:
/// `/api/v1/namespaces/NS/KIND/NAME`, `/apis/GROUP/VERSION/namespaces/NS/KIND`, cluster-scoped
/// forms, lists as `{apiVersion, kind: XList, items}`.
enum ContextAPIMock {
    static func answer(urlPath: String, resources: [JSONValue]) throws -> JSONValue {
        var parts = urlPath.split(separator: "?").first.map { $0.split(separator: "/").map(String.init) } ?? []
        guard !parts.isEmpty else { throw SignetPolicyError(.variableNotFound, "invalid urlPath \(urlPath)") }
        var group = "", version = ""
        if parts.first == "api", parts.count >= 2 { version = parts[1]; parts.removeFirst(2) }
        else if parts.first == "apis", parts.count >= 3 { group = parts[1]; version = parts[2]; parts.removeFirst(3) }
        else { throw SignetPolicyError(.variableNotFound, "invalid urlPath \(urlPath)") }
        var namespace: String?
        if parts.first == "namespaces", parts.count >= 3 { namespace = parts[1]; parts.removeFirst(2) }
        guard let plural = parts.first else {
            throw SignetPolicyError(.variableNotFound, "invalid urlPath \(urlPath)")
        }
        let name = parts.count >= 2 ? parts[1] : nil
        if plural == "namespaces", namespace == nil, name == nil {
            // fall through to list namespaces
        }
        let apiVersion = group.isEmpty ? version : group + "/" + version
        func pluralOf(_ kind: String) -> String {
            let l = kind.lowercased()
            if l.hasSuffix("s") { return l + "es" }
            if l.hasSuffix("y") { return String(l.dropLast()) + "ies" }
            return l + "s"
        }
        var items: [JSONValue] = []
        var kindName = ""
        for r in resources {
            guard r["apiVersion"]?.stringValue == apiVersion, let kind = r["kind"]?.stringValue, pluralOf(kind) == plural else { continue }
            kindName = kind
            let info = ResourceInfo(r)
            if let namespace, info.namespace != namespace { continue }
            if let name, info.name != name { continue }
            items.append(r)
        }
        if name != nil {
            guard let first = items.first else { throw SignetPolicyError(.variableNotFound, "\(plural) \(name ?? "") not found") }
            return first
        }
        return .object(["apiVersion": .string(apiVersion), "kind": .string(kindName.isEmpty ? "List" : kindName + "List"), "items": .array(items), "metadata": .object([:])])
    }
}

extension VariableValues {
    /// Reads a `cli.kyverno.io` Values document (or a test's inline `values`): `globalValues`,
    /// `policies[].resources[].values`, `policies[].rules[].values`.
    public mutating func read(valuesDocument vd: JSONValue) {
        for (k, v) in vd["globalValues"]?.objectValue ?? [:] { global[k] = v }
        for p in vd["policies"]?.arrayValue ?? [] {
            guard let pn = p["name"]?.stringValue else { continue }
            for r in p["resources"]?.arrayValue ?? [] {
                guard let rn = r["name"]?.stringValue, let vals = r["values"]?.objectValue else { continue }
                resources[pn, default: [:]][rn, default: [:]].merge(vals) { $1 }
            }
            for r in p["rules"]?.arrayValue ?? [] {
                guard let rn = r["name"]?.stringValue, let vals = r["values"]?.objectValue else { continue }
                rules[pn, default: [:]][rn, default: [:]].merge(vals) { $1 }
            }
        }
    }

    /// Reads what a test offers to context entries: ConfigMaps and every object among the
    /// test's resources and its `context` file (`spec.resources`), for `configMap` and `apiCall`.
    public mutating func readTestContext(test: [String: JSONValue], directory: String, resources loaded: [JSONValue], fileSystem: any TestFileSystem) {
        var objects = loaded
        if let c = test["context"]?.stringValue,
           let text = try? fileSystem.read(KyvernoTestRunner.resolve(c, in: directory)),
           let docs = try? YAMLDocuments.parse(text) {
            for d in docs {
                objects += d["spec"]?["resources"]?.arrayValue ?? []
            }
        }
        for f in test["clusterResources"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            guard let text = try? fileSystem.read(KyvernoTestRunner.resolve(f, in: directory)),
                  let docs = try? YAMLDocuments.parse(text) else { continue }
            for d in docs {
                if d["kind"]?.stringValue?.hasSuffix("List") == true { objects += d["items"]?.arrayValue ?? [] }
                else if let inner = d["spec"]?["resources"]?.arrayValue { objects += inner }
                else { objects.append(d) }
            }
        }
        for o in objects {
            apiResources.append(o)
            if o["kind"]?.stringValue == "ConfigMap" {
                let info = ResourceInfo(o)
                configMaps[info.namespace + "/" + info.name] = o
            }
        }
    }
}
