import Foundation
import SignetPolicy
import SignetTestSupport
import Synchronization
import Testing
@testable import SignetAdmission
import SignetPrimitives

/// Cluster data in `serve`: `resource.Get/List`, `globalContext.Get` and `authorizer` for CEL
/// policies, `configMap`/`apiCall` context entries for ClusterPolicies, read from a fake API
/// server over HTTPS through the application `buildApplication` assembles.
@Suite("Cluster data from the API server in serve")
struct ClusterDataTests {
    static let token = "cluster-data-token"

    /// A fake API server: ConfigMaps, Services, a Deployment, SubjectAccessReviews (alice may
    /// `get` secrets, nobody else), GlobalContextEntries, an endless chain of ConfigMaps and
    /// hostile answers (huge, malformed, too deep, slow).
    final class FakeAPI: Sendable {
        let server: TestHTTPServer
        let certificates: WebhookCertificates
        final class Calls: Sendable { let list = Mutex<[String]>([]) }
        let calls = Calls()

        init() throws {
            certificates = try WebhookCertificates.generate(dnsNames: ["127.0.0.1", "localhost"])
            let calls = self.calls
            server = try TestHTTPServer(tls: (certificates.certificatePEM, certificates.privateKeyPEM)) { request in
                calls.list.withLock { $0.append("\(request.method) \(request.uri)") }
                guard request.header("Authorization") == "Bearer \(ClusterDataTests.token)" else {
                    return .json(401, #"{"kind":"Status","message":"Unauthorized","code":401}"#)
                }
                return FakeAPI.answer(request)
            }
        }

        static func answer(_ request: TestHTTPRequest) -> TestHTTPResponse {
            let path = request.path
            let chain = "/api/v1/namespaces/default/configmaps/chain-"
            if path.hasPrefix(chain), let n = Int(path.dropFirst(chain.count)) {
                return .json(200, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"chain-\#(n)","namespace":"default"},"data":{"next":"chain-\#(n + 1)"}}"#)
            }
            switch (request.method, path) {
            case ("GET", "/api/v1/namespaces/default/configmaps/allowed-images"):
                return .json(200, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"allowed-images","namespace":"default"},"data":{"image":"nginx:1.25"}}"#)
            case ("GET", "/api/v1/namespaces/default/services"):
                return .json(200, #"{"apiVersion":"v1","kind":"ServiceList","metadata":{},"items":[{"metadata":{"name":"a","namespace":"default"}},{"metadata":{"name":"b","namespace":"default"}}]}"#)
            case ("GET", "/apis/apps/v1/namespaces/default/deployments/web"):
                return .json(200, #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},"spec":{"replicas":3}}"#)
            case ("GET", "/apis/apps/v1/namespaces/default/deployments"):
                return .json(200, #"{"apiVersion":"apps/v1","kind":"DeploymentList","metadata":{},"items":[{"metadata":{"name":"web","namespace":"default"},"spec":{"replicas":3}}]}"#)
            case ("GET", "/apis/kyverno.io/v2beta1/globalcontextentries"):
                return .json(200, #"""
                    {"apiVersion":"kyverno.io/v2beta1","kind":"GlobalContextEntryList","items":[
                      {"metadata":{"name":"deployments"},"spec":{"kubernetesResource":{"group":"apps","version":"v1","resource":"deployments","namespace":"default"},
                       "projections":[{"name":"names","jmesPath":"[].metadata.name"}]}},
                      {"metadata":{"name":"external"},"spec":{"apiCall":{"service":{"url":"https://example.com"}}}}]}
                    """#)
            case ("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews"):
                guard let review = try? JSONValue(json: request.body), review["kind"]?.stringValue == "SubjectAccessReview" else {
                    return .json(400, #"{"kind":"Status","message":"bad review","code":400}"#)
                }
                let spec = review["spec"]
                let attributes = spec?["resourceAttributes"]
                let allowed = spec?["user"]?.stringValue == "alice" && attributes?["resource"]?.stringValue == "secrets"
                    && attributes?["verb"]?.stringValue == "get"
                var answer = review.objectValue ?? [:]
                answer["status"] = ["allowed": .bool(allowed), "reason": .string(allowed ? "rbac: allowed by RoleBinding" : "")]
                return TestHTTPResponse(status: 201, headers: [("Content-Type", "application/json")],
                                        body: Data(JSONValue.object(answer).jsonString(sortedKeys: true).utf8))
            case ("GET", "/api/v1/namespaces/default/configmaps/huge"):
                // 6 MiB of a valid JSON object: more than the 4 MiB read limit
                let filler = String(repeating: "x", count: 6 << 20)
                return .json(200, #"{"apiVersion":"v1","kind":"ConfigMap","data":{"x":"\#(filler)"}}"#)
            case ("GET", "/api/v1/namespaces/default/configmaps/malformed"):
                return .json(200, #"{"apiVersion":"v1","kind":"ConfigMap","data":{"x":"#)
            case ("GET", "/api/v1/namespaces/default/configmaps/deep"):
                return .json(200, String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))
            case ("GET", "/api/v1/namespaces/default/configmaps/slow"):
                return TestHTTPResponse(status: 200, headers: [("Content-Type", "application/json")],
                                        body: Data(#"{"data":{}}"#.utf8), delayMilliseconds: 3_000)
            case ("GET", "/api/v1/namespaces/default/configmaps/forbidden"):
                return .json(403, #"{"kind":"Status","message":"configmaps \"forbidden\" is forbidden: User cannot get resource","reason":"Forbidden","code":403}"#)
            default:
                return .json(404, #"{"kind":"Status","message":"not found","reason":"NotFound","code":404}"#)
            }
        }

        var kubernetes: KubernetesAPIConfiguration {
            KubernetesAPIConfiguration(server: server.baseURL, caCertificatePEM: certificates.caCertificatePEM,
                                       token: { ClusterDataTests.token }, requestTimeout: .seconds(1))
        }

        var requested: [String] { calls.list.withLock { $0 } }
    }

    static func vpol(_ name: String, failurePolicy: String = "Fail", variables: [(String, String)] = [], _ expression: String, message: String) -> String {
        let vars = variables.isEmpty ? "" : "  variables:\n" + variables.map { "    - name: \($0.0)\n      expression: \"\($0.1)\"\n" }.joined()
        return """
            apiVersion: policies.kyverno.io/v1
            kind: ValidatingPolicy
            metadata:
              name: \(name)
            spec:
              validationActions: [Deny]
              failurePolicy: \(failurePolicy)
              matchConstraints:
                resourceRules:
                  - apiGroups: [""]
                    apiVersions: ["v1"]
                    operations: ["CREATE", "UPDATE"]
                    resources: ["pods"]
            \(vars)  validations:
                - expression: "\(expression)"
                  message: "\(message)"
            """
    }

    static let allowList = vpol("allow-list", variables: [("cm", "resource.Get('v1', 'configmaps', object.metadata.namespace, 'allowed-images')")],
                                "object.spec.containers.all(c, c.image == variables.cm.data.image)", message: "image not on the allow list")

    static func serve(_ policies: [String], api: FakeAPI?) async throws -> TestWebhook {
        try await TestWebhook.serving(policies, verifier: nil, kubernetes: api?.kubernetes).0
    }

    static func message(_ reply: TestWebhook.Reply) -> String { reply.response?["status"]?["message"]?.stringValue ?? "" }

    /// Reviews `request` and expects it allowed.
    @discardableResult
    static func expectAllowed(_ hook: TestWebhook, _ request: AdmissionRequestBuilder = AdmissionRequestBuilder(),
                              sourceLocation: SourceLocation = #_sourceLocation) async throws -> TestWebhook.Reply {
        let reply = try await hook.review("/validate", request)
        #expect(reply.response?["allowed"] == true, "\(reply.text)", sourceLocation: sourceLocation)
        return reply
    }

    /// Reviews `request` and expects it denied with a message containing `text`.
    @discardableResult
    static func expectDenied(_ hook: TestWebhook, _ request: AdmissionRequestBuilder = AdmissionRequestBuilder(), containing text: String,
                             sourceLocation: SourceLocation = #_sourceLocation) async throws -> TestWebhook.Reply {
        let reply = try await hook.review("/validate", request)
        #expect(reply.response?["allowed"] == false, "\(reply.text)", sourceLocation: sourceLocation)
        #expect(message(reply).contains(text), "\(reply.text)", sourceLocation: sourceLocation)
        return reply
    }

    // MARK: resource.Get

    @Test func resourceGetReadsTheObjectFromTheAPIServer() async throws {
        let api = try FakeAPI()
        defer { api.server.stop() }
        let hook = try await Self.serve([Self.allowList], api: api)
        try await Self.expectAllowed(hook)
        var bad = AdmissionRequestBuilder()
        bad.images = ["evil:1"]
        try await Self.expectDenied(hook, bad, containing: "image not on the allow list")
        // one GET, then the cache
        #expect(api.requested.filter { $0.contains("allowed-images") } == ["GET /api/v1/namespaces/default/configmaps/allowed-images"])
        await hook.stop()
    }

    @Test func resourceGetOfAMissingObjectIsKyvernosNotFoundError() async throws {
        let api = try FakeAPI()
        defer { api.server.stop() }
        let hook = try await Self.serve([Self.allowList], api: api)
        var pod = AdmissionRequestBuilder()
        pod.namespace = "elsewhere"
        try await Self.expectDenied(hook, pod, containing: "configmaps \"allowed-images\" not found")
        await hook.stop()
    }

    /// The API server is down: an error, which failurePolicy decides (never an allow under Fail).
    @Test(arguments: ["Fail", "Ignore"])
    func anUnreachableAPIServerIsAnErrorThatFailurePolicyDecides(_ failurePolicy: String) async throws {
        let api = try FakeAPI()
        let kubernetes = api.kubernetes
        api.server.stop()
        let policy = Self.vpol("allow-list", failurePolicy: failurePolicy,
                               variables: [("cm", "resource.Get('v1', 'configmaps', object.metadata.namespace, 'allowed-images')")],
                               "object.spec.containers.all(c, c.image == variables.cm.data.image)", message: "image not on the allow list")
        let hook = try await TestWebhook.serving([policy], verifier: nil, kubernetes: kubernetes).0
        let reply = try await hook.review("/validate", AdmissionRequestBuilder())
        #expect(reply.response?["allowed"] == .bool(failurePolicy == "Ignore"), "\(reply.text)")
        if failurePolicy == "Fail" { #expect(Self.message(reply).contains("failed to get resource"), "\(reply.text)") }
        await hook.stop()
    }

    @Test func withoutAnAPIServerClusterReadsAreErrorsNotEmptyAnswers() async throws {
        let hook = try await Self.serve([Self.allowList], api: nil)
        try await Self.expectDenied(hook, containing: "without kubernetes api access")
        await hook.stop()
    }

    @Test func resourceListAndGroupedAPIsAndGlobalContext() async throws {
        let api = try FakeAPI()
        defer { api.server.stop() }
        let policy = Self.vpol("cluster-reads",
            variables: [("deploy", "resource.Get('apps/v1', 'deployments', 'default', 'web')"),
                        ("services", "resource.List('v1', 'services', 'default')"),
                        ("names", "globalContext.Get('deployments', 'names')")],
            "variables.deploy.spec.replicas == 3 && size(variables.services.items) == 2 && variables.services.items[0].kind == 'Service' && variables.names == ['web'] && size(globalContext.Get('deployments', '')) == 1",
            message: "cluster reads did not match")
        let hook = try await Self.serve([policy], api: api)
        try await Self.expectAllowed(hook)
        let external = Self.vpol("external-entry", variables: [("e", "globalContext.Get('external', '')")], "variables.e != null", message: "x")
        let hook2 = try await Self.serve([external], api: api)
        try await Self.expectDenied(hook2, containing: "service calls")
        await hook.stop()
        await hook2.stop()
    }

    // MARK: authorizer

    @Test func authorizerChecksAreSubjectAccessReviews() async throws {
        let api = try FakeAPI()
        defer { api.server.stop() }
        let policy = Self.vpol("may-read-secrets",
            "authorizer.group('').resource('secrets').namespace(object.metadata.namespace).check('get').allowed()",
            message: "the requesting user may not read secrets")
        let hook = try await Self.serve([policy], api: api)
        try await Self.expectAllowed(hook)
        var bob = AdmissionRequestBuilder()
        bob.username = "bob"
        try await Self.expectDenied(hook, bob, containing: "may not read secrets")
        #expect(api.requested.filter { $0.hasPrefix("POST /apis/authorization.k8s.io/v1/subjectaccessreviews") }.count == 2)
        await hook.stop()
    }

    /// A ClusterPolicy's `validate.cel` reads the same `authorizer`.
    @Test func clusterPolicyValidateCELUsesTheAuthorizer() async throws {
        let api = try FakeAPI()
        defer { api.server.stop() }
        let policy = """
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata:
              name: may-read-secrets-cel
            spec:
              validationFailureAction: Enforce
              rules:
                - name: check
                  match:
                    any:
                      - resources:
                          kinds: [Pod]
                  validate:
                    cel:
                      expressions:
                        - expression: "authorizer.group('').resource('secrets').namespace(object.metadata.namespace).check('get').allowed()"
                          message: "no secrets for this user"
            """
        let hook = try await Self.serve([policy], api: api)
        try await Self.expectAllowed(hook)
        var bob = AdmissionRequestBuilder()
        bob.username = "bob"
        try await Self.expectDenied(hook, bob, containing: "no secrets for this user")
        await hook.stop()
    }

    // MARK: ClusterPolicy context

    static let contextPolicy = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: context-from-cluster
        spec:
          validationFailureAction: Enforce
          rules:
            - name: check
              match:
                any:
                  - resources:
                      kinds: [Pod]
              context:
                - name: allowed
                  configMap:
                    name: allowed-images
                    namespace: "{{request.namespace}}"
                - name: serviceCount
                  apiCall:
                    urlPath: "/api/v1/namespaces/{{request.namespace}}/services"
                    jmesPath: "items | length(@)"
                - name: mayReadSecrets
                  apiCall:
                    urlPath: "/apis/authorization.k8s.io/v1/subjectaccessreviews"
                    method: POST
                    data:
                      - key: apiVersion
                        value: authorization.k8s.io/v1
                      - key: kind
                        value: SubjectAccessReview
                      - key: spec
                        value:
                          user: "{{request.userInfo.username}}"
                          resourceAttributes:
                            resource: secrets
                            verb: get
                            namespace: "{{request.namespace}}"
                    jmesPath: "status.allowed"
              validate:
                message: "image {{ request.object.spec.containers[0].image }} is not {{ allowed.data.image }}, or {{ serviceCount }} services, or secrets {{ mayReadSecrets }}"
                deny:
                  conditions:
                    any:
                      - key: "{{ request.object.spec.containers[0].image }}"
                        operator: NotEquals
                        value: "{{ allowed.data.image }}"
                      - key: "{{ serviceCount }}"
                        operator: GreaterThan
                        value: 2
                      - key: "{{ mayReadSecrets }}"
                        operator: Equals
                        value: false
        """

    @Test func clusterPolicyConfigMapAndAPICallContextEntries() async throws {
        let api = try FakeAPI()
        defer { api.server.stop() }
        let hook = try await Self.serve([Self.contextPolicy], api: api)
        try await Self.expectAllowed(hook)
        var bad = AdmissionRequestBuilder()
        bad.images = ["evil:1"]
        try await Self.expectDenied(hook, bad, containing: "image evil:1 is not nginx:1.25, or 2 services, or secrets true")
        var bob = AdmissionRequestBuilder()
        bob.username = "bob"
        try await Self.expectDenied(hook, bob, containing: "secrets false")
        // the configMap was missing in another namespace: the rule errors (Fail → denied)
        var elsewhere = AdmissionRequestBuilder()
        elsewhere.namespace = "elsewhere"
        let error = try await hook.review("/validate", elsewhere)
        #expect(error.response?["allowed"] == false, "\(error.text)")
        await hook.stop()
    }

    static let globalReferencePolicy = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: replicas-from-global-context
        spec:
          validationFailureAction: Enforce
          rules:
            - name: check
              match:
                any:
                  - resources:
                      kinds: [Pod]
              context:
                - name: deployments
                  globalReference:
                    name: deployments
                    jmesPath: "[].metadata.name"
              validate:
                message: "deployments {{ deployments }} do not include {{ request.object.metadata.labels.app }}"
                deny:
                  conditions:
                    all:
                      - key: "{{ request.object.metadata.labels.app }}"
                        operator: AnyNotIn
                        value: "{{ deployments }}"
        """

    @Test func clusterPolicyGlobalReferenceReadsTheGlobalContextEntries() async throws {
        let api = try FakeAPI()
        defer { api.server.stop() }
        let hook = try await Self.serve([Self.globalReferencePolicy], api: api)
        var web = AdmissionRequestBuilder()
        web.labels = ["app": "web"]
        try await Self.expectAllowed(hook, web)
        var other = AdmissionRequestBuilder()
        other.labels = ["app": "db"]
        try await Self.expectDenied(hook, other, containing: "do not include db")
        // the entries and their data were read once, then kept
        #expect(api.requested.filter { $0.contains("globalcontextentries") }.count == 1)
        #expect(api.requested.filter { $0 == "GET /apis/apps/v1/namespaces/default/deployments" }.count == 1)
        await hook.stop()
    }

    // MARK: bounds

    /// Each lookup names the next: the rounds stop, the reads stop, and the rule errors.
    @Test func aPolicyThatKeepsAskingStopsWithAnError() async throws {
        let api = try FakeAPI()
        defer { api.server.stop() }
        var variables = [("c0", "resource.Get('v1', 'configmaps', 'default', 'chain-0')")]
        for i in 1..<8 { variables.append(("c\(i)", "resource.Get('v1', 'configmaps', 'default', variables.c\(i - 1).data.next)")) }
        let policy = Self.vpol("endless", variables: variables, "variables.c7.data.next != ''", message: "unreachable")
        let hook = try await Self.serve([policy], api: api)
        try await Self.expectDenied(hook, containing: "rounds")
        #expect(api.requested.filter { $0.contains("chain-") }.count == ClusterDataSource.Limits().maximumRounds)
        await hook.stop()
    }

    /// Forty independent reads in one expression: 32 are made, the rest are errors.
    @Test func readsPerRequestAreBounded() async throws {
        let api = try FakeAPI()
        defer { api.server.stop() }
        let policy = Self.vpol("many-reads", "[\(( 0..<40).map(String.init).joined(separator: ", "))].all(i, resource.Get('v1', 'configmaps', 'default', 'chain-' + string(i)).data.next != '')",
                               message: "unreachable")
        let hook = try await Self.serve([policy], api: api)
        try await Self.expectDenied(hook, containing: "more than 32 cluster reads")
        #expect(api.requested.filter { $0.contains("chain-") }.count == ClusterDataSource.Limits().maximumReadsPerRequest)
        await hook.stop()
    }

    @Test func globalContextEntrySpecs() {
        #expect(ClusterDataSource.dataQuery(["kubernetesResource": ["group": "apps", "version": "v1", "resource": "deployments"]])
                == .success(.get(path: "/apis/apps/v1/deployments")))
        #expect(ClusterDataSource.dataQuery(["kubernetesResource": ["version": "v1", "resource": "pods", "namespace": "ns"]])
                == .success(.get(path: "/api/v1/namespaces/ns/pods")))
        #expect(ClusterDataSource.dataQuery(["apiCall": ["urlPath": "/apis/x/v1/y", "method": "POST", "data": [["key": "a", "value": 1]]]])
                == .success(.post(path: "/apis/x/v1/y", body: ["a": 1])))
        if case .success = ClusterDataSource.dataQuery(["apiCall": ["service": ["url": "https://x"]]]) { Issue.record("service calls are not made") }
        if case .success = ClusterDataSource.dataQuery(["apiCall": ["urlPath": "/api/../../x"]]) { Issue.record("invalid urlPath") }
        let projected = ClusterDataSource.project(.success([["metadata": ["name": "a"]]]), spec: ["projections": [["name": "names", "jmesPath": "[].metadata.name"]]])
        #expect(projected.projections["names"] == ["a"])
        let broken = ClusterDataSource.project(.success([]), spec: ["projections": [["name": "x", "jmesPath": "[["]]])
        if case .success = broken.data { Issue.record("a projection that does not compile fails the entry") }
    }

    /// Hostile answers (too big, not JSON, nested beyond the parser's bound, too slow, refused)
    /// are errors for the rule that read them; the webhook keeps answering.
    @Test(arguments: ["huge", "malformed", "deep", "slow", "forbidden"])
    func hostileAnswersAreErrorsNotCrashes(_ name: String) async throws {
        let api = try FakeAPI()
        defer { api.server.stop() }
        let policy = Self.vpol("hostile", variables: [("cm", "resource.Get('v1', 'configmaps', 'default', '\(name)')")],
                               "variables.cm != null", message: "unreachable")
        let hook = try await Self.serve([policy, Self.allowList], api: api)
        let started = ContinuousClock.now
        try await Self.expectDenied(hook, containing: "failed to get resource")
        #expect(ContinuousClock.now - started < .seconds(8))
        // still serving
        let again = try await hook.review("/validate", AdmissionRequestBuilder())
        #expect(again.status == 200)
        await hook.stop()
    }

    // MARK: units

    struct PathCase: Sendable, CustomTestStringConvertible {
        var apiVersion, resource, namespace, name: String
        var path: String?
        var testDescription: String { "\(apiVersion) \(resource) \(namespace)/\(name)" }
    }

    static let pathCases: [PathCase] = [
        .init(apiVersion: "v1", resource: "configmaps", namespace: "default", name: "a", path: "/api/v1/namespaces/default/configmaps/a"),
        .init(apiVersion: "apps/v1", resource: "deployments", namespace: "ns", name: "web", path: "/apis/apps/v1/namespaces/ns/deployments/web"),
        .init(apiVersion: "v1", resource: "namespaces", namespace: "", name: "kube-system", path: "/api/v1/namespaces/kube-system"),
        .init(apiVersion: "rbac.authorization.k8s.io/v1", resource: "clusterroles", namespace: "", name: "system:node", path: "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:node"),
        .init(apiVersion: "v1", resource: "pods/status", namespace: "default", name: "p", path: "/api/v1/namespaces/default/pods/p/status"),
        .init(apiVersion: "v1", resource: "configmaps", namespace: "default", name: "../secrets", path: nil),
        .init(apiVersion: "v1", resource: "configmaps", namespace: "..", name: "a", path: nil),
        .init(apiVersion: "v1/../..", resource: "configmaps", namespace: "", name: "a", path: nil),
        .init(apiVersion: "v1", resource: "config maps", namespace: "", name: "a", path: nil),
        .init(apiVersion: "v1", resource: "configmaps", namespace: "default", name: "", path: nil),
        .init(apiVersion: "v1", resource: "configmaps", namespace: "default", name: "a b?c", path: "/api/v1/namespaces/default/configmaps/a%20b%3Fc"),
    ]

    @Test(arguments: pathCases)
    func objectPathsForCoreAndGroupedAPIs(_ c: PathCase) {
        #expect(KubernetesAPIPaths.objectPath(apiVersion: c.apiVersion, resource: c.resource, namespace: c.namespace, name: c.name) == c.path)
    }

    @Test(arguments: [("/api/v1/namespaces/default/services", true), ("/apis/apps/v1/deployments?labelSelector=app%3Dweb", true),
                      ("/api/v1/../../secrets", false), ("api/v1/pods", false), ("//evil.example/x", false),
                      ("/api/v1/pods#x", false), ("/api/v1/pods\r\nHost: x", false), ("/api/v1/%2e%2e/secrets", false)])
    func apiCallURLPathsAreValidated(_ path: String, _ valid: Bool) {
        #expect((KubernetesAPIPaths.validatedURLPath(path) != nil) == valid)
    }

    @Test func subjectAccessReviewsAndTheirDecisions() {
        let r = KubernetesAuthorizationRequest(user: "alice", groups: ["g"], group: "apps", resource: "deployments", namespace: "ns", verb: "update")
        let review = ClusterDataSource.subjectAccessReview(r)
        #expect(review["spec"]?["resourceAttributes"] == ["verb": "update", "group": "apps", "resource": "deployments", "namespace": "ns"])
        #expect(review["spec"]?["user"] == "alice")
        let path = ClusterDataSource.subjectAccessReview(KubernetesAuthorizationRequest(user: "u", path: "/healthz", verb: "get"))
        #expect(path["spec"]?["nonResourceAttributes"] == ["path": "/healthz", "verb": "get"])
        #expect(ClusterDataSource.decision(["status": ["allowed": true, "reason": "ok"]]) == KubernetesAuthorizationDecision(.allow, reason: "ok"))
        #expect(ClusterDataSource.decision(["status": ["allowed": false, "denied": true]]).kind == .deny)
        #expect(ClusterDataSource.decision(["status": ["allowed": false, "evaluationError": "webhook down"]])
                == KubernetesAuthorizationDecision(.noOpinion, error: "webhook down"))
        #expect(ClusterDataSource.decision(.null).kind == .noOpinion)
    }

    @Test func theViewRecordsWhatItDoesNotKnowAndAnswersErrorsInTheLastRound() {
        let known = ClusterQuery.get(path: "/api/v1/namespaces/default/configmaps/a")
        let view = ClusterDataView(answers: [known: .found(["data": ["k": "v"]])], finalReason: nil)
        #expect(view.get(apiVersion: "v1", resource: "configmaps", namespace: "default", name: "a") == .found(["data": ["k": "v"]]))
        if case .failed = view.get(apiVersion: "v1", resource: "configmaps", namespace: "default", name: "b") {} else { Issue.record("expected a pending error") }
        #expect(view.missing == [.get(path: "/api/v1/namespaces/default/configmaps/b")])
        let last = ClusterDataView(answers: [:], finalReason: "limit")
        #expect(last.get(apiVersion: "v1", resource: "configmaps", namespace: "default", name: "b") == .failed("limit"))
        #expect(last.missing.isEmpty)
        #expect(throws: SignetPolicyError.self) { try last.apiCall(urlPath: "/api/../x", method: "GET", data: nil) }
    }
}
