import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import SignetOCI
import SignetPolicy
import SignetPrimitives
import Synchronization

/// Where the Kubernetes API server is and how to authenticate to it. The executable fills it
/// (in a Pod: `KUBERNETES_SERVICE_HOST`/`_PORT`, the service account's `ca.crt` and token file);
/// the library reads no environment and no file.
public struct KubernetesAPIConfiguration: Sendable {
    /// `https://HOST:PORT` (an `http://` URL is accepted for tests and `kubectl proxy`).
    public var server: String
    /// PEM of the CA that signed the API server's certificate; nil trusts the system roots.
    public var caCertificatePEM: String?
    /// The bearer token, asked for on every request: projected service account tokens rotate
    /// (the kubelet rewrites the file), so the caller should re-read it, not capture it once.
    public var token: @Sendable () async throws -> String?
    /// Per request, connect included.
    public var requestTimeout: Duration

    public init(server: String, caCertificatePEM: String? = nil,
                token: @escaping @Sendable () async throws -> String? = { nil },
                requestTimeout: Duration = .seconds(5)) {
        self.server = server
        self.caCertificatePEM = caCertificatePEM
        self.token = token
        self.requestTimeout = requestTimeout
    }
}

/// A small client of the Kubernetes API: GETs of JSON objects and lists (namespaces, bindings,
/// the objects policies read) and POSTs of reviews (SubjectAccessReview, `apiCall` POST).
public final class KubernetesClient: Sendable {
    public let configuration: KubernetesAPIConfiguration
    let base: String
    let http: HTTPClient

    /// Largest response read by default: a list of every RoleBinding of a big cluster stays well under it.
    public static let maxResponseSize = 32 << 20

    public init(configuration: KubernetesAPIConfiguration) throws {
        var base = configuration.server
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
              url.host != nil else {
            throw SignetAdmissionError(.cluster, "invalid kubernetes api server url '\(configuration.server)'")
        }
        var http = HTTPClient.Configuration()
        http.redirectConfiguration = .disallow
        let ms = configuration.requestTimeout.wholeMilliseconds
        http.timeout = .init(connect: .milliseconds(ms), read: .milliseconds(ms))
        if scheme == "https" {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let pem = configuration.caCertificatePEM {
                do {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
                } catch {
                    throw SignetAdmissionError(.cluster, "the kubernetes api ca certificate is not valid pem", underlying: error)
                }
            }
            http.tlsConfiguration = tls
        }
        self.configuration = configuration
        self.base = base
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
    }

    private let isShutDown = Mutex(false)

    /// Closes the connection pool (`serve` runs this as a `ClientShutdownService` on graceful
    /// shutdown). Later calls do nothing.
    public func shutdown() async throws {
        guard isShutDown.withLock({ old in defer { old = true }; return !old }) else { return }
        try await http.shutdown()
    }

    // Only for a client dropped without `shutdown()`. Non-blocking: the last reference may be
    // dropped on an event loop, where a synchronous shutdown on the same loops would deadlock.
    deinit {
        if isShutDown.withLock({ !$0 }) { http.shutdown { _ in } }
    }

    /// GETs `path` (e.g. `/api/v1/namespaces/default`) and parses the JSON answer. A 404 is
    /// `nil`; other non-2xx answers throw `.cluster` with the API server's own message (never the token).
    public func get(_ path: String, maxResponseSize: Int = KubernetesClient.maxResponseSize) async throws -> JSONValue? {
        try await send(.GET, path, body: nil, maxResponseSize: maxResponseSize).value
    }

    /// One request: `Accept: application/json`, the bearer token asked for now, at most
    /// `maxResponseSize` bytes read (a longer answer is an error, never truncated JSON). Returns
    /// the parsed answer (nil for a 404) and its size in bytes.
    func send(_ method: HTTPMethod, _ path: String, body: JSONValue?, maxResponseSize: Int) async throws -> (value: JSONValue?, bytes: Int) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "signet/0.1")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonString(sortedKeys: true, escapeHTML: false)))
        }
        let token: String?
        do {
            token = try await configuration.token()
        } catch {
            throw SignetAdmissionError(.cluster, "could not read the kubernetes service account token", underlying: error)
        }
        if let token, !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .milliseconds(configuration.requestTimeout.wholeMilliseconds + 1_000))
            bytes = try await response.body.collect(upTo: max(0, maxResponseSize))
        } catch {
            throw SignetAdmissionError(.cluster, "kubernetes api \(method.rawValue) \(path) failed", underlying: error)
        }
        let data = Data(buffer: bytes)
        switch response.status.code {
        case 200..<300:
            do { return (try JSONValue(json: data), data.count) } catch {
                throw SignetAdmissionError(.cluster, "kubernetes api \(method.rawValue) \(path): the answer is not json", underlying: error)
            }
        case 404:
            return (nil, data.count)
        default:
            // A metav1.Status carries the reason ("namespaces \"x\" is forbidden: ...").
            let message = (try? JSONValue(json: data))?["message"]?.stringValue.map { String($0.prefix(500)) }
                ?? String(decoding: data.prefix(200), as: UTF8.self)
            throw SignetAdmissionError(.cluster, "kubernetes api \(method.rawValue) \(path): http \(response.status.code): \(message)")
        }
    }
}
