import Foundation
import SignetPrimitives

/// Where the test runner reads its files from (injected: the library reads nothing on its own).
public protocol TestFileSystem: Sendable {
    /// The text of the file at `path`.
    func read(_ path: String) throws -> String
    /// Every regular file below `directory` (recursive), as full paths.
    func files(below directory: String) throws -> [String]
}

/// The local file system, for the `signet` executable and tests.
public struct LocalFileSystem: TestFileSystem {
    public init() {}
    public func read(_ path: String) throws -> String {
        guard let d = FileManager.default.contents(atPath: path) else { throw SignetPolicyError(.io, "cannot read \(path)") }
        return String(decoding: d, as: UTF8.self)
    }
    public func files(below directory: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) else {
            throw SignetPolicyError(.io, "\(directory) does not exist")
        }
        if !isDir.boolValue { return [directory] }
        guard let e = FileManager.default.enumerator(atPath: directory) else { return [] }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            let full = (directory as NSString).appendingPathComponent(rel)
            var d: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &d), !d.boolValue { out.append(full) }
        }
        return out.sorted()
    }
}

/// Runs `kyverno test` cases (`cli.kyverno.io/v1alpha1` `Test` files) the way the Kyverno CLI
/// counts them: one row per (expected result, resource, matching rule response); a resource the
/// rule did not match counts as passed ("Excluded"); a missing resource or policy fails.
public struct KyvernoTestRunner: Sendable {
    public var fileSystem: any TestFileSystem
    public var fileName: String
    public var strict: Bool
    /// Verifier for verifyImages rules (nil: such rules report an error).
    public var verifier: (any ImageVerifier)?
    /// Reads registry image data for images the test's `context` does not list (nil: none).
    public var imageDataProvider: (any ImageDataProvider)?

    public init(fileSystem: any TestFileSystem = LocalFileSystem(), fileName: String = "kyverno-test.yaml", strict: Bool = false, verifier: (any ImageVerifier)? = nil) {
        self.fileSystem = fileSystem
        self.fileName = fileName
        self.strict = strict
        self.verifier = verifier
    }

    /// One checked expectation.
    public struct Row: Sendable, Hashable {
        public var id: Int
        public var policy: String
        public var rule: String
        public var resource: String
        /// Expected result.
        public var expected: String
        /// Actual result (`pass`/`fail`/`skip`/`error`/`warn`, or `Not found`/`Excluded`).
        public var actual: String
        public var success: Bool
        /// `Ok`, `Excluded`, `Not found`, `Want X, got Y`, `Invalid policy`.
        public var reason: String
        public var message: String
    }

    /// The outcome of one test file.
    public struct CaseResult: Sendable {
        public var path: String
        public var name: String
        public var rows: [Row]
        /// A test that could not run (bad file, missing policy file...). Counts as one failure.
        public var error: String?
        public var diagnostics: [Diagnostic]
        public var passed: Int { rows.filter(\.success).count }
        public var failed: Int { rows.filter { !$0.success }.count + (error == nil ? 0 : 1) }
    }

    /// Finds every test file below `directories` (sorted) and runs them.
    public func run(directories: [String]) async -> [CaseResult] {
        var out: [CaseResult] = []
        for dir in directories {
            let files: [String]
            do { files = try fileSystem.files(below: dir).filter { ($0 as NSString).lastPathComponent == fileName } }
            catch {
                out.append(CaseResult(path: dir, name: dir, rows: [], error: "error loading tests: \(error)", diagnostics: []))
                continue
            }
            for f in files { out.append(await run(testFile: f)) }
        }
        return out
    }

    static func resolve(_ p: String, in dir: String) -> String {
        p.hasPrefix("/") ? p : ((dir as NSString).appendingPathComponent(p) as NSString).standardizingPath
    }

