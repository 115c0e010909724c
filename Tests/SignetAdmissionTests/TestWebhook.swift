import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import SignetPolicy
import Synchronization
@testable import SignetAdmission
import SignetPrimitives

/// A real `AdmissionServer` on a free loopback port with a freshly generated CA, and an HTTPS
/// client that trusts only that CA. `stop()` shuts the server down gracefully.
final class TestWebhook: Sendable {
    let port: Int
    /// The plain-HTTP listener of /metrics and /reports.
    let metricsPort: Int
    let directory: URL
    let client: HTTPClient
    let server: AdmissionServer
    let certificates: WebhookCertificates
    private let task: Task<Void, any Error>

    var baseURL: String { "https://127.0.0.1:\(port)" }

    typealias Runner = @Sendable (@escaping @Sendable (Int) async -> Void, @escaping @Sendable (Int) async -> Void) async throws -> Void

    /// An `AdmissionServer` around `reviewer` (server-level tests).
    convenience init(reviewer: any AdmissionReviewer, configuration: AdmissionServer.Configuration = .init(host: "127.0.0.1", port: 0),
                     metrics: AdmissionMetrics = AdmissionMetrics(), violations: ViolationStore = ViolationStore(),
                     reloaders: [@Sendable () async -> Void] = []) async throws {
        let (directory, certificates) = try Self.writeCertificates()
        let tls = try ReloadingTLSIdentity(certificatePath: directory.appendingPathComponent("tls.crt").path,
                                           keyPath: directory.appendingPathComponent("tls.key").path)
        let server = AdmissionServer(configuration: Self.loopback(configuration), tls: tls, reviewer: reviewer, metrics: metrics,
                                     violations: violations, logger: Self.logger, reloaders: reloaders)
        try await self.init(directory: directory, certificates: certificates, server: server) { onListening, onMetrics in
            try await server.run(gracefulShutdownSignals: [], onListening: onListening, onMetricsListening: onMetrics)
        }
    }

    /// `signet serve` as the command assembles it (`buildApplication`) with `policies` (YAML
    /// documents) and `verifier`, on loopback: what the tests drive is what runs.
    static func serving(_ policies: [String], verifier: (any WebhookVerifier)?, imageData: (any ImageDataProvider)? = nil,
                        server: AdmissionServer.Configuration = .init(), limits: AdmissionController.Limits = .init(),
                        kubernetes: KubernetesAPIConfiguration? = nil, allowedHTTPHosts: [String] = []) async throws -> (TestWebhook, WebhookApplication) {
        let (directory, certificates) = try writeCertificates()
        var configuration = WebhookConfiguration(
            policies: .fixed(try TestPolicies.set(policies)),
            tls: .init(certificatePath: directory.appendingPathComponent("tls.crt").path,
                       keyPath: directory.appendingPathComponent("tls.key").path),
            server: loopback(server), limits: limits, kubernetes: kubernetes)
        configuration.allowedHTTPHosts = allowedHTTPHosts
        let application = try buildApplication(configuration, verifier: verifier, imageData: imageData, logger: logger)
        let hook = try await TestWebhook(directory: directory, certificates: certificates, server: application.server) { onListening, onMetrics in
            try await application.run(gracefulShutdownSignals: [], onListening: onListening, onMetricsListening: onMetrics)
        }
        return (hook, application)
    }

    private init(directory: URL, certificates: WebhookCertificates, server: AdmissionServer, run: @escaping Runner) async throws {
        self.directory = directory
        self.certificates = certificates
        self.server = server
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let (metricsStream, metricsContinuation) = AsyncStream<Int>.makeStream()
        task = Task {
            // A server that cannot start ends the streams too, so the waits below return.
            defer { continuation.finish(); metricsContinuation.finish() }
            try await run({ port in
                continuation.yield(port)
                continuation.finish()
            }, { port in
                metricsContinuation.yield(port)
                metricsContinuation.finish()
            })
        }
        var bound = 0
        for await p in stream { bound = p }
        port = bound
        var metricsBound = 0
        for await p in metricsStream { metricsBound = p }
        metricsPort = metricsBound
        client = HTTPClient(eventLoopGroupProvider: .singleton,
                            configuration: .init(tlsConfiguration: try Self.clientTLS(caPEM: certificates.caCertificatePEM)))
    }

    static var logger: Logger {
        var logger = Logger(label: "signet-test")
        logger.logLevel = .warning
        return logger
    }

