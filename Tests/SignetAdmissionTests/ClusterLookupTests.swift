import AsyncHTTPClient
import Foundation
import NIOCore
import Logging
import SignetPolicy
import SignetTestSupport
import Synchronization
import Testing
@testable import SignetAdmission
import SignetPrimitives

/// Reads a fixture of `Fixtures/kubernetes`.
func kubernetesFixture(_ name: String) throws -> Data {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/kubernetes/\(name)", withExtension: nil))
    return try Data(contentsOf: url)
}

@Suite("Cluster lookups: RBAC roles and namespace labels")
struct ClusterLookupTests {
    static func index() throws -> BindingIndex {
        let rb = try JSONValue(json: try kubernetesFixture("rolebindings.json"))
        let crb = try JSONValue(json: try kubernetesFixture("clusterrolebindings.json"))
        return BindingIndex(roleBindings: rb["items"]?.arrayValue ?? [], clusterRoleBindings: crb["items"]?.arrayValue ?? [])
    }

    struct RolesCase: Sendable, CustomTestStringConvertible {
        var user: String
        var groups: [String]
        var roles: [String]
        var clusterRoles: [String]
        var testDescription: String { "\(user) \(groups)" }
    }

    // Kyverno pkg/userinfo: `NS:ROLE` for Roles, bare names for ClusterRoles; ServiceAccount
    // subjects default to the RoleBinding's namespace and need one in a ClusterRoleBinding.
    static let rolesCases: [RolesCase] = [
        .init(user: "alice", groups: ["system:authenticated"], roles: ["team-a:deployer"], clusterRoles: ["system:discovery"]),
        .init(user: "carol", groups: ["team-a-devs", "platform-admins"], roles: ["team-a:deployer"], clusterRoles: ["cluster-admin"]),
        .init(user: "system:serviceaccount:team-a:ci", groups: [], roles: ["team-b:operator"], clusterRoles: ["deployer", "view"]),
        .init(user: "bob", groups: [], roles: ["team-b:operator"], clusterRoles: []),
        .init(user: "system:serviceaccount:default:no-namespace", groups: [], roles: [], clusterRoles: []),
        .init(user: "mallory", groups: [], roles: [], clusterRoles: []),
    ]

    @Test(arguments: rolesCases)
    func rolesAreNamedAsKyvernoNamesThem(_ c: RolesCase) throws {
        let roles = try Self.index().roles(username: c.user, groups: c.groups)
        #expect(roles.roles == c.roles)
        #expect(roles.clusterRoles == c.clusterRoles)
    }

    /// A fake API server over HTTPS that wants `Bearer <token>` and serves the fixtures.
    final class FakeAPIServer: Sendable {
        let server: TestHTTPServer
        let certificates: WebhookCertificates
        final class Recorder: Sendable {
            let paths = Mutex<[String]>([])
            let forbidRBAC = Mutex(false)
        }
        let recorder = Recorder()

        init(token: String) throws {
            certificates = try WebhookCertificates.generate(dnsNames: ["127.0.0.1", "localhost"])
            let namespace = try kubernetesFixture("namespace-team-a.json")
            let rolebindings = try kubernetesFixture("rolebindings.json")
            let clusterrolebindings = try kubernetesFixture("clusterrolebindings.json")
            let forbidden = try kubernetesFixture("status-forbidden.json")
            let recorder = self.recorder
            server = try TestHTTPServer(tls: (certificates.certificatePEM, certificates.privateKeyPEM)) { request in
                recorder.paths.withLock { $0.append(request.path) }
                guard request.header("Authorization") == "Bearer \(token)" else {
                    return .json(401, #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#)
                }
                switch request.path {
                case "/api/v1/namespaces/team-a":
                    return TestHTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: namespace)
                case "/apis/rbac.authorization.k8s.io/v1/rolebindings":
                    if recorder.forbidRBAC.withLock({ $0 }) { return TestHTTPResponse(status: 403, headers: [("Content-Type", "application/json")], body: forbidden) }
                    return TestHTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: rolebindings)
                case "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings":
                    return TestHTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: clusterrolebindings)
                default:
                    return .json(404, #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces \"nope\" not found","reason":"NotFound","code":404}"#)
                }
            }
        }

        func lookup(token: String, ttl: Duration = .seconds(30)) throws -> KubernetesClusterLookup {
            let client = try KubernetesClient(configuration: KubernetesAPIConfiguration(
                server: server.baseURL, caCertificatePEM: certificates.caCertificatePEM, token: { token }))
            return KubernetesClusterLookup(client: client, ttl: ttl)
        }