    /// Runs one test file.
    public func run(testFile path: String) async -> CaseResult {
        let dir = (path as NSString).deletingLastPathComponent
        var diags: [Diagnostic] = []
        func failed(_ msg: String, name: String = path) -> CaseResult {
            CaseResult(path: path, name: name, rows: [], error: msg, diagnostics: diags)
        }
        let doc: [String: JSONValue]
        do {
            guard let d = try YAMLDocuments.parse(try fileSystem.read(path)).first?.objectValue else { return failed("empty test file") }
            doc = d
        } catch { return failed("\(error)") }
        let name = doc["metadata"]?["name"]?.stringValue ?? doc["name"]?.stringValue ?? path
        // Kyverno decodes test files strictly and rejects the deprecated schema
        let known: Set<String> = Set<String>(["apiVersion", "kind", "metadata", "policies", "resources", "variables", "userinfo", "results", "exceptions", "values", "targetResources", "checks"]).union(KyvernoTestRunner.celTestFields)
        let unknown = doc.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty { return failed("unknown field(s) in test file: \(unknown.joined(separator: ", "))", name: name) }
        if doc["apiVersion"] == nil || doc["kind"] == nil || doc["name"] != nil {
            return failed("test file \(path) uses a deprecated schema — please migrate to the latest format", name: name)
        }
        if let tr = doc["targetResources"]?.arrayValue, !tr.isEmpty { return failed("targetResources (mutate existing) are not supported", name: name) }

        // values / variables: inline `values` replace the `variables` file (Kyverno CLI
        // `variables.New` reads the file only when there are no inline values)
        var valuesDocs: [JSONValue] = []
        if let inline = doc["values"] {
            valuesDocs.append(inline)
        } else if let v = doc["variables"]?.stringValue {
            do { valuesDocs += try YAMLDocuments.parse(try fileSystem.read(KyvernoTestRunner.resolve(v, in: dir))) }
            catch { return failed("failed to decode yaml (\(error))", name: name) }
        }
        let valuesFile: KyvernoValuesFile
        do { valuesFile = try KyvernoValuesFile(documents: valuesDocs) }
        catch { return failed("\(KyvernoTestRunner.text(error))", name: name) }
        var variableValues = valuesFile.variables
        let operation = valuesFile.operation ?? .create

        // user info
        var admission = AdmissionInfo(operation: operation)
        if let u = doc["userinfo"]?.stringValue {
            do {
                guard let ui = try YAMLDocuments.parse(try fileSystem.read(KyvernoTestRunner.resolve(u, in: dir))).first else { return failed("error: failed to load request info (empty file)", name: name) }
                if ui["apiVersion"] == nil || ui["kind"] == nil {
                    return failed("userInfo file \(u) uses a deprecated schema — please migrate to the latest format", name: name)
                }
                admission.roles = ui["roles"]?.arrayValue?.compactMap(\.stringValue) ?? []
                admission.clusterRoles = ui["clusterRoles"]?.arrayValue?.compactMap(\.stringValue) ?? []
                admission.username = ui["userInfo"]?["username"]?.stringValue ?? ""
                admission.uid = ui["userInfo"]?["uid"]?.stringValue ?? ""
                admission.groups = ui["userInfo"]?["groups"]?.arrayValue?.compactMap(\.stringValue) ?? []
            } catch { return failed("error: failed to load request info (\(error))", name: name) }
        }

        // policies
        let loader = PolicyLoader(strict: strict)
        var policies: [ClusterPolicy] = []
        var celInputs = CELInputs()
        for p in doc["policies"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            do {
                let r = try loader.load(path: KyvernoTestRunner.resolve(p, in: dir))
                policies += r.policies
                celInputs.add(r)
                diags += r.diagnostics
            } catch { return failed("error: failed to load policies (\(error))", name: name) }
        }
        for p in policies { diags += p.diagnostics }

        // resources
        var resources: [JSONValue] = []
        var seen = Set<String>()
        for rp in doc["resources"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            do {
                for d in try YAMLDocuments.parse(try fileSystem.read(KyvernoTestRunner.resolve(rp, in: dir))) {
                    let items: [JSONValue] = (d["kind"]?.stringValue?.hasSuffix("List") == true) ? (d["items"]?.arrayValue ?? []) : [d]
                    for raw in items {
                        let item = KyvernoTestRunner.cliNormalize(raw)
                        let info = ResourceInfo(item)
                        let key = "\(item["apiVersion"]?.stringValue ?? ""),\(info.kind),\(info.namespace),\(info.name)"
                        if seen.insert(key).inserted { resources.append(item) }
                    }
                }
            } catch { return failed("error: failed to load resources (\(error))", name: name) }
        }

        // exceptions
        var exceptions: [PolicyException] = []
        for ep in doc["exceptions"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            do {
                for d in try YAMLDocuments.parse(try fileSystem.read(KyvernoTestRunner.resolve(ep, in: dir))) {
                    if let e = PolicyException(document: d, strict: strict) { exceptions.append(e); diags += e.diagnostics }
                    else if let o = d.objectValue, let e = ValidatingPolicyLoader.exception(from: o, strict: strict) { celInputs.exceptions.append(e); diags += e.diagnostics }
                }
            } catch { return failed("error: failed to load exceptions (\(error))", name: name) }
        }

        do { try celInputs.load(test: doc, values: valuesDocs, directory: dir, fileSystem: fileSystem) }
        catch { return failed("error: failed to load CEL test inputs (\(error))", name: name) }
        if let ce = celInputs.engine { diags += ce.diagnostics + celInputs.policies.flatMap(\.diagnostics) + celInputs.imagePolicies.flatMap(\.diagnostics) }
        variableValues.readTestContext(test: doc, directory: dir, resources: resources, fileSystem: fileSystem)
        // Kyverno CLI: configMap and apiCall entries are loaded only from a cluster
        // (`clusterResources`; apiCall also from `apiCallResponses` mocks), else not at all
        let hasCluster = !(doc["clusterResources"]?.arrayValue ?? []).isEmpty
        variableValues.configMapEntries = hasCluster
        variableValues.apiCallEntries = hasCluster || !(doc["apiCallResponses"]?.arrayValue ?? []).isEmpty
        for call in doc["apiCallResponses"]?.arrayValue ?? [] {
            if let url = call["url"]?.stringValue { variableValues.serviceResponses[url] = call["response"] ?? .null }
        }
        // `globalContextEntries` also answer ClusterPolicy `globalReference` entries (Kyverno CLI)
        for (n, e) in celInputs.data.globalContext where variableValues.globalContext[n] == nil { variableValues.globalContext[n] = e.data }
        var engineConfiguration = PolicyEngine.Configuration()
        engineConfiguration.variables = variableValues
        // registry credential Secrets come from the test's resources (Kyverno CLI); a junk Secret is
        // left out (the registry is then reached with the verifier's own credentials)
        let caseVerifier = (try? (verifier as? any ResourceSecretsVerifier)?.withSecrets(fromResources: resources)) ?? verifier
        let engine = PolicyEngine(policies: policies, exceptions: exceptions, verifier: caseVerifier, configuration: engineConfiguration)
        // evaluate every resource
        var responses: [(key: [String], response: EngineResponse)] = []
        for res in resources {
            let info = ResourceInfo(res)
            let a = valuesFile.admission(for: res, base: admission)
            // policies whose values change the request (operation, request.object) see their own
            var r: EngineResponse?
            for (i, request) in engine.valuesRequests(for: res, admission: a).enumerated() {
                let e = i == 0 ? celInputs.attach(request.engine, for: request.resource) : request.engine
                let one = await e.withImageData(for: request.resource, provider: imageDataProvider).evaluate(request.resource, admission: request.admission)
                if r == nil { r = one } else { r?.policies += one.policies }
            }
            responses.append(([res["apiVersion"]?.stringValue ?? "", info.kind, info.namespace, info.name], r ?? EngineResponse(resource: info, policies: [])))
        }
        responses += celInputs.payloadResponses()

        // compare
        var rows: [Row] = []
        var id = 1
        for expected in doc["results"]?.arrayValue ?? [] {
            let policyRef = expected["policy"]?.stringValue ?? ""
            let policyName = policyRef.split(separator: "/").last.map(String.init) ?? ""
            let rule = expected["rule"]?.stringValue ?? ""
            let want = expected["result"]?.stringValue ?? ""
            var selected: [Int] = []
            if let names = expected["resources"]?.arrayValue?.compactMap(\.stringValue), !names.isEmpty {
                for n in names {
                    let parts = n.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                    for (i, r) in responses.enumerated() {
                        guard KyvernoTestRunner.kindMatches(expected, r.key) else { continue }
                        if parts.count == 1, r.key[3] == n { selected.append(i) }
                        if parts.count == 2, r.key[2] == parts[0], r.key[3] == parts[1] { selected.append(i) }
                    }
                    // Kyverno `printTestResult`: names that match nothing fall back to every
                    // response, so without any resource (cli-more test-context-resource-ivpol,
                    // whose `resources.yaml` does not exist upstream) a result has no row at all.
                    if !responses.isEmpty, !responses.contains(where: { parts.count == 1 ? $0.key[3] == n : ($0.key[2] == parts[0] && $0.key[3] == parts[1]) }) {
                        rows.append(Row(id: id, policy: policyRef, rule: rule, resource: n, expected: want, actual: "Not found", success: false, reason: "Not found", message: "resource \(n) not found"))
                        id += 1
                    }
                }
            } else {
                selected = Array(responses.indices)
            }
            for i in selected {
                let (key, resp) = responses[i]
                let resName = key.joined(separator: "/")
                let pols = resp.policies.filter { $0.policy == policyName }
                if pols.isEmpty {
                    // a policy of a kind signet does not implement is named with its diagnostic
                    let unsupported = diags.first { $0.path.hasSuffix("/" + policyName) && $0.message.hasPrefix("not supported") }
                    let message = unsupported.map { "policy \(policyRef) not evaluated: \($0.path): \($0.message)" } ?? "policy \(policyRef) not found"
                    rows.append(Row(id: id, policy: policyRef, rule: rule, resource: resName, expected: want, actual: "Not found", success: false, reason: unsupported == nil ? "Not found" : "Unsupported kind", message: message))
                    id += 1
                    continue
                }
                for p in pols {
                    if let invalid = p.invalidReason {
                        rows.append(Row(id: id, policy: policyRef, rule: rule, resource: resName, expected: want, actual: "error", success: false, reason: "Invalid policy", message: invalid))
                        id += 1
                        continue
                    }
                    let matching = rule.isEmpty ? p.rules : p.rules.filter { $0.rule == rule || $0.rule == "autogen-" + rule || $0.rule == "autogen-cronjob-" + rule }
                    if matching.isEmpty {
                        rows.append(Row(id: id, policy: policyRef, rule: rule, resource: resName, expected: want, actual: "Excluded", success: true, reason: "Excluded", message: "Excluded"))
                        id += 1
                        continue
                    }
                    for rr in matching {
                        let ok = rr.status.rawValue == want
                        rows.append(Row(id: id, policy: policyRef, rule: rr.rule, resource: resName, expected: want, actual: rr.status.rawValue, success: ok,
                                        reason: ok ? "Ok" : "Want \(want), got \(rr.status.rawValue)", message: rr.message))
                        id += 1
                    }
                }
            }
        }
        return CaseResult(path: path, name: name, rows: rows, error: nil, diagnostics: diags)
    }

