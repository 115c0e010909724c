import Foundation
import SignetPolicy
import Testing
@testable import SignetAdmission

@Suite("HTTPS server: endpoints and request checks")
struct AdmissionServerTests {
    static let allowAll = FakeReviewer { request, _ in AdmissionResponse(uid: request.uid, allowed: true) }

    @Test func healthReadinessAndMetrics() async throws {
        let hook = try await TestWebhook(reviewer: Self.allowAll)
        #expect(try await hook.send(.GET, "/healthz", contentType: nil).status == 200)
        #expect(try await hook.send(.GET, "/readyz", contentType: nil).status == 200)
        _ = try await hook.review("/validate", AdmissionRequestBuilder())
        let metrics = try await hook.metrics("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.text.contains(#"signet_admission_requests_total{path="/validate",code="200"} 1"#))
        #expect(metrics.text.contains("signet_admission_request_duration_seconds_bucket"))
        #expect(metrics.text.contains("signet_verification_cache_total"))
        await hook.stop()
    }

    @Test func notReadyUntilPoliciesLoad() async throws {
        var reviewer = Self.allowAll
        reviewer.ready = false
        let hook = try await TestWebhook(reviewer: reviewer)
        #expect(try await hook.send(.GET, "/readyz", contentType: nil).status == 503)
        await hook.stop()
    }

    @Test func answersWithTheSameUID() async throws {
        let hook = try await TestWebhook(reviewer: Self.allowAll)
        let builder = AdmissionRequestBuilder()
        let reply = try await hook.review("/validate", builder)
        #expect(reply.status == 200)
        #expect(reply.json?["apiVersion"] == "admission.k8s.io/v1")
        #expect(reply.json?["kind"] == "AdmissionReview")
        #expect(reply.response?["uid"] == .string(builder.uid))
        #expect(reply.response?["allowed"] == true)
        await hook.stop()
    }

    static let malformed: [(String, String?, String, String)] = [
        ("not json", "application/json", "{\"apiVersion\":", "not valid JSON"),
        ("wrong content type", "text/plain", "{}", "content type must be application/json"),
        ("no content type", nil, "{}", "content type must be application/json"),
        ("array body", "application/json", "[1,2]", "not a JSON object"),
        ("wrong apiVersion", "application/json", #"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u"}}"#, "unsupported apiVersion"),
        ("wrong kind", "application/json", #"{"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{"uid":"u"}}"#, "unsupported kind"),
        ("no request", "application/json", #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#, "has no request"),
        ("missing uid", "application/json", #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE"}}"#, "has no uid"),
        ("empty uid", "application/json", #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"","kind":{"group":"","version":"v1","kind":"Pod"}}}"#, "has no uid"),
        ("uid not a string", "application/json", #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7}}"#, "uid must be a string"),
    ]

    @Test func malformedRequestsGetAClear400() async throws {
        let hook = try await TestWebhook(reviewer: Self.allowAll)
        for (name, contentType, body, message) in Self.malformed {
            for path in ["/validate", "/mutate"] {
                let reply = try await hook.send(.POST, path, body: Data(body.utf8), contentType: contentType)
                #expect(reply.status == 400, "\(name) \(path)")
                #expect(reply.text.contains(message), "\(name): \(reply.text)")
            }
        }
        await hook.stop()
    }

    @Test func oversizedBodyIsRefused() async throws {
        var config = AdmissionServer.Configuration()
        config.maxBodySize = 64 * 1024
        let hook = try await TestWebhook(reviewer: Self.allowAll, configuration: config)
        var builder = AdmissionRequestBuilder()
        builder.labels = ["big": String(repeating: "x", count: 100 * 1024)]
        let reply = try await hook.review("/validate", builder)
        #expect(reply.status == 413)
        #expect(reply.text.contains("larger than 65536 bytes"))
        // A normal request on the same server still works.
        #expect(try await hook.review("/validate", AdmissionRequestBuilder()).status == 200)
        await hook.stop()
    }

    @Test func unknownPathIs404() async throws {
        let hook = try await TestWebhook(reviewer: Self.allowAll)
        #expect(try await hook.send(.POST, "/nope", body: Data("{}".utf8)).status == 404)
        #expect(try await hook.send(.GET, "/validate", contentType: nil).status != 200)
        await hook.stop()
    }

    @Test func reloadsTheCertificateWhenItsFilesChange() async throws {
        let hook = try await TestWebhook(reviewer: Self.allowAll)
        // A new CA and certificate; the running client (old CA) must now fail, a new one succeed.
        let fresh = try WebhookCertificates.generate(dnsNames: ["127.0.0.1"])
        try await Task.sleep(for: .milliseconds(20))
        try fresh.write(to: hook.directory)
        await hook.server.reloadOnce()
        let newClient = HTTPClientFactory.make(caPEM: fresh.caCertificatePEM)
        var request = HTTPClientRequest(url: hook.baseURL + "/healthz")
        request.method = .GET
        let ok = try await newClient.execute(request, timeout: .seconds(10))
        #expect(ok.status.code == 200)
        try await newClient.shutdown()
        let oldCAClient = HTTPClientFactory.make(caPEM: hook.certificates.caCertificatePEM)
        await #expect(throws: (any Error).self) { _ = try await oldCAClient.execute(request, timeout: .seconds(10)) }
        try await oldCAClient.shutdown()
        await hook.stop()
    }

    @Test func aBadCertificateFileKeepsTheLastGoodOne() async throws {
        let hook = try await TestWebhook(reviewer: Self.allowAll)
        let metrics = hook.server.metrics
        // A key that does not match the certificate (a rotation caught half-way).
        let other = try WebhookCertificates.generate(dnsNames: ["127.0.0.1"])
        try Data(other.privateKeyPEM.utf8).write(to: hook.directory.appendingPathComponent("tls.key"))
        await hook.server.reloadOnce()
        #expect(try await hook.send(.GET, "/healthz", contentType: nil).status == 200)
        #expect(String(decoding: metrics.exposition(), as: UTF8.self).contains(#"signet_tls_reloads_total{result="error"} 1"#))
        await hook.stop()
    }

    @Test(arguments: [("10s", 9.0), ("30s", 29.0), ("1s", 0.5), ("500ms", 0.5), (nil, 9.0), ("bogus", 9.0)] as [(String?, Double)])
    func decisionBudgetIsTheTimeoutMinusAMargin(timeout: String?, seconds: Double) throws {
        let server = AdmissionServer(configuration: .init(), tls: try Self.tls(), reviewer: Self.allowAll,
                                     metrics: AdmissionMetrics(), violations: ViolationStore(), logger: .init(label: "t"))
        #expect(server.budget(forTimeoutParameter: timeout) == .milliseconds(Int64(seconds * 1000)))
    }

    static func tls() throws -> ReloadingTLSIdentity {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-tls-\(UUID().uuidString)")
        try WebhookCertificates.generate(dnsNames: ["localhost"]).write(to: dir)
        return try ReloadingTLSIdentity(certificatePath: dir.path + "/tls.crt", keyPath: dir.path + "/tls.key")
    }
}

import AsyncHTTPClient
import NIOSSL

enum HTTPClientFactory {
    static func make(caPEM: String) -> HTTPClient {
        HTTPClient(eventLoopGroupProvider: .singleton,
                   configuration: .init(tlsConfiguration: try! TestWebhook.clientTLS(caPEM: caPEM)))
    }
}
