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
    /// `policies[].rules[].foreachValues`: policy name → rule name → variable → one value per
    /// foreach element (Kyverno CLI).
    public var foreachValues: [String: [String: [String: [JSONValue]]]] = [:]
    /// Whether `configMap` context entries are loaded. The Kyverno CLI loads them only from a
    /// cluster (`kyverno test` with `clusterResources`); otherwise the entry is not loaded at all
    /// and values stand in for it.
    public var configMapEntries = true
    /// Whether `apiCall` context entries are loaded (same rule as `configMapEntries`).
    public var apiCallEntries = true
    /// `apiCall.service` answers by URL: a test's `apiCallResponses` (`{body, statusCode}`).
    public var serviceResponses: [String: JSONValue] = [:]
    /// `--set key=value` variables (`kyverno apply -s`): they win over the values file.
    public var overrides: [String: JSONValue] = [:]

    /// Reads `--set` arguments as Kyverno's CLI does (`variables.parse`): `key=value` pairs
    /// separated by commas, trimmed; pairs without exactly one `=`, with an empty side, naming
    /// `request.object.` or repeating a key are ignored.
    public mutating func readSetArguments(_ args: [String]) {
        for arg in args {
            for variable in arg.split(separator: ",", omittingEmptySubsequences: true) {
                let kv = variable.split(separator: "=", omittingEmptySubsequences: false)
                guard kv.count == 2 else { continue }
                let k = String(kv[0]).trimmingSpaces, v = String(kv[1]).trimmingSpaces
                guard !k.isEmpty, !v.isEmpty, !k.contains("request.object."), overrides[k] == nil else { continue }
                overrides[k] = .string(v)
            }
        }
    }

    public init() {}

    /// The values Kyverno CLI adds to the request context of `policy` on `resource`
    /// (`ComputeVariables`): `globalValues`, then the resource's values, which win; keys sorted.
    public func requestValues(policy: String, resource: JSONValue) -> [(key: String, value: JSONValue)] {
        var merged = global
        let name = resource["metadata"]?["name"]?.stringValue ?? ""
        if let rv = resources[policy]?[name] { merged.merge(rv) { $1 } }
        merged.merge(overrides) { $1 }
        return merged.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// True when nothing is set.
    public var isEmpty: Bool {
        global.isEmpty && overrides.isEmpty && resources.isEmpty && rules.isEmpty && configMaps.isEmpty && apiResources.isEmpty && globalContext.isEmpty
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
    /// The ConfigMap `namespace/name` of a `configMap` context entry when `VariableValues.configMaps`
    /// has none (the webhook: read from the API server); nil: not found.
    func configMap(namespace: String, name: String) throws -> JSONValue?
}

extension ContextDataProvider {
    /// No ConfigMaps beyond `VariableValues.configMaps`.
    public func configMap(namespace: String, name: String) throws -> JSONValue? { nil }
}

extension PolicyEngine {
    /// The variable context for one rule of `policy` on `resource`: request data, values
    /// (global, then the resource's, then the rule's: Kyverno CLI order), then the rule's context
    /// entries in order.
    func variableContext(_ rule: Rule, policy: ClusterPolicy, resource: JSONValue, admission: AdmissionInfo) throws -> VariableContext {
        var ctx = VariableContext(resource: resource, admission: admission)
        let values = configuration.variables
        for (k, v) in values.requestValues(policy: policy.name, resource: resource) { ctx.add(k, v) }
        // the operation values ask for is already the request's (`VariableValues.request`); the
        // old-object pass of allowExistingViolations runs as CREATE (Kyverno `SetOperation`)
        ctx.add("request.operation", .string(admission.operation.rawValue))
        let baseRule = Self.baseRuleName(rule.name)
        if let ruleValues = values.rules[policy.name]?[baseRule] ?? values.rules[policy.name]?[rule.name] {
            for (k, v) in ruleValues.sorted(by: { $0.key < $1.key }) { ctx.add(k, v) }
        }
        // Kyverno CLI `foreachValues`: the store's foreach element index is never advanced, so
        // every key takes its first value
        if let fv = values.foreachValues[policy.name]?[baseRule] ?? values.foreachValues[policy.name]?[rule.name] {
            for (k, list) in fv.sorted(by: { $0.key < $1.key }) { if let first = list.first { ctx.add(k, first) } }
        }
        try loadContext(rule.context, into: &ctx)
        return ctx
    }

    static func baseRuleName(_ n: String) -> String {
        if n.hasPrefix("autogen-cronjob-") { return String(n.dropFirst("autogen-cronjob-".count)) }
        if n.hasPrefix("autogen-") { return String(n.dropFirst("autogen-".count)) }
        return n
    }

    /// Kyverno `LoadContext`: each entry in order, later entries seeing earlier ones. Kyverno
    /// loads entries lazily, so an entry that fails to load is an error only in the queries that
    /// name it (`VariableContext.failedEntries`); entries of a disabled kind are not loaded.
    func loadContext(_ entries: [ContextEntry], into ctx: inout VariableContext) throws {
        for e in entries {
            switch e.source {
            case .configMap where !configuration.variables.configMapEntries: continue
            case .apiCall where !configuration.variables.apiCallEntries: continue
            case .serviceCall where !configuration.variables.apiCallEntries: continue
            // Kyverno CLI: without registry access (`--registry`) imageRegistry entries are not
            // loaded, nor globalReference entries without a global context store
            case .imageRegistry where configuration.contextProvider == nil && configuration.variables.images.isEmpty: continue
            case .globalReference where configuration.variables.globalContext.isEmpty && configuration.contextProvider == nil: continue
            default: break
            }
            do {
                try loadEntry(e, into: &ctx)
            } catch {
                ctx.failedEntries.append((e.name, Self.text(error)))
            }
        }
    }

    /// Loads one entry: `variable` entries replace what the name held (Kyverno
    /// `ReplaceContextEntry`), the others merge into it (`AddContextEntry`).
    func loadEntry(_ e: ContextEntry, into ctx: inout VariableContext) throws {
        let value: JSONValue
        switch e.source {
        case .variable(let raw, let jp, let def):
            // Kyverno variable loader: the jmesPath and the default are substituted first; a
            // value with a jmesPath falls back to the default only when the path fails; a
            // jmesPath alone keeps the default when the query fails or gives null
            var path: String?
            if let jp {
                let sub: JSONValue
                do { sub = try Variables.substitute(string: jp, in: ctx) }
                catch { throw SignetPolicyError(.variableSubstitution, "failed to substitute variables in context entry \(e.name) \(jp): \(Self.text(error))") }
                guard case .string(let p) = sub else { throw SignetPolicyError(.variableSubstitution, "jmespath value must be a string \(e.name) \(jp)") }
                if !p.isEmpty { path = p }
            }
            var defaultValue: JSONValue = .null
            if let def {
                do { defaultValue = try Variables.substitute(def, in: ctx) }
                catch { throw SignetPolicyError(.variableSubstitution, "failed to substitute variables in context entry \(e.name) \(GoFormat.jsonString(def)): \(Self.text(error))") }
            }
            var output = defaultValue
            if let raw {
                let sub: JSONValue
                do { sub = try Variables.substitute(raw, in: ctx) }
                catch { throw SignetPolicyError(.variableSubstitution, "failed to substitute variables in context entry \(e.name) \(GoFormat.jsonString(raw)): \(Self.text(error))") }
                if let path {
                    do { output = try Variables.expressions.expression(path).evaluate(sub) }
                    catch {
                        if defaultValue == .null { throw SignetPolicyError(.variableSubstitution, "failed to apply jmespath \(path) to variable \(GoFormat.jsonString(sub)): \(error)") }
                    }
                } else {
                    output = sub
                }
            } else if let path {
                do {
                    let v = try ctx.query(path)
                    if v != .null { output = v }
                } catch {
                    if defaultValue == .null { throw SignetPolicyError(.variableSubstitution, "failed to apply jmespath \(path) to variable <nil>: \(Self.text(error))") }
                }
            }
            if output == .null { throw SignetPolicyError(.variableNotFound, "failed to add context entry for variable \(e.name) since it evaluated to nil") }
            ctx.set(e.name, output)
            return
        case .configMap(let n, let ns):
            let name = try Variables.substitute(string: n, in: ctx).stringValue ?? n
            let namespace = try Variables.substitute(string: ns, in: ctx).stringValue ?? ns
            // the webhook reads ConfigMaps from the API server (ContextDataProvider.configMap)
            guard let cm = try configuration.variables.configMaps[namespace + "/" + name] ?? configuration.variables.configMaps["/" + name]
                    ?? configuration.contextProvider?.configMap(namespace: namespace, name: name) else {
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
                    v = try Variables.expressions.expression(path).evaluate(v)
                }
            } catch {
                guard let def else { throw SignetPolicyError(.variableSubstitution, "failed to load context entry \(e.name): \(Self.text(error))") }
                v = def
            }
            if v == .null, let def { v = def }
            value = v
        case .serviceCall(let u, _, _, let jp, let def):
            let url = try Variables.substitute(string: u, in: ctx).stringValue ?? u
            var v: JSONValue
            do {
                guard let mock = configuration.variables.serviceResponses[url] else {
                    throw SignetPolicyError(.unsupported, "external service call to \(url): signet answers service calls only from a test's apiCallResponses")
                }
                let status = mock["statusCode"]?.doubleValue ?? 200
                guard status >= 200, status < 300 else {
                    throw SignetPolicyError(.variableSubstitution, "HTTP \(Int(exactly: status.rounded()) ?? 0) from \(url)")
                }
                v = mock["body"] ?? .null
                if let jp {
                    let path = try Variables.substitute(string: jp, in: ctx).stringValue ?? jp
                    v = try Variables.expressions.expression(path).evaluate(v)
                }
            } catch {
                guard let def else { throw SignetPolicyError(.variableSubstitution, "failed to load context entry \(e.name): \(Self.text(error))") }
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
                v = try Variables.expressions.expression(path).evaluate(v)
            }
            value = v
        case .globalReference(let n, let jp):
            guard var v = configuration.variables.globalContext[n] else {
                throw SignetPolicyError(.variableNotFound, "failed to load context entry \(e.name): global context entry \(n) not found")
            }
            if let jp {
                let path = try Variables.substitute(string: jp, in: ctx).stringValue ?? jp
                v = try Variables.expressions.expression(path).evaluate(v)
            }
            value = v
        }
        ctx.merge(e.name, value)
    }

    /// Kyverno `MatchesException`: an exception's `conditions` are evaluated on the request
    /// context (no rule context entries); an error does not apply the exception.
    func exceptionConditionsHold(_ e: PolicyException, resource: JSONValue?, admission: AdmissionInfo?) -> Bool {
        guard let c = e.conditions else { return true }
        guard let resource, let admission else { return false }
        let ctx = VariableContext(resource: resource, admission: admission)
        return (try? c.evaluate(in: ctx).holds) ?? false
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
                let (denied, msgs) = deny.any == nil && deny.all == nil ? (true, []) : try deny.evaluate(in: ctx)
                if !denied { return result(.pass, rp.passMessage) }
                return result(.fail, denyMessage(rule, v, msgs, ctx))
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

    /// Kyverno `getDenyMessage`: the rule's message and the messages of the conditions that
    /// held, joined by `; ` and substituted; neither: `validation error: rule NAME failed`.
    func denyMessage(_ rule: Rule, _ v: Validation, _ conditionMessages: [String], _ ctx: VariableContext) -> String {
        let msg = conditionMessages.filter { !$0.isEmpty }.joined(separator: "; ")
        let ruleMessage = v.message ?? ""
        if ruleMessage.isEmpty && msg.isEmpty { return "validation error: rule \(rule.name) failed" }
        let joined = [ruleMessage, msg].filter { !$0.isEmpty }.joined(separator: "; ")
        guard let s = try? Variables.substitute(string: joined, in: ctx) else { return msg }
        if case .string(let t) = s { return t }
        return "the produced message didn't resolve to a string, check your policy definition."
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