    static func text(_ e: any Error) -> String {
        if let p = e as? SignetPolicyError { return p.message }
        return "\(e)"
    }

    /// Kubernetes' built-in cluster-scoped kinds by API group (from discovery data).
    static let clusterScoped: [String: Set<String>] = [
        "": ["Namespace", "Node", "PersistentVolume", "ComponentStatus"],
        "rbac.authorization.k8s.io": ["ClusterRole", "ClusterRoleBinding"],
        "storage.k8s.io": ["StorageClass", "CSIDriver", "CSINode", "VolumeAttachment", "VolumeAttributesClass"],
        "apiextensions.k8s.io": ["CustomResourceDefinition"],
        "admissionregistration.k8s.io": ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"],
        "scheduling.k8s.io": ["PriorityClass"],
        "node.k8s.io": ["RuntimeClass"],
        "apiregistration.k8s.io": ["APIService"],
        "certificates.k8s.io": ["CertificateSigningRequest", "ClusterTrustBundle"],
        "networking.k8s.io": ["IngressClass", "IPAddress", "ServiceCIDR"],
        "flowcontrol.apiserver.k8s.io": ["FlowSchema", "PriorityLevelConfiguration"],
        "authentication.k8s.io": ["TokenReview", "SelfSubjectReview"],
        "authorization.k8s.io": ["SubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview"],
        "resource.k8s.io": ["DeviceClass", "ResourceSlice"],
        "policy": ["PodSecurityPolicy"],
        "kyverno.io": ["ClusterPolicy", "ClusterCleanupPolicy"],
        "policies.kyverno.io": ["ValidatingPolicy", "ImageValidatingPolicy", "MutatingPolicy", "GeneratingPolicy", "DeletingPolicy"],
    ]