        var requested: [String] { recorder.paths.withLock { $0 } }
    }

    @Test func theLookupReadsTheAPIServerOverTLSWithTheBearerTokenAndCaches() async throws {
        let api = try FakeAPIServer(token: "sa-token-1")
        defer { api.server.stop() }
        let lookup = try api.lookup(token: "sa-token-1")

        #expect(try await lookup.namespaceLabels("team-a") == ["kubernetes.io/metadata.name": "team-a", "env": "prod"])
        let roles = try await lookup.roles(username: "alice", groups: ["system:authenticated"])
        #expect(roles == BoundRoles(roles: ["team-a:deployer"], clusterRoles: ["system:discovery"]))
        // Served from the cache: no second GET.
        _ = try await lookup.namespaceLabels("team-a")
        _ = try await lookup.roles(username: "bob", groups: [])
        #expect(api.requested.sorted() == ["/api/v1/namespaces/team-a", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                                           "/apis/rbac.authorization.k8s.io/v1/rolebindings"])

        // A namespace that does not exist, and a name that is not one, are errors.
        await #expect(throws: SignetAdmissionError.self) { try await lookup.namespaceLabels("nope") }
        let invalid = await #expect(throws: SignetAdmissionError.self) { try await lookup.namespaceLabels("../secrets") }
        #expect(invalid?.message.contains("invalid namespace name") == true)
    }

    /// `buildApplication` with `kubernetes:` set, as `serve --kubernetes-api URL` runs it: the
    /// namespaceSelector reads the labels from the (fake) API server over TLS with the token, and
    /// the client is closed by the service group, not by deinit.
    @Test func servedApplicationReadsNamespaceLabelsFromTheAPIServer() async throws {
        let api = try FakeAPIServer(token: "sa-token-1")
        defer { api.server.stop() }
        let (hook, _) = try await TestWebhook.serving(
            [ClusterContextAdmissionTests.prodOnly], verifier: nil,
            kubernetes: KubernetesAPIConfiguration(server: api.server.baseURL, caCertificatePEM: api.certificates.caCertificatePEM,
                                                   token: { "sa-token-1" }))
        var pod = AdmissionRequestBuilder()
        pod.namespace = "team-a"
        let denied = try await hook.review("/validate", pod)
        #expect(denied.response?["allowed"] == false, "\(denied.text)")
        #expect(denied.response?["status"]?["message"]?.stringValue?.contains("label team is required") == true)
        pod.labels = ["team": "a"]
        let allowed = try await hook.review("/validate", pod)
        #expect(allowed.response?["allowed"] == true, "\(allowed.text)")
        #expect(api.requested == ["/api/v1/namespaces/team-a"])
        await hook.stop()
    }

    @Test func apiServerRefusalsAreClearErrorsWithoutTheToken() async throws {
        let api = try FakeAPIServer(token: "right-token")
        defer { api.server.stop() }
        let wrong = try api.lookup(token: "wrong-token-secret")
        let unauthorized = await #expect(throws: SignetAdmissionError.self) { try await wrong.namespaceLabels("team-a") }
        #expect(unauthorized?.description.contains("http 401: Unauthorized") == true)
        #expect(unauthorized?.description.contains("wrong-token-secret") == false)

        api.recorder.forbidRBAC.withLock { $0 = true }
        let lookup = try api.lookup(token: "right-token")
        let forbidden = await #expect(throws: SignetAdmissionError.self) { try await lookup.roles(username: "alice", groups: []) }
        #expect(forbidden?.description.contains("cannot list resource \"rolebindings\"") == true)
        #expect(forbidden?.code == .cluster)
    }

    @Test func anUnreachableOrMisconfiguredAPIServerIsAnError() async throws {
        #expect(throws: SignetAdmissionError.self) {
            try KubernetesClient(configuration: KubernetesAPIConfiguration(server: "ftp://example.com"))
        }
        #expect(throws: SignetAdmissionError.self) {
            try KubernetesClient(configuration: KubernetesAPIConfiguration(server: "https://127.0.0.1:1", caCertificatePEM: "not pem"))
        }
        let client = try KubernetesClient(configuration: KubernetesAPIConfiguration(server: "https://127.0.0.1:1", requestTimeout: .seconds(2)))
        let lookup = KubernetesClusterLookup(client: client)
        let error = await #expect(throws: SignetAdmissionError.self) { try await lookup.namespaceLabels("team-a") }
        #expect(error?.message.contains("kubernetes api GET /api/v1/namespaces/team-a failed") == true)
    }
}

