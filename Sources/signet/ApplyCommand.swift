import ArgumentParser
import Foundation
import SignetPolicy
import SignetPrimitives

/// `signet apply POLICY... --resource R...`: applies Kyverno policies to resource files and prints
/// failures and counts like `kyverno apply` (exit 1 on violations or errors).
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Apply Kyverno policies to resources.")

    @OptionGroup(title: "Image verification") var verification: ImageVerifierOptions

    @Argument(help: "Policy files or directories.")
    var policies: [String]

    @Option(name: [.customShort("r"), .long], parsing: .upToNextOption, help: "Resource files.")
    var resource: [String] = []

    @Option(name: [.customShort("u"), .long], help: "User info file (cli.kyverno.io/v1alpha1 UserInfo).")
    var userinfo: String?

    @Option(name: [.customShort("f"), .customLong("values-file")], help: "Values file (cli.kyverno.io/v1alpha1 Values: globalValues, policies[].resources[].values, policies[].rules[].values, namespaceSelector, namespaces, subresources).")
    var valuesFile: String?

    @Option(name: [.customShort("s"), .customLong("set")], parsing: .upToNextOption, help: "Variables as KEY=VALUE (comma-separated allowed); they win over the values file.")
    var set: [String] = []

    @Option(name: [.customShort("e"), .customLong("exception")], parsing: .upToNextOption, help: "PolicyException files.")
    var exceptions: [String] = []

    @Option(name: .customLong("secret"), help: "Public key file for a keys.secret attestor, as NAMESPACE/NAME=FILE (FILE may be a directory holding cosign.pub).")
    var secrets: [String] = []

    @Option(name: .customLong("json-payload"), parsing: .upToNextOption, help: "JSON documents to validate with JSON-mode ValidatingPolicies (evaluation.mode: JSON).")
    var jsonPayload: [String] = []

    @Option(name: .customLong("envoy-payload"), parsing: .upToNextOption, help: "Envoy CheckRequest files (JSON) to authorize with Envoy-mode ValidatingPolicies (evaluation.mode: Envoy).")
    var envoyPayload: [String] = []

    @Option(name: .customLong("http-payload"), parsing: .upToNextOption, help: "HTTP CheckRequest files (JSON) to authorize with HTTP-mode ValidatingPolicies (evaluation.mode: HTTP).")
    var httpPayload: [String] = []

    @Flag(help: "Report Audit failures as warnings.")
    var auditWarn = false

    @Flag(help: "Treat fields Signet does not implement as errors.")
    var strict = false

    @Option(help: .hidden)
    var benchmark: Int?

    func run() async throws {
        guard !resource.isEmpty || !jsonPayload.isEmpty || !envoyPayload.isEmpty || !httpPayload.isEmpty else { throw CLIError("resource file(s) or cluster required") }
        let loader = PolicyLoader(strict: strict)
        var loaded: [ClusterPolicy] = []
        var celPolicies: [ValidatingPolicy] = [], celBindings: [ValidatingAdmissionPolicyBinding] = [], celExceptions: [CELPolicyException] = []
        var imagePolicies: [ImageValidatingPolicy] = []
        for p in policies {
            let r = try loader.load(path: p)
            loaded += r.policies
            celPolicies += r.validatingPolicies
            celBindings += r.admissionPolicyBindings
            celExceptions += r.celExceptions
            imagePolicies += r.imageValidatingPolicies
            for d in r.diagnostics { print(d) }
        }
        let celEngine = celPolicies.isEmpty && imagePolicies.isEmpty ? nil
            : CELPolicyEngine(policies: celPolicies, bindings: celBindings, exceptions: celExceptions, imagePolicies: imagePolicies)
        for d in celPolicies.flatMap({ $0.diagnostics }) + imagePolicies.flatMap({ $0.diagnostics }) + (celEngine?.diagnostics ?? []) { FileHandle.standardError.write(Data("\(d)\n".utf8)) }
        var valid: [ClusterPolicy] = []
        var skipped: [(String, String)] = []
        for p in loaded {
            for d in p.diagnostics where d.severity == .warning { FileHandle.standardError.write(Data("\(d)\n".utf8)) }
            if p.isInvalid { skipped.append((p.name, p.diagnostics.filter { $0.severity == .error }.map(\.description).joined(separator: "; "))) }
            else { valid.append(p) }
        }
        if loaded.isEmpty && celPolicies.isEmpty && imagePolicies.isEmpty { throw CLIError("require policy") }

        var resources: [JSONValue] = []
        for path in resource {
            for d in try YAMLDocuments.load(path: path) {
                if d["kind"]?.stringValue?.hasSuffix("List") == true { resources += d["items"]?.arrayValue ?? [] } else { resources.append(d) }
            }
        }
        var admission = AdmissionInfo()
        if let u = userinfo, let ui = try YAMLDocuments.load(path: u).first {
            admission.roles = ui["roles"]?.arrayValue?.compactMap(\.stringValue) ?? []
            admission.clusterRoles = ui["clusterRoles"]?.arrayValue?.compactMap(\.stringValue) ?? []
            admission.username = ui["userInfo"]?["username"]?.stringValue ?? ""
            admission.groups = ui["userInfo"]?["groups"]?.arrayValue?.compactMap(\.stringValue) ?? []
        }
        var values = KyvernoValuesFile()
        if let v = valuesFile {
            do { values = try KyvernoValuesFile(documents: try YAMLDocuments.load(path: v)) }
            catch { throw CLIError("\(v): \(error)") }
            if let op = values.operation { admission.operation = op }
        }
        values.variables.readSetArguments(set)
        if let op = values.variables.overrides["request.operation"]?.stringValue {
            guard let parsed = AdmissionOperation(rawValue: op) else { throw CLIError("--set request.operation must be CREATE, UPDATE, DELETE or CONNECT, not '\(op)'") }
            admission.operation = parsed
        }
        // no cluster: configMap and apiCall context entries are not loaded (values stand in)
        values.variables.configMapEntries = false
        values.variables.apiCallEntries = false
        let nsLabels = values.namespaceLabels
        var exc: [PolicyException] = []
        for e in exceptions {
            for d in try YAMLDocuments.load(path: e) { if let x = PolicyException(document: d, strict: strict) { exc.append(x) } }
        }
        var secretKeys: [String: String] = [:]
        for s in secrets {
            guard let eq = s.firstIndex(of: "=") else { throw CLIError("--secret expects NAMESPACE/NAME=FILE, got \(s)") }
            let id = String(s[..<eq])
            var file = String(s[s.index(after: eq)...])
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: file, isDirectory: &isDir), isDir.boolValue { file = (file as NSString).appendingPathComponent("cosign.pub") }
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            secretKeys[id] = String(decoding: data, as: UTF8.self)
        }
        var configuration = PolicyEngine.Configuration(secretKeys: secretKeys)
        configuration.variables = values.variables
        // no cluster: `authorizer` checks are answered as Kyverno's CLI answers them (denied, errored)
        configuration.cel.data.authorizer = OfflineKubernetesAuthorizer()
        let engine = PolicyEngine(policies: valid, exceptions: exc, verifier: try verification.makeVerifier(resources: resources),
                                  configuration: configuration, celEngine: celEngine)

        for (name, reason) in skipped {
            print("\nPolicies Skipped (as required variables are not provided by the user):")
            print("1. \(name): \(reason)")
        }
        let ruleCount = valid.reduce(0) { $0 + $1.effectiveRules.count }
        if exc.isEmpty {
            print("\nApplying \(ruleCount) policy rule(s) to \(resources.count) resource(s)...")
        } else {
            print("\nApplying \(ruleCount) policy rule(s) to \(resources.count) resource(s) with \(exc.count) exception(s)...")
        }
        if let n = benchmark {
            // policy evaluations per second of the validate rules, per resource (single thread)
            for res in resources {
                let info = ResourceInfo(res)
                var a = admission
                a.namespaceLabels = nsLabels[info.namespace] ?? [:]
                let start = ContinuousClock.now
                let results = engine.benchmarkValidate(res, admission: a, iterations: n)
                let secs = (ContinuousClock.now - start) / .seconds(1)
                print("\(info.kind)/\(info.name): \(n) evaluations of \(valid.count) policies in \(String(format: "%.3f", secs)) s: \(Int(Double(n) / secs)) resource evaluations/s, \(Int(Double(n * valid.count) / secs)) policy evaluations/s (\(results) rule results)")
            }
            return
        }
        var pass = 0, fail = 0, warn = 0, error = 0, skip = 0
        var responses: [(ResourceInfo, EngineResponse)] = []
        // image data (`imageRegistry`, `image.GetMetadata`) is fetched before each evaluation
        let imageData = engine.needsImageData ? try verification.makeImageDataProvider() : nil
        for res in resources {
            let info = ResourceInfo(res)
            let a = values.admission(for: res, base: admission)
            // policies whose values change the request (operation, request.object) see their own
            var response = EngineResponse(resource: info, policies: [])
            for request in engine.valuesRequests(for: res, admission: a) {
                response.policies += await request.engine.withImageData(for: request.resource, provider: imageData).evaluate(request.resource, admission: request.admission).policies
            }
            responses.append((info, response))
        }
        for path in jsonPayload {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
            let payload = try JSONValue(json: data)
            responses.append((ResourceInfo(["kind": "", "metadata": ["name": .string(path)]]),
                              EngineResponse(resource: ResourceInfo(payload), policies: celEngine?.evaluate(jsonPayload: payload) ?? [])))
        }
        for (paths, kind) in [(envoyPayload, KyvernoAuthzLibrary.PayloadKind.envoy), (httpPayload, .http)] {
            for path in paths {
                guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
                let payload = try JSONValue(json: data)
                responses.append((ResourceInfo(["kind": "", "metadata": ["name": .string(path)]]),
                                  EngineResponse(resource: ResourceInfo(.object([:])), policies: celEngine?.evaluate(authzPayload: payload, kind: kind) ?? [])))
            }
        }
        for (info, response) in responses {
            for p in response.policies {
                // CEL `auditAnnotations` (Kyverno reports them as the result's properties)
                for r in p.rules {
                    for (key, value) in r.auditAnnotations.sorted(by: { $0.key < $1.key }) { print("audit annotation \(p.policy)/\(key) on \(info.namespace)/\(info.kind)/\(info.name): \(value)") }
                }
                var failed: [RuleResult] = []
                var audit = false
                for r in p.rules {
                    switch r.status {
                    case .pass: pass += 1
                    case .fail:
                        if auditWarn && r.failureAction == .audit { warn += 1; audit = true } else { fail += 1 }
                        failed.append(r)
                    case .warn: warn += 1
                    case .error: error += 1
                    case .skip: skip += 1
                    }
                }
                if !failed.isEmpty {
                    let resPath = "\(info.namespace)/\(info.kind)/\(info.name)"
                    print("policy \(p.policy) -> resource \(resPath) failed\(audit ? " as audit warning" : ""):")
                    for (i, r) in failed.enumerated() { print("\(i + 1) - \(r.rule) \(r.message.isEmpty ? "validation failed" : r.message)") }
                }
                for r in p.rules where r.status == .error {
                    print("error: policy \(p.policy) rule \(r.rule): \(r.message)")
                }
            }
        }
        print("\npass: \(pass), fail: \(fail), warn: \(warn), error: \(error), skip: \(skip) ")
        if fail > 0 { throw CLIError("exit as there are policy violations") }
        if error > 0 { throw CLIError("exit as there are policy errors") }
    }
}