    /// A fresh CA and server certificate for localhost, written as tls.crt / tls.key.
    static func writeCertificates() throws -> (URL, WebhookCertificates) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("signet-webhook-\(UUID().uuidString)")
        let certificates = try WebhookCertificates.generate(dnsNames: ["localhost", "127.0.0.1"])
        try certificates.write(to: directory)
        return (directory, certificates)
    }

    /// Both listeners on free loopback ports.
    static func loopback(_ configuration: AdmissionServer.Configuration) -> AdmissionServer.Configuration {
        var config = configuration
        config.host = "127.0.0.1"
        config.port = 0
        config.metricsHost = "127.0.0.1"
        config.metricsPort = 0
        return config
    }

    static func clientTLS(caPEM: String) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        return tls
    }

    struct Reply {
        let status: Int
        let body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? JSONValue(json: body) }
        /// The `response` of an AdmissionReview reply.
        var response: JSONValue? { json?["response"] }
    }

    func send(_ method: HTTPMethod = .POST, _ path: String, body: Data? = nil,
              contentType: String? = "application/json") async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), body: Data(buffer: bytes))
    }

    /// GET on the metrics listener (plain HTTP, loopback).
    func metrics(_ path: String) async throws -> Reply {
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(metricsPort)" + path)
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), body: Data(buffer: bytes))
    }

    func review(_ path: String, _ request: AdmissionRequestBuilder) async throws -> Reply {
        try await send(.POST, path, body: request.reviewData)
    }

    deinit {
        // A test that threw before stop() must not leave a live HTTPClient behind: AsyncHTTPClient
        // traps when one is deinitialized without shutdown, which would end the whole test run.
        try? client.syncShutdown()
        task.cancel()
    }

    func stop() async {
        try? await client.shutdown()
        task.cancel()
        _ = try? await task.value
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Builds AdmissionReview bodies for a Pod.
struct AdmissionRequestBuilder {
    var uid = UUID().uuidString
    var namespace = "default"
    var name = "pod-1"
    var operation = "CREATE"
    var images: [String] = ["nginx:1.25"]
    var initImages: [String] = []
    var labels: [String: String] = [:]
    var username = "alice"
    var groups = ["system:authenticated"]
    /// `spec.imagePullSecrets` names.
    var imagePullSecrets: [String] = []
    /// `metadata.annotations` (as a client wrote them).
    var annotations: [String: String] = [:]

    var pod: JSONValue {
        func containers(_ images: [String], prefix: String) -> JSONValue {
            .array(images.enumerated().map { i, image in ["name": .string("\(prefix)\(i)"), "image": .string(image)] })
        }
        var spec: [String: JSONValue] = ["containers": containers(images, prefix: "c")]
        if !initImages.isEmpty { spec["initContainers"] = containers(initImages, prefix: "init") }
        if !imagePullSecrets.isEmpty { spec["imagePullSecrets"] = .array(imagePullSecrets.map { ["name": .string($0)] }) }
        var metadata: [String: JSONValue] = ["name": .string(name), "namespace": .string(namespace),
                                             "labels": .object(labels.mapValues { .string($0) })]
        if !annotations.isEmpty { metadata["annotations"] = .object(annotations.mapValues { .string($0) }) }
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": .object(metadata),
            "spec": .object(spec),
        ]
    }

    var review: JSONValue {
        [
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": [
                "uid": .string(uid),
                "kind": ["group": "", "version": "v1", "kind": "Pod"],
                "resource": ["group": "", "version": "v1", "resource": "pods"],
                "name": .string(name), "namespace": .string(namespace), "operation": .string(operation),
                "userInfo": ["username": .string(username), "groups": .array(groups.map { .string($0) })],
                "object": pod, "dryRun": false,
            ],
        ]
    }

    var reviewData: Data { Data(review.jsonString.utf8) }
    var request: AdmissionRequest { try! AdmissionReview(parsing: reviewData).request! }
}

/// A reviewer that answers with a fixed closure.
struct FakeReviewer: AdmissionReviewer {
    var ready = true
    var answer: @Sendable (AdmissionRequest, AdmissionPhase) async -> AdmissionResponse
    func review(_ request: AdmissionRequest, phase: AdmissionPhase, group: PolicyGroup, deadline: ContinuousClock.Instant) async -> AdmissionResponse {
        await answer(request, phase)
    }
    var isReady: Bool { ready }
}
