import Foundation
import SignetOCI
import SignetPolicy
import SignetVerification
import SignetSigning
import SignetTestSupport
import Synchronization
import Testing
@testable import SignetAdmission
import SignetPrimitives

/// Registry credentials from Kubernetes Secrets (Kyverno #17080, #15120): the Pod's
/// `imagePullSecrets` and an image validating policy's `credentials.secrets`, read through a
/// (fake) API server over HTTPS, used to reach a real docker-registry that wants Basic auth.
@Suite("Registry credentials from Secrets, real registry with htpasswd", .serialized)
struct RegistryCredentialsAdmissionTests {
    static let user = "puller"
    static let password = "s3cret-pull-password"

    /// A `kubernetes.io/dockerconfigjson` Secret granting `registry`.
    static func secret(name: String, namespace: String, registry: String, password: String = password) -> Data {
        let auth = Data("\(user):\(password)".utf8).base64EncodedString()
        let config = #"{"auths":{"\#(registry)":{"auth":"\#(auth)"}}}"#
        let secret: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "data": [".dockerconfigjson": .string(Data(config.utf8).base64EncodedString())],
        ]
        return Data(secret.jsonString.utf8)
    }

    /// A fake API server over HTTPS serving Secrets by path; records what was asked.
    final class SecretsAPI: Sendable {
        let server: TestHTTPServer
        let certificates: WebhookCertificates
        final class Recorder: Sendable { let paths = Mutex<[String]>([]) }
        let recorder = Recorder()

        init(secrets: [String: Data]) throws {
            certificates = try WebhookCertificates.generate(dnsNames: ["127.0.0.1", "localhost"])
            let recorder = self.recorder
            server = try TestHTTPServer(tls: (certificates.certificatePEM, certificates.privateKeyPEM)) { request in
                recorder.paths.withLock { $0.append(request.path) }
                guard request.header("Authorization") == "Bearer sa-token" else { return .json(401, #"{"message":"Unauthorized"}"#) }
                if let body = secrets[request.path] {
                    return TestHTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: body)
                }
                return .json(404, #"{"kind":"Status","message":"secrets not found","reason":"NotFound","code":404}"#)
            }
        }

        var configuration: KubernetesAPIConfiguration {
            KubernetesAPIConfiguration(server: server.baseURL, caCertificatePEM: certificates.caCertificatePEM, token: { "sa-token" })
        }
        var requested: [String] { recorder.paths.withLock { $0 } }
    }

    static func imagePolicy(registry: String, failurePolicy: String = "Ignore", secrets: [String] = []) -> String {
        ImageValidatingPolicyAdmissionTests.policy(registry: registry, validations: ImageValidatingPolicyAdmissionTests.signatures,
                                                   failurePolicy: failurePolicy)
            + (secrets.isEmpty ? "" : "\n  credentials:\n    secrets: [\(secrets.joined(separator: ", "))]\n")
    }

    static func pod(_ image: Reference, namespace: String, pullSecrets: [String]) -> AdmissionRequestBuilder {
        var b = RealRegistryTests.pod("\(image)")
        b.namespace = namespace
        b.imagePullSecrets = pullSecrets
        return b
    }

    /// The Pod's own pull secret reaches the private registry: with it the signed image verifies;
    /// without it (or with a name its namespace does not have) the registry refuses, which is a
    /// verification failure that denies even under failurePolicy Ignore (as Kyverno: only network
    /// errors are rule errors). A success cached for one namespace's secret is not reused for
    /// another namespace's request; the password never appears in an answer.
    @Test(arguments: ["ImageValidatingPolicy", "ClusterPolicy"])
    func podPullSecretsReachThePrivateRegistry(form: String) async throws {
        let setup = try await RealRegistryTests.setUp(auth: .basic(username: Self.user, password: Self.password))
        defer { setup.registry.stop(); setup.bao.stop() }
        let api = try SecretsAPI(secrets: [
            "/api/v1/namespaces/team-a/secrets/regcred": Self.secret(name: "regcred", namespace: "team-a", registry: setup.registry.host),
        ])
        defer { api.server.stop() }
        let policy = form == "ClusterPolicy"
            ? RealRegistryTests.policy(registry: setup.registry.host, failurePolicy: "Ignore")
            : Self.imagePolicy(registry: setup.registry.host)
        // The verifier itself has no credentials: only the Secrets open the registry.
        let (hook, application) = try await TestWebhook.serving([policy],
                                                                 verifier: CosignImageVerifier(client: RegistryClient(), keyProviders: setup.keys),
                                                                 kubernetes: api.configuration)
        let signed = try await RealRegistryTests.push(setup, tag: "signed", sign: true)
        let unsigned = try await RealRegistryTests.push(setup, tag: "unsigned", sign: false)

        let allowed = try await hook.review("/validate", Self.pod(signed, namespace: "team-a", pullSecrets: ["regcred"]))
        #expect(allowed.response?["allowed"] == true, "\(allowed.text)")
        #expect(api.requested.contains("/api/v1/namespaces/team-a/secrets/regcred"))
        // Signed but refused: no pull secret, a secret team-b does not have.
        for (namespace, secrets) in [("team-a", [String]()), ("team-b", ["regcred"])] {
            let denied = try await hook.review("/validate", Self.pod(signed, namespace: namespace, pullSecrets: secrets))
            #expect(denied.response?["allowed"] == false, "\(namespace) \(secrets): \(denied.text)")
            #expect(!denied.text.contains(Self.password))
        }
        // With access, an unsigned image is still denied.
        let unsignedDenied = try await hook.review("/validate", Self.pod(unsigned, namespace: "team-a", pullSecrets: ["regcred"]))
        #expect(unsignedDenied.response?["allowed"] == false, "\(unsignedDenied.text)")
        #expect(!unsignedDenied.text.contains(Self.password))
        // The Secret is read once while fresh (ExpiringCache), the success is cached for team-a's secret.
        let before = api.requested.count
        let again = try await hook.review("/validate", Self.pod(signed, namespace: "team-a", pullSecrets: ["regcred"]))
        #expect(again.response?["allowed"] == true, "\(again.text)")
        #expect(api.requested.count == before)
        #expect((application.controller.verification?.cache.count ?? 0) >= 1)
        await hook.stop()
    }

    /// An image validating policy's `credentials.secrets` (a ClusterPolicy's
    /// `imageRegistryCredentials.secrets`) are read in signet's own namespace (Kyverno: its
    /// namespace); a Pod without pull secrets is then verified.
    @Test(arguments: ["ImageValidatingPolicy", "ClusterPolicy"])
    func policyCredentialSecretsAreReadInSignetsNamespace(form: String) async throws {
        let setup = try await RealRegistryTests.setUp(auth: .basic(username: Self.user, password: Self.password))
        defer { setup.registry.stop(); setup.bao.stop() }
        let api = try SecretsAPI(secrets: [
            "/api/v1/namespaces/signet/secrets/registry-creds": Self.secret(name: "registry-creds", namespace: "signet", registry: setup.registry.host),
        ])
        defer { api.server.stop() }
        let policy = form == "ClusterPolicy"
            ? RealRegistryTests.policy(registry: setup.registry.host).replacingOccurrences(
                of: "\n          attestors:", with: "\n          imageRegistryCredentials:\n            secrets: [registry-creds]\n          attestors:")
            : Self.imagePolicy(registry: setup.registry.host, secrets: ["registry-creds"])
        #expect(policy.contains("secrets: [registry-creds]"))
        let (hook, _) = try await TestWebhook.serving([policy],
                                                      verifier: CosignImageVerifier(client: RegistryClient(), keyProviders: setup.keys),
                                                      kubernetes: api.configuration)
        let signed = try await RealRegistryTests.push(setup, tag: "signed", sign: true)
        let allowed = try await hook.review("/validate", Self.pod(signed, namespace: "team-a", pullSecrets: []))
        #expect(allowed.response?["allowed"] == true, "\(allowed.text)")
        #expect(api.requested == ["/api/v1/namespaces/signet/secrets/registry-creds"])
        await hook.stop()
    }

    /// `signet apply` semantics without an API server: the Secrets come from the resources given.
    @Test func withoutAnAPIServerTheSecretsComeFromTheResources() async throws {
        let setup = try await RealRegistryTests.setUp(auth: .basic(username: Self.user, password: Self.password))
        defer { setup.registry.stop(); setup.bao.stop() }
        let signed = try await RealRegistryTests.push(setup, tag: "signed", sign: true)
        let secret = try JSONValue(json: Self.secret(name: "regcred", namespace: "default", registry: setup.registry.host))
        let loaded = try PolicyLoader().load(yaml: Self.imagePolicy(registry: setup.registry.host, failurePolicy: "Fail"))
        let cel = CELPolicyEngine(policies: [], imagePolicies: loaded.imageValidatingPolicies)
        let secrets = try StaticRegistrySecrets(resources: [secret, RealRegistryTests.pod("x").pod])
        let verifier = CosignImageVerifier(client: RegistryClient(), keyProviders: setup.keys, secrets: secrets)
        let engine = PolicyEngine(policies: [], verifier: verifier, celEngine: cel)
        let with = await engine.evaluate(Self.pod(signed, namespace: "default", pullSecrets: ["regcred"]).pod, admission: AdmissionInfo(operation: .create))
        #expect(!with.blocked, "\(with.blockMessage)")
        let without = await engine.evaluate(Self.pod(signed, namespace: "default", pullSecrets: []).pod, admission: AdmissionInfo(operation: .create))
        #expect(without.blocked)
        #expect(without.policies.first?.rules.first?.status == .fail, "a refused registry is a failure: \(without.policies.first?.rules ?? [])")
    }

    /// `signet test` semantics: the Secrets come from the test case's resources (Kyverno CLI), so
    /// the Pod whose pull secret is among them verifies and the one without is a failure.
    @Test func kyvernoTestCasesReadTheSecretsOfTheirResources() async throws {
        let setup = try await RealRegistryTests.setUp(auth: .basic(username: Self.user, password: Self.password))
        defer { setup.registry.stop(); setup.bao.stop() }
        let signed = try await RealRegistryTests.push(setup, tag: "signed", sign: true)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-test-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.imagePolicy(registry: setup.registry.host, failurePolicy: "Fail").write(to: dir.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        let secret = try JSONValue(json: Self.secret(name: "regcred", namespace: "default", registry: setup.registry.host))
        let with = Self.pod(signed, namespace: "default", pullSecrets: ["regcred"]).pod
        var without = Self.pod(signed, namespace: "default", pullSecrets: []).pod
        if case .object(var o) = without, case .object(var m)? = o["metadata"] { m["name"] = "pod-2"; o["metadata"] = .object(m); without = .object(o) }
        try [secret, with, without].map(\.jsonString).joined(separator: "\n---\n")
            .write(to: dir.appendingPathComponent("resources.yaml"), atomically: true, encoding: .utf8)
        try """
            apiVersion: cli.kyverno.io/v1alpha1
            kind: Test
            metadata: {name: pull-secrets}
            policies: [policy.yaml]
            resources: [resources.yaml]
            results:
            - {isImageValidatingPolicy: true, kind: Pod, policy: check-images, resources: [pod-1], result: pass}
            - {isImageValidatingPolicy: true, kind: Pod, policy: check-images, resources: [pod-2], result: fail}
            """.write(to: dir.appendingPathComponent("kyverno-test.yaml"), atomically: true, encoding: .utf8)
        let runner = KyvernoTestRunner(verifier: CosignImageVerifier(client: RegistryClient(), keyProviders: setup.keys))
        let result = await runner.run(testFile: dir.appendingPathComponent("kyverno-test.yaml").path)
        #expect(result.error == nil, "\(result.error ?? "")")
        #expect(result.passed == 2 && result.failed == 0, "\(result.rows.map { "\($0.resource): \($0.reason) \($0.message)" })")
    }
}

/// Secrets to credentials, without servers.
struct RegistrySecretParsingTests {
    static func secret(type: String, field: String, config: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "Secret", "type": .string(type), "metadata": ["name": "s", "namespace": "ns"],
         "data": .object([field: .string(Data(config.utf8).base64EncodedString())])]
    }

    @Test func dockerConfigJSONAndLegacyDockercfgAreRead() async throws {
        let auth = Data("u:p".utf8).base64EncodedString()
        let json = try #require(try RegistrySecretParser.credentials(ofSecret: Self.secret(
            type: "kubernetes.io/dockerconfigjson", field: ".dockerconfigjson", config: #"{"auths":{"reg.io":{"auth":"\#(auth)"}}}"#), name: "ns/s"))
        #expect(try await json.credential(for: "reg.io") == Credential(username: "u", password: "p"))
        let legacy = try #require(try RegistrySecretParser.credentials(ofSecret: Self.secret(
            type: "kubernetes.io/dockercfg", field: ".dockercfg", config: #"{"https://reg.io":{"auth":"\#(auth)"}}"#), name: "ns/s"))
        #expect(try await legacy.credential(for: "reg.io") == Credential(username: "u", password: "p"))
    }

    /// A tenant's Secret must never make signet run a program: `credsStore`/`credHelpers` are dropped.
    @Test func credentialHelpersOfASecretAreDropped() async throws {
        let store = try #require(try RegistrySecretParser.credentials(ofSecret: Self.secret(
            type: "kubernetes.io/dockerconfigjson", field: ".dockerconfigjson",
            config: #"{"auths":{},"credsStore":"evil","credHelpers":{"reg.io":"evil"}}"#), name: "ns/s"))
        #expect(store.credsStore == nil && store.credHelpers.isEmpty)
        #expect(try await store.credential(for: "reg.io") == nil)
    }

    @Test(arguments: [
        ("kubernetes.io/dockerconfigjson", ".dockerconfigjson", "not json"),
        ("kubernetes.io/dockerconfigjson", ".other", "{}"),
        ("kubernetes.io/dockerconfigjson", ".dockerconfigjson", "{\"auths\":{\"r\":{\"auth\":\"%%%\"}}}"),
    ])
    func junkIsAFailureThatNamesTheSecretButNotItsData(type: String, field: String, config: String) throws {
        let error = #expect(throws: SignetOCIError.self) {
            try RegistrySecretParser.credentials(ofSecret: Self.secret(type: type, field: field, config: config), name: "ns/s")
        }
        #expect(error?.code == .invalidFormat)
        #expect(error?.message.contains("ns/s") == true)
        #expect(VerificationErrors.result(for: try #require(error), image: try Reference(parsing: "r.io/a:1")).status == .notVerified)
    }

    @Test func otherSecretTypesAreSkippedAndHugeConfigsRefused() throws {
        #expect(try RegistrySecretParser.credentials(ofSecret: Self.secret(type: "Opaque", field: ".dockerconfigjson", config: "{}"), name: "ns/s") == nil)
        let huge = #"{"auths":{"r":{"username":"\#(String(repeating: "a", count: 70_000))","password":"p"}}}"#
        #expect(throws: SignetOCIError.self) {
            try RegistrySecretParser.credentials(ofSecret: Self.secret(type: "kubernetes.io/dockerconfigjson", field: ".dockerconfigjson", config: huge), name: "ns/s")
        }
    }

    /// Pull secrets of Pods and Pod templates, in the object's namespace, bounded and validated;
    /// added to a request ahead of the policy's, and part of its identity (so of its cache key).
    @Test func pullSecretsOfPodsAndTemplates() throws {
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d", "namespace": "team-a"],
            "spec": ["template": ["spec": ["imagePullSecrets": [["name": "a"], ["name": "../x"], ["name": "a"], ["name": "b"]]]]],
        ]
        #expect(RegistrySecretReference.imagePullSecrets(of: deployment) == [.init(namespace: "team-a", name: "a"), .init(namespace: "team-a", name: "b")])
        let many: JSONValue = ["kind": "Pod", "metadata": ["namespace": "n"],
                               "spec": ["imagePullSecrets": .array((0..<20).map { ["name": .string("s\($0)")] })]]
        #expect(RegistrySecretReference.imagePullSecrets(of: many).count == RegistrySecretReference.maxPerRequest)
        let request = ImageVerificationRequest(image: "r.io/a:1", reference: try Reference(parsing: "r.io/a:1"), key: .kms("hashivault://k"),
                                               registrySecrets: [.init(namespace: nil, name: "policy")])
        let scoped = request.adding(pullSecrets: [.init(namespace: "team-a", name: "a")])
        #expect(scoped.registrySecrets == [.init(namespace: "team-a", name: "a"), .init(namespace: nil, name: "policy")])
        #expect(scoped != request)
        let digest = try SignetOCI.Digest(parsing: "sha256:" + String(repeating: "a", count: 64))
        #expect(VerificationCacheKey(policy: "p", policyVersion: "1", request: scoped, digest: digest)
                != VerificationCacheKey(policy: "p", policyVersion: "1", request: request, digest: digest))
    }
}