/// Counts the questions put to another `ClusterLookup`.
final class CountingClusterLookup: ClusterLookup {
    let base: any ClusterLookup
    private let count = Mutex(0)
    init(_ base: any ClusterLookup) { self.base = base }
    var calls: Int { count.withLock { $0 } }

    func namespaceLabels(_ name: String) async throws -> [String: String] {
        count.withLock { $0 += 1 }
        return try await base.namespaceLabels(name)
    }

    func roles(username: String, groups: [String]) async throws -> BoundRoles {
        count.withLock { $0 += 1 }
        return try await base.roles(username: username, groups: groups)
    }
}

/// A `ClusterLookup` with fixed answers (or a fixed failure).
struct FakeClusterLookup: ClusterLookup {
    var labels: [String: [String: String]] = [:]
    var bound: [String: BoundRoles] = [:]
    var failure: String?

    func namespaceLabels(_ name: String) async throws -> [String: String] {
        if let failure { throw SignetAdmissionError(.cluster, failure) }
        guard let l = labels[name] else { throw SignetAdmissionError(.cluster, "namespace \(name) not found") }
        return l
    }

    func roles(username: String, groups: [String]) async throws -> BoundRoles {
        if let failure { throw SignetAdmissionError(.cluster, failure) }
        return bound[username] ?? BoundRoles()
    }
}

