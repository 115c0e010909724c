import Foundation
import SignetPolicy
import SignetPrimitives
import SignetTestSupport
import Testing
@testable import SignetAdmission

/// The CEL `http` library in `serve`: off by default, on for `--allow-http-host` hosts, calls
/// read before evaluation (record → call → evaluate again), bounded, no redirects. Over real
/// HTTPS to the webhook and plain HTTP to a local service.
@Suite struct CELHTTPWebhookTests {
    static func service() throws -> TestHTTPServer {
        try TestHTTPServer { request in
            switch (request.method, request.path) {
            case ("GET", "/allowed-registries"):
                return .json(200, #"{"registries":["ghcr.io/","registry.k8s.io/"]}"#)
            case ("POST", "/check"):
                // echoes the team the policy posted and the header it sent
                let body = (try? JSONValue(json: request.body)) ?? .null
                let ok = body["team"]?.stringValue == "a" && request.headers.contains { $0.0.lowercased() == "x-signet" && $0.1 == "1" }
                return .json(200, #"{"allowed":\#(ok)}"#)
            case ("GET", "/redirect"):
                return TestHTTPResponse(status: 302, headers: [("Location", "http://example.com/allowed-registries")])
            case ("GET", "/huge"):
                return .json(200, #"{"x":""# + String(repeating: "a", count: 2 << 20) + #""}"#)
            case ("GET", "/text"):
                return TestHTTPResponse(status: 200, headers: [("Content-Type", "text/plain")], body: Data("hello".utf8))
            default:
                return .json(404, #"{"message":"not found"}"#)
            }
        }
    }

    static func policy(_ name: String, _ expression: String, message: String = "denied by the service") -> String {
        """
        apiVersion: policies.kyverno.io/v1
        kind: ValidatingPolicy
        metadata:
          name: \(name)
        spec:
          validationActions: [Deny]
          matchConstraints:
            resourceRules:
              - apiGroups: [""]
                apiVersions: ["v1"]
                operations: ["CREATE"]
                resources: ["pods"]
          validations:
            - expression: >-
                \(expression)
              message: \(message)
        """
    }

    static func registriesPolicy(_ port: Int, path: String = "/allowed-registries") -> String {
        policy("registries", "object.spec.containers.all(c, http.Get('http://127.0.0.1:\(port)\(path)').registries.exists(r, c.image.startsWith(r)))",
               message: "image registry not allowed")
    }

    @Test func allowedHostIsCalledAndDecides() async throws {
        let service = try Self.service()
        defer { service.stop() }
        let post = Self.policy("team-check",
                               "http.Post('http://127.0.0.1:\(service.port)/check', {'team': object.metadata.?labels.?team.orValue('')}, {'x-signet': '1'}).allowed == true",
                               message: "the team service refused")
        let (hook, _) = try await TestWebhook.serving([Self.registriesPolicy(service.port), post], verifier: nil,
                                                      allowedHTTPHosts: ["127.0.0.1:\(service.port)"])
        defer { Task { await hook.stop() } }
        var good = AdmissionRequestBuilder()
        good.images = ["ghcr.io/org/app:1"]
        good.labels = ["team": "a"]
        let allowed = try await hook.review("/validate", good)
        #expect(allowed.response?["allowed"] == true, "\(String(decoding: allowed.body, as: UTF8.self))")

        var bad = AdmissionRequestBuilder()
        bad.images = ["docker.io/library/nginx:1"]
        bad.labels = ["team": "b"]
        let denied = try await hook.review("/validate", bad)
        #expect(denied.response?["allowed"] == false)
        let message = denied.response?["status"]?["message"]?.stringValue ?? ""
        #expect(message.contains("image registry not allowed"))
        #expect(message.contains("the team service refused"))
        // one GET and one POST per admission: the answers of a request are not reused by the next
        #expect(service.requests == 4)
        await hook.stop()
    }

    @Test func offByDefault() async throws {
        let service = try Self.service()
        defer { service.stop() }
        let (hook, _) = try await TestWebhook.serving([Self.registriesPolicy(service.port)], verifier: nil)
        defer { Task { await hook.stop() } }
        var good = AdmissionRequestBuilder()
        good.images = ["ghcr.io/org/app:1"]
        let reply = try await hook.review("/validate", good)
        // an error under failurePolicy Fail (the default): denied, and nothing was called
        #expect(reply.response?["allowed"] == false)
        #expect((reply.response?["status"]?["message"]?.stringValue ?? "").contains("http calls are disabled"))
        #expect(service.requests == 0)
        await hook.stop()
    }

    @Test(arguments: [("/redirect", "redirect"), ("/huge", "failed"), ("/text", "not json")])
    func boundedCalls(_ path: String, _ reason: String) async throws {
        let service = try Self.service()
        defer { service.stop() }
        let (hook, _) = try await TestWebhook.serving([Self.registriesPolicy(service.port, path: path)], verifier: nil,
                                                      allowedHTTPHosts: ["127.0.0.1:\(service.port)"])
        defer { Task { await hook.stop() } }
        var good = AdmissionRequestBuilder()
        good.images = ["ghcr.io/org/app:1"]
        let reply = try await hook.review("/validate", good)
        #expect(reply.response?["allowed"] == false)
        let message = reply.response?["status"]?["message"]?.stringValue ?? ""
        #expect(message.contains(reason), "\(message)")
        await hook.stop()
    }

    @Test func callsPerRequestAreBounded() async throws {
        let service = try Self.service()
        defer { service.stop() }
        let many = Self.policy("many-calls",
                               "lists.range(20).all(i, http.Get('http://127.0.0.1:\(service.port)/allowed-registries?i=' + string(i)).registries.size() > 0)")
        let (hook, _) = try await TestWebhook.serving([many], verifier: nil, allowedHTTPHosts: ["127.0.0.1:\(service.port)"])
        defer { Task { await hook.stop() } }
        let reply = try await hook.review("/validate", AdmissionRequestBuilder())
        #expect(reply.response?["allowed"] == false)
        #expect((reply.response?["status"]?["message"]?.stringValue ?? "").contains("more than 16 http calls in one request"))
        #expect(service.requests == 16)
        await hook.stop()
    }

    @Test(arguments: [("http://127.0.0.1:1/x", true), ("http://127.0.0.1:80/x", false), ("http://LOCALHOST/x", false),
                      ("ftp://127.0.0.1:1/x", false), ("http://user@127.0.0.1:1/x", false), ("http://example.com/x", true)])
    func hostAllowList(_ url: String, _ allowed: Bool) {
        let client = CELHTTPClient(allowedHosts: ["127.0.0.1:1", "Example.com"])
        #expect((client.refusal(url) == nil) == allowed)
        Task { try? await client.shutdown() }
    }
}

/// Authorization / JSON-mode ValidatingPolicies in a `serve` policy directory are loaded with a
/// diagnostic naming the mode (they never apply to admission requests), not dropped silently.
@Suite struct PayloadModePolicyStoreTests {
    @Test(arguments: ["Envoy", "HTTP", "JSON"]) func modeIsDiagnosed(_ mode: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-mode-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = """
            apiVersion: policies.kyverno.io/v1alpha1
            kind: ValidatingPolicy
            metadata:
              name: payload-policy
            spec:
              evaluation:
                mode: \(mode)
              validations:
                - expression: "null"
            """
        try Data(yaml.utf8).write(to: dir.appendingPathComponent("p.yaml"))
        let set = try PolicyStore(directory: dir.path, logger: TestWebhook.logger).load()
        #expect(set.diagnostics.contains { $0.path.contains("payload-policy") && $0.message.contains("evaluation mode \(mode)") })
    }
}
