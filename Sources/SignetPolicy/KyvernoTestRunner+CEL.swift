import Foundation
import SignetPrimitives

extension KyvernoTestRunner {
    /// Test-file fields the CEL policy kinds read (`cli.kyverno.io/v1alpha1` Test).
    static let celTestFields: Set<String> = ["context", "clusterResources", "paramResources", "jsonPayload", "jsonPayloads",
                                              "globalContextEntries", "apiCallResponses", "envoyPayloads", "httpPayloads"]

    /// Whether a resource chosen by name also has the result's `kind` (when the result names one).
    static func kindMatches(_ expected: JSONValue, _ key: [String]) -> Bool {
        guard let kind = expected["kind"]?.stringValue, !kind.isEmpty, key.count > 1 else { return true }
        return key[1] == kind
    }

    /// The CEL side of one test: policies, bindings, exceptions and the cluster data from the test file.
    struct CELInputs {
        var policies: [ValidatingPolicy] = []
        var bindings: [ValidatingAdmissionPolicyBinding] = []
        var exceptions: [CELPolicyException] = []
        /// ImageValidatingPolicies (results named with `isImageValidatingPolicy`).
        var imagePolicies: [ImageValidatingPolicy] = []
        var data = KyvernoCELData()
        var paramResources: [JSONValue] = []
        /// Namespace objects from the values file, by name (for `namespaceObject`).
        var namespaces: [String: JSONValue] = [:]
        var payloads: [(name: String, value: JSONValue)] = []
        /// `envoyPayloads` / `httpPayloads`: authorization requests for Envoy / HTTP-mode policies.
        var authzPayloads: [(name: String, kind: KyvernoAuthzLibrary.PayloadKind, value: JSONValue)] = []
        var engine: CELPolicyEngine?

        mutating func add(_ r: PolicyLoader.Result) {
            policies += r.validatingPolicies
            imagePolicies += r.imageValidatingPolicies
            bindings += r.admissionPolicyBindings
            exceptions += r.celExceptions
        }