    /// What the Kyverno CLI does to a loaded resource: namespaced kinds without a namespace get
    /// `default`; null `labels`/`annotations`/... become empty maps; numbers become float64.
    public static func cliNormalize(_ resource: JSONValue) -> JSONValue {
        guard case .object(var o) = normalizeNilMaps(resource).integersAsNumbers() else { return resource }
        let info = ResourceInfo(resource)
        if info.namespace.isEmpty, !(clusterScoped[info.group]?.contains(info.kind) ?? false), case .object(var md)? = o["metadata"] {
            md["namespace"] = "default"
            o["metadata"] = .object(md)
        }
        return .object(o)
    }

    static func normalizeNilMaps(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, e) in o {
                if e == .null, ["annotations", "labels", "matchLabels", "nodeSelector", "data", "stringData"].contains(k) { out[k] = .object([:]) }
                else { out[k] = normalizeNilMaps(e) }
            }
            return .object(out)
        case .array(let a):
            return .array(a.map { if case .object = $0 { return normalizeNilMaps($0) }; return $0 })
        default: return v
        }
    }

    /// Kyverno's summary line.
    public static func summary(_ results: [CaseResult]) -> String {
        let passed = results.reduce(0) { $0 + $1.passed }
        let failed = results.reduce(0) { $0 + $1.failed }
        return "Test Summary: \(passed) tests passed and \(failed) tests failed"
    }
}