@Suite("Admission with cluster context")
struct ClusterContextAdmissionTests {
    /// An Enforce policy requiring a `team` label on Pods; `filters` are the `match.any` entries
    /// (YAML lines after `- `, indented as under the list item).
    static func policy(name: String = "prod-needs-team", failurePolicy: String = "Fail",
                       filters: [[String]] = [["resources:", "  kinds: [Pod]"]]) -> String {
        var lines = [
            "apiVersion: kyverno.io/v1",
            "kind: ClusterPolicy",
            "metadata:",
            "  name: \(name)",
            "spec:",
            "  validationFailureAction: Enforce",
            "  failurePolicy: \(failurePolicy)",
            "  rules:",
            "    - name: team-label",
            "      match:",
            "        any:",
        ]
        for f in filters {
            lines.append("          - " + f[0])
            lines += f.dropFirst().map { "            " + $0 }
        }
        lines += [
            "      validate:",
            "        message: \"label team is required\"",
            "        pattern:",
            "          metadata:",
            "            labels:",
            "              team: \"?*\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static let prodFilter = ["resources:", "  kinds: [Pod]", "  namespaceSelector:", "    matchLabels:", "      env: prod"]
    static let prodOnly = policy(filters: [prodFilter])
    static let notForAdmins = policy(name: "admins-exempt", filters: [
        ["resources:", "  kinds: [Pod]", "clusterRoles: [\"cluster-admin\"]"],
        ["resources:", "  kinds: [Pod]", "roles: [\"team-a:deployer\"]"],
    ])

    /// Audit everywhere, Enforce in namespaces labelled env=prod (a namespaceSelector override).
    static let enforcedInProd = policy(name: "enforced-in-prod")
        .replacingOccurrences(of: "  validationFailureAction: Enforce\n", with: """
              validationFailureAction: Audit
              validationFailureActionOverrides:
                - action: Enforce
                  namespaces: ["*"]
                  namespaceSelector:
                    matchLabels:
                      env: prod

            """)

    static func controller(_ yaml: [String], cluster: (any ClusterLookup)?) throws -> AdmissionController {
        var logger = Logger(label: "signet-test")
        logger.logLevel = .critical
        return AdmissionController(policies: PolicyStore(fixed: try TestPolicies.set(yaml)), verification: nil,
                                   metrics: AdmissionMetrics(), violations: ViolationStore(), cluster: cluster, logger: logger)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var policy: String
        var namespace: String
        var username: String = "alice"
        var cluster: FakeClusterLookup?
        var allowed: Bool
        var message: String?
        var testDescription: String { name }
    }

    static let lookup = FakeClusterLookup(
        labels: ["team-a": ["env": "prod"], "sandbox": ["env": "dev"]],
        bound: ["root": BoundRoles(clusterRoles: ["cluster-admin"]), "dev": BoundRoles(roles: ["team-a:deployer"])])

    static let cases: [Case] = [
        .init(name: "namespaceSelector matches a prod namespace", policy: prodOnly, namespace: "team-a", cluster: lookup,
              allowed: false, message: "label team is required"),
        .init(name: "namespaceSelector skips a dev namespace", policy: prodOnly, namespace: "sandbox", cluster: lookup, allowed: true),
        .init(name: "clusterRoles match a cluster admin", policy: notForAdmins, namespace: "sandbox", username: "root",
              cluster: lookup, allowed: false, message: "label team is required"),
        .init(name: "roles match a namespaced role", policy: notForAdmins, namespace: "sandbox", username: "dev",
              cluster: lookup, allowed: false),
        .init(name: "no role: rule does not apply", policy: notForAdmins, namespace: "sandbox", username: "alice",
              cluster: lookup, allowed: true),
        .init(name: "lookup failure under failurePolicy Fail denies", policy: prodOnly, namespace: "team-a",
              cluster: FakeClusterLookup(failure: "connection refused"), allowed: false,
              message: "could not read the labels of namespace team-a: connection refused"),
        .init(name: "missing namespace denies under Fail", policy: prodOnly, namespace: "ghost", cluster: lookup,
              allowed: false, message: "namespace ghost not found"),
        .init(name: "no kubernetes api configured denies under Fail", policy: prodOnly, namespace: "team-a", cluster: nil,
              allowed: false, message: "runs without kubernetes api access"),
        .init(name: "override by namespaceSelector enforces in prod", policy: enforcedInProd, namespace: "team-a",
              cluster: lookup, allowed: false, message: "label team is required"),
        .init(name: "override by namespaceSelector audits elsewhere", policy: enforcedInProd, namespace: "sandbox",
              cluster: lookup, allowed: true),
        .init(name: "override needs labels: lookup failure denies under Fail", policy: enforcedInProd, namespace: "sandbox",
              cluster: FakeClusterLookup(failure: "timeout"), allowed: false, message: "could not read the labels of namespace sandbox"),
        .init(name: "lookup failure under failurePolicy Ignore allows", policy: policy(failurePolicy: "Ignore", filters: [prodFilter]),
              namespace: "team-a", cluster: FakeClusterLookup(failure: "connection refused"), allowed: true),
    ]

    @Test(arguments: cases)
    func decisions(_ c: Case) async throws {
        let controller = try Self.controller([c.policy], cluster: c.cluster)
        var builder = AdmissionRequestBuilder()
        builder.namespace = c.namespace
        builder.username = c.username
        let response = await controller.review(builder.request, phase: .validate, deadline: .now + .seconds(5))
        #expect(response.allowed == c.allowed)
        if let message = c.message {
            #expect(response.status?.message?.contains(message) == true, "\(response.status?.message ?? "no message")")
        }
        if c.name.contains("Ignore") {
            #expect(response.warnings?.first?.contains("could not read the labels of namespace team-a") == true)
        }
    }

    @Test func lookupsHappenOnlyWhenAPolicyNeedsThem() async throws {
        var builder = AdmissionRequestBuilder()
        builder.labels = ["team": "a"]
        builder.namespace = "team-a"
        // A policy without namespaceSelector or roles: the cluster is never asked.
        let unused = CountingClusterLookup(Self.lookup)
        let plain = try Self.controller([TestPolicies.requireTeamLabel], cluster: unused)
        #expect(await plain.review(builder.request, phase: .validate, deadline: .now + .seconds(5)).allowed)
        #expect(unused.calls == 0)
        // A namespaceSelector policy: asked once for the labels, never for roles.
        let used = CountingClusterLookup(Self.lookup)
        let selecting = try Self.controller([Self.prodOnly], cluster: used)
        #expect(await selecting.review(builder.request, phase: .validate, deadline: .now + .seconds(5)).allowed)
        #expect(used.calls == 1)
    }

    @Test func eachFailurePolicyPathEvaluatesOnlyItsPolicies() async throws {
        let fail = Self.policy(name: "fail-policy")
        let ignore = Self.policy(name: "ignore-policy", failurePolicy: "Ignore")
        let controller = try Self.controller([fail, ignore], cluster: nil)
        let hook = try await TestWebhook(reviewer: controller)
        let failReply = try await hook.review("/validate/fail", AdmissionRequestBuilder())
        #expect(failReply.response?["status"]?["message"]?.stringValue?.contains("fail-policy") == true)
        #expect(failReply.response?["status"]?["message"]?.stringValue?.contains("ignore-policy") == false)
        let ignoreReply = try await hook.review("/validate/ignore", AdmissionRequestBuilder())
        #expect(ignoreReply.response?["status"]?["message"]?.stringValue?.contains("ignore-policy") == true)
        #expect(ignoreReply.response?["status"]?["message"]?.stringValue?.contains("fail-policy") == false)
        let all = try await hook.review("/validate", AdmissionRequestBuilder())
        #expect(all.response?["status"]?["message"]?.stringValue?.contains("fail-policy") == true)
        #expect(all.response?["status"]?["message"]?.stringValue?.contains("ignore-policy") == true)
        #expect(try await hook.review("/mutate/ignore", AdmissionRequestBuilder()).response?["allowed"] == true)
        #expect(try await hook.send(.POST, "/validate/sometimes", body: AdmissionRequestBuilder().reviewData).status == 404)
        await hook.stop()
    }
}

@Suite("signet serve with the Kubernetes API")
struct ServeKubernetesAPITests {
    @Test func theServerReadsNamespaceLabelsWithItsCAAndTokenFiles() async throws {
        let api = try ClusterLookupTests.FakeAPIServer(token: "projected-token-1")
        defer { api.server.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-serve-k8s-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("policies"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try ClusterContextAdmissionTests.prodOnly.write(to: dir.appendingPathComponent("policies/prod.yaml"), atomically: true, encoding: .utf8)
        try api.certificates.caCertificatePEM.write(to: dir.appendingPathComponent("kube-ca.crt"), atomically: true, encoding: .utf8)
        try "projected-token-1\n".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        let webhookCerts = try WebhookCertificates.generate(dnsNames: ["127.0.0.1"])
        try webhookCerts.write(to: dir.appendingPathComponent("tls"))

        let port = try ManagedProcess.freeLoopbackPort()
        let serve = try ManagedProcess(CommandRunner.signetBinary.path, arguments: [
            "serve", "--policies", dir.appendingPathComponent("policies").path,
            "--tls-cert", dir.appendingPathComponent("tls/tls.crt").path, "--tls-key", dir.appendingPathComponent("tls/tls.key").path,
            "--host", "127.0.0.1", "--port", String(port),
            "--kubernetes-api", api.server.baseURL, "--kubernetes-ca", dir.appendingPathComponent("kube-ca.crt").path,
            "--kubernetes-token-file", dir.appendingPathComponent("token").path,
        ])
        defer { serve.stop() }
        try serve.waitForPort(port)
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: .init(tlsConfiguration: try TestWebhook.clientTLS(caPEM: webhookCerts.caCertificatePEM)))
        func review(_ namespace: String) async throws -> JSONValue? {
            var builder = AdmissionRequestBuilder()
            builder.namespace = namespace
            var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)/validate/fail?timeout=10s")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: builder.reviewData))
            let response = try await client.execute(request, timeout: .seconds(20))
            return try JSONValue(json: Data(buffer: try await response.body.collect(upTo: 1 << 20)))["response"]
        }
        let prod = try await review("team-a")
        #expect(prod?["allowed"] == false)
        #expect(prod?["status"]?["message"]?.stringValue?.contains("label team is required") == true)
        let missing = try await review("nope")
        #expect(missing?["allowed"] == false)
        #expect(missing?["status"]?["message"]?.stringValue?.contains("could not read the labels of namespace nope") == true)
        try await client.shutdown()
        #expect(api.requested.contains("/api/v1/namespaces/team-a"))
        #expect(!serve.output.contains("projected-token-1"))

        // A token file that cannot be read is a clear startup error.
        let bad = try CommandRunner.signet(["serve", "--policies", dir.appendingPathComponent("policies").path,
                                            "--tls-cert", dir.appendingPathComponent("tls/tls.crt").path,
                                            "--tls-key", dir.appendingPathComponent("tls/tls.key").path,
                                            "--kubernetes-api", api.server.baseURL, "--kubernetes-token-file", "/nonexistent/token"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("cannot read the kubernetes token file /nonexistent/token"))
    }

    /// Closed sets on the command line are enums: a value outside them is a usage error naming the
    /// option, before anything starts.
    @Test(arguments: [
        (["--log-level", "loud"], "--log-level"),
        (["--kubernetes-api", "ftp://example.com"], "--kubernetes-api"),
        (["--kubernetes-api", "not a url"], "--kubernetes-api"),
        (["--vault-auth-method", "password"], "--vault-auth-method"),
    ])
    func closedSetsRejectOtherValues(arguments: [String], option: String) throws {
        let result = try CommandRunner.signet(["serve", "--policies", "/nonexistent", "--tls-cert", "/nonexistent/c",
                                               "--tls-key", "/nonexistent/k"] + arguments)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(option), "\(result.stderr)")
    }
}