        /// Reads `context`, `clusterResources`, `paramResources`, `globalContextEntries`,
        /// `apiCallResponses`, `jsonPayload(s)` and namespaces from values documents.
        mutating func load(test doc: [String: JSONValue], values: [JSONValue], directory dir: String, fileSystem: any TestFileSystem) throws {
            func docs(_ path: String) throws -> [JSONValue] {
                var out: [JSONValue] = []
                for d in try YAMLDocuments.parse(try fileSystem.read(KyvernoTestRunner.resolve(path, in: dir))) {
                    if d["kind"]?.stringValue?.hasSuffix("List") == true { out += d["items"]?.arrayValue ?? [] } else { out.append(d) }
                }
                return out
            }
            func paths(_ key: String) -> [String] {
                if let s = doc[key]?.stringValue { return [s] }
                return doc[key]?.arrayValue?.compactMap(\.stringValue) ?? []
            }
            for p in paths("context") {
                for d in try docs(p) {
                    data.resources += (d["spec"]?["resources"]?.arrayValue ?? []).map(KyvernoTestRunner.cliNormalize)
                    data.images.merge(KyvernoTestRunner.contextImages(d), uniquingKeysWith: { _, new in new })
                }
            }
            // no cluster: `authorizer` checks are answered as Kyverno's CLI answers them
            data.authorizer = OfflineKubernetesAuthorizer()
            for p in paths("clusterResources") {
                for d in try docs(p) {
                    // a `cli.kyverno.io` ClusterResource document wraps its objects in `spec.resources`
                    if d["apiVersion"]?.stringValue?.hasPrefix("cli.kyverno.io/") == true {
                        data.resources += (d["spec"]?["resources"]?.arrayValue ?? []).map(KyvernoTestRunner.cliNormalize)
                    } else {
                        data.resources.append(KyvernoTestRunner.cliNormalize(d))
                    }
                }
            }
            for p in paths("paramResources") { paramResources += try docs(p).map(KyvernoTestRunner.cliNormalize) }
            for e in doc["globalContextEntries"]?.arrayValue ?? [] {
                guard let name = e["name"]?.stringValue else { continue }
                var value: JSONValue = e["data"] ?? .null
                if let inline = e["resources"]?.arrayValue { value = .array(inline) }
                for f in e["resourceFiles"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                    value = .array((value.arrayValue ?? []) + (try docs(f)))
                }
                var projections: [String: String] = [:]
                for p in e["projections"]?.arrayValue ?? [] {
                    if let n = p["name"]?.stringValue, let path = p["path"]?.stringValue { projections[n] = path }
                }
                if !projections.isEmpty {
                    // Get(name, "") returns the projected entry: projection name → value at its path
                    var projected: [String: JSONValue] = [:]
                    for (n, path) in projections {
                        var v: JSONValue? = value
                        for part in path.split(separator: ".") { v = v?[String(part)] }
                        projected[n] = v ?? .null
                    }
                    value = .object(projected)
                    projections = Dictionary(uniqueKeysWithValues: projections.keys.map { ($0, $0) })
                }
                data.globalContext[name] = .init(data: value, projections: projections)
            }
            if let calls = doc["apiCallResponses"]?.arrayValue {
                var responses: [String: JSONValue] = [:]
                for c in calls { if let u = c["url"]?.stringValue { responses[u] = c["response"] ?? .null } }
                data.httpResponses = responses
            }
            for p in paths("jsonPayload") + paths("jsonPayloads") {
                let text = try fileSystem.read(KyvernoTestRunner.resolve(p, in: dir))
                let value: JSONValue
                if let j = try? JSONValue(json: text) { value = j } else { value = try YAMLDocuments.parse(text).first ?? .null }
                payloads.append(((p as NSString).lastPathComponent, value))
            }
            for (key, kind) in [("envoyPayloads", KyvernoAuthzLibrary.PayloadKind.envoy), ("httpPayloads", .http)] {
                for p in paths(key) {
                    // one JSON request per file (Kyverno: protojson / encoding/json)
                    let value = try JSONValue(json: try fileSystem.read(KyvernoTestRunner.resolve(p, in: dir)))
                    authzPayloads.append(((p as NSString).lastPathComponent, kind, value))
                }
            }
            for vd in values {
                for ns in vd["namespaces"]?.arrayValue ?? [] {
                    if let n = ns["metadata"]?["name"]?.stringValue { namespaces[n] = ns }
                }
            }
            if !policies.isEmpty || !imagePolicies.isEmpty {
                engine = CELPolicyEngine(policies: policies, bindings: bindings, exceptions: exceptions, imagePolicies: imagePolicies)
            }
        }

        /// `engine` with the CEL policies and the cluster data attached for `resource`.
        func attach(_ base: PolicyEngine, for resource: JSONValue) -> PolicyEngine {
            guard let engine else { return base }
            let ns = ResourceInfo(resource).namespace
            return base.with(celEngine: engine, cel: CELRequestContext(data: data, namespaceObject: namespaces[ns], paramResources: paramResources))
        }

        /// Responses for the JSON payloads (keyed by file name, as the tests name them).
        func payloadResponses() -> [(key: [String], response: EngineResponse)] {
            guard let engine else { return [] }
            return payloads.map { p in
                let results = engine.evaluate(jsonPayload: p.value, context: CELRequestContext(data: data))
                return (["", "", "", p.name], EngineResponse(resource: ResourceInfo(.object([:])), policies: results))
            } + authzPayloads.map { p in
                let results = engine.evaluate(authzPayload: p.value, kind: p.kind, context: CELRequestContext(data: data))
                return (["", "", "", p.name], EngineResponse(resource: ResourceInfo(.object([:])), policies: results))
            }
        }
    }
}
