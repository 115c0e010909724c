import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization

/// The HTTP connection pools of registry clients: one per TLS policy. Redirects are followed by
/// hand (`redirectConfiguration: .disallow`) so that Authorization is never sent to another host.
///
/// Command-line runs share `RegistryTransport.shared` for the life of the process; a server
/// creates its own and closes it on graceful shutdown (`shutdown()`, a service in `signet serve`'s
/// service group), after the last request has drained.
public final class RegistryTransport: Sendable {
    let secure: HTTPClient
    let insecure: HTTPClient
    private let isShutDown = Mutex(false)

    /// The process-wide transport of command-line runs (never shut down).
    public static let shared = RegistryTransport()

    /// New connection pools on NIO's shared event loops.
    public init() {
        secure = HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.configuration(verifyTLS: true))
        insecure = HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.configuration(verifyTLS: false))
    }

    static func configuration(verifyTLS: Bool) -> HTTPClient.Configuration {
        var c = verifyTLS
            ? HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)), decompression: .disabled)
            : HTTPClient.Configuration(certificateVerification: .none, redirectConfiguration: .disallow,
                                       timeout: .init(connect: .seconds(10)), decompression: .disabled)
        // A refused connection fails at once instead of being retried until the connect timeout.
        c.connectionPool.retryConnectionEstablishment = false
        return c
    }

    /// Closes both pools; requests after it fail. Later calls do nothing.
    public func shutdown() async throws {
        guard isShutDown.withLock({ old in defer { old = true }; return !old }) else { return }
        try await secure.shutdown()
        try await insecure.shutdown()
    }
}

/// A client for OCI distribution spec 1.1 registries (and Docker Registry HTTP API v2).
///
/// Thread-safe (`Sendable`): share one instance. Auth state (registry challenges, bearer tokens per
/// scope) is cached inside. Plain HTTP is used only for loopback registries, or any registry when
/// `Configuration.allowInsecure` is set. Errors are `SignetOCIError` and never contain credentials.
public final class RegistryClient: Sendable {
    /// Client settings (timeouts, retries, upload chunking, insecure registries).
    public struct Configuration: Sendable {
        /// Allow plain HTTP and unverified TLS for every registry (loopback registries always use HTTP).
        public var allowInsecure: Bool
        /// Deadline for one request and its response (manifests, tokens, pings).
        public var requestTimeout: Duration
        /// Deadline for one blob transfer.
        public var blobTimeout: Duration
        /// How many times a 429/503 answer (or a dropped connection on an idempotent request) is retried.
        public var maxRetries: Int
        /// The longest wait honoured from `Retry-After`.
        public var maxRetryDelay: Duration
        /// Blobs larger than this are uploaded in PATCH chunks of `chunkSize`.
        public var monolithicUploadLimit: Int
        /// Chunk size for chunked uploads.
        public var chunkSize: Int
        /// Sent as `User-Agent`.
        public var userAgent: String
        /// Request log (method, URL, status at debug level; never headers or bodies).
        public var logger: Logger

        public init(allowInsecure: Bool = false, requestTimeout: Duration = .seconds(60),
                    blobTimeout: Duration = .seconds(600), maxRetries: Int = 3,
                    maxRetryDelay: Duration = .seconds(10), monolithicUploadLimit: Int = 16 << 20,
                    chunkSize: Int = 8 << 20, userAgent: String = "signet/0.1",
                    logger: Logger = Logger(label: "signet.oci", factory: { _ in SwiftLogNoOpLogHandler() })) {
            self.allowInsecure = allowInsecure
            self.requestTimeout = requestTimeout
            self.blobTimeout = blobTimeout
            self.maxRetries = maxRetries
            self.maxRetryDelay = maxRetryDelay
            self.monolithicUploadLimit = monolithicUploadLimit
            self.chunkSize = chunkSize
            self.userAgent = userAgent
            self.logger = logger
        }
    }

    /// The largest manifest accepted (4 MiB, as containerd and distribution do).
    public static let maxManifestSize = 4 << 20

    public let configuration: Configuration
    public let credentials: CredentialStore

    let state = Mutex(State())

    struct State {
        var endpoints: [String: Endpoint] = [:]
        var tokens: [String: CachedToken] = [:]
        var roundTrips = 0
    }

    /// What a registry's `/v2/` told us.
    struct Endpoint: Sendable {
        var scheme: String
        var challenge: Challenge
    }

    struct CachedToken: Sendable {
        var token: String
        var expires: ContinuousClock.Instant
    }

    /// The connection pools the requests go through.
    public let transport: RegistryTransport

    /// Creates a client. Nothing is contacted until the first call. `transport` is the process-wide
    /// one unless the caller owns a transport and its shutdown (`signet serve` does).
    public init(configuration: Configuration = Configuration(), credentials: CredentialStore = .anonymous,
                transport: RegistryTransport = .shared) {
        self.configuration = configuration
        self.credentials = credentials
        self.transport = transport
    }

    /// A client with the same configuration and transport and other credentials (fresh auth state).
    public func with(credentials: CredentialStore) -> RegistryClient {
        RegistryClient(configuration: configuration, credentials: credentials, transport: transport)
    }

    /// HTTP requests sent so far (pings, token requests, retries and redirects included).
    public var roundTrips: Int { state.withLock { $0.roundTrips } }

    /// Forgets cached pings and tokens (the next request authenticates again).
    public func resetAuthCache() { state.withLock { $0.endpoints = [:]; $0.tokens = [:] } }

    var http: HTTPClient { configuration.allowInsecure ? transport.insecure : transport.secure }

    // MARK: - Raw exchange

    /// A finished HTTP exchange.
    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var url: String

        func header(_ name: String) -> String? { headers.first(name: name) }
    }

    /// Sends one request (no auth, no retries), reading at most `maxBody` bytes of the answer.
    func exchange(_ method: HTTPMethod, url: String, headers: [(String, String)], body: Data?,
                  maxBody: Int, timeout: Duration, host: String) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            request.body = .bytes(ByteBuffer(data: body))
        } else if method == .PUT || method == .POST || method == .PATCH {
            request.headers.replaceOrAdd(name: "Content-Length", value: "0")
        }
        state.withLock { $0.roundTrips += 1 }
        let timeAmount = TimeAmount.nanoseconds(timeout.wholeNanoseconds)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: timeAmount)
        } catch {
            throw Self.transportError(error, host: host, url: url)
        }
        var data = Data()
        if method != .HEAD {
            if let lengthText = response.headers.first(name: "Content-Length"), let length = Int(lengthText), length > maxBody {
                throw SignetOCIError(.sizeMismatch, "response from \(host) is \(length) bytes, over the limit of \(maxBody) bytes")
            }
            do {
                let buffer = try await response.body.collect(upTo: maxBody)
                data = Data(buffer: buffer)
            } catch is NIOTooManyBytesError {
                throw SignetOCIError(.sizeMismatch, "response from \(host) is over the limit of \(maxBody) bytes")
            } catch {
                throw SignetOCIError(.transport, "connection to \(host) broke while reading the response (truncated body)", underlying: error)
            }
            if let lengthText = response.headers.first(name: "Content-Length"), let length = Int(lengthText), data.count < length {
                throw SignetOCIError(.sizeMismatch, "response from \(host) was truncated: got \(data.count) of \(length) bytes")
            }
        }
        configuration.logger.debug("\(method.rawValue) \(Self.redactedURL(url)) -> \(response.status.code)")
        return Response(status: Int(response.status.code), headers: response.headers, body: data, url: url)
    }

    static func transportError(_ error: any Error, host: String, url: String) -> SignetOCIError {
        let text = String(describing: error)
        let lower = text.lowercased()
        let reason: String
        if lower.contains("refused") { reason = "connection refused" }
        else if lower.contains("deadlineexceeded") || lower.contains("timeout") || lower.contains("timedout") { reason = "timed out" }
        else if lower.contains("ssl") || lower.contains("tls") || lower.contains("handshake") || lower.contains("certificate") { reason = "tls handshake failed" }
        else if lower.contains("remoteconnectionclosed") || lower.contains("eof") { reason = "connection closed by the server" }
        else if lower.contains("resolve") || lower.contains("dns") || lower.contains("lookup") { reason = "cannot resolve host" }
        else { reason = "request failed" }
        return SignetOCIError(.transport, "cannot reach registry \(host): \(reason)", underlying: error)
    }

    /// The URL without its query (query strings of upload URLs may carry state tokens).
    static func redactedURL(_ url: String) -> String {
        if let q = url.firstIndex(of: "?") { return String(url[..<q]) + "?…" }
        return url
    }

    /// The host:port part of an absolute URL.
    static func hostOf(_ url: String) -> String {
        guard let r = url.range(of: "://") else { return "" }
        let rest = url[r.upperBound...]
        let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        return String(rest[..<end]).lowercased()
    }

    /// Resolves a (possibly relative) Location against `base`.
    static func resolveLocation(_ location: String, base: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        guard let r = base.range(of: "://") else { return location }
        let scheme = base[..<r.lowerBound]
        let host = hostOf(base)
        if location.hasPrefix("//") { return "\(scheme):\(location)" }
        if location.hasPrefix("/") { return "\(scheme)://\(host)\(location)" }
        var path = base
        if let q = path.firstIndex(of: "?") { path = String(path[..<q]) }
        if let slash = path.lastIndex(of: "/") { path = String(path[...slash]) }
        return path + location
    }

    // MARK: - Authenticated request with retries and redirects

    /// What a request needs from the token service.
    struct Request: Sendable {
        var method: HTTPMethod
        /// Path and query under the registry, e.g. `/v2/a/b/manifests/t`, or an absolute URL.
        var target: String
        var headers: [(String, String)] = []
        var body: Data? = nil
        var scopes: [String] = []
        var maxBody: Int = 1 << 20
        var timeout: Duration? = nil
        var followRedirects: Bool = false
    }

    /// Sends `request` to `registry` with auth, bounded 429/503 retries and (optionally) redirects.
    func send(_ request: Request, registry: String) async throws -> Response {
        var endpoint = try await ensureEndpoint(registry)
        let base = "\(endpoint.scheme)://\(registry)"
        var url = request.target.hasPrefix("http") ? request.target : base + request.target
        var method = request.method
        var body = request.body
        var scopes = request.scopes
        var authRetried = false
        var retries = 0
        var redirects = 0
        let timeout = request.timeout ?? configuration.requestTimeout
        while true {
            let sameHost = Self.hostOf(url) == registry.lowercased()
            var headers = request.headers
            if sameHost, let auth = try await authorization(registry: registry, endpoint: endpoint, scopes: scopes) {
                headers.append(("Authorization", auth))
            }
            let response: Response
            do {
                response = try await exchange(method, url: url, headers: headers, body: body,
                                              maxBody: request.maxBody, timeout: timeout, host: registry)
            } catch let error as SignetOCIError where error.code == .transport && retries < configuration.maxRetries
                && (method == .GET || method == .HEAD) && !String(describing: error.underlying ?? error).lowercased().contains("refused")
                && error.message.contains("closed") {
                retries += 1
                try await Task.sleep(for: .milliseconds(200 * retries))
                continue
            }
            switch response.status {
            case 401 where sameHost && !authRetried:
                // The token may have expired or lack a scope: take the challenge's scope and retry once.
                authRetried = true
                let challenge = Challenge(header: response.header("WWW-Authenticate"))
                if case .bearer(_, _, let scope?) = challenge, !scopes.contains(scope) { scopes.append(scope) }
                state.withLock { s in
                    if challenge != .none { s.endpoints[registry]?.challenge = challenge }
                    for key in s.tokens.keys where key.hasPrefix(registry + " ") { s.tokens[key] = nil }
                }
                endpoint = state.withLock { $0.endpoints[registry] } ?? endpoint
                switch endpoint.challenge {
                case .none: return response
                case .basic: if try await credentials.credential(for: registry) == nil { return response }
                case .bearer: break
                }
                continue
            // `where` binds to one pattern only: each status needs its own bound.
            case 429 where retries < configuration.maxRetries, 503 where retries < configuration.maxRetries:
                retries += 1
                let wait = Self.retryDelay(response.header("Retry-After"), attempt: retries, cap: configuration.maxRetryDelay)
                configuration.logger.debug("\(response.status) from \(registry), retrying in \(wait)")
                try await Task.sleep(for: wait)
                continue
            case 301 where request.followRedirects, 302 where request.followRedirects,
                 303 where request.followRedirects, 307 where request.followRedirects,
                 308 where request.followRedirects:
                redirects += 1
                guard redirects <= 5, let location = response.header("Location") else {
                    throw SignetOCIError(.registryError, "too many redirects from \(registry)", status: response.status)
                }
                url = Self.resolveLocation(location, base: url)
                guard url.hasPrefix("https://") || configuration.allowInsecure || Reference.isLoopback(host: Self.hostOf(url)) else {
                    throw SignetOCIError(.insecureRegistry, "\(registry) redirected to plain http at \(Self.hostOf(url))")
                }
                if response.status == 303 { method = .GET; body = nil }
                continue
            default:
                return response
            }
        }
    }

    static func retryDelay(_ header: String?, attempt: Int, cap: Duration) -> Duration {
        var wait: Duration = .milliseconds(500 * (1 << min(attempt - 1, 6)))
        if let header = header?.trimmingCharacters(in: .whitespaces) {
            if let seconds = Int(header) {
                wait = .seconds(max(0, seconds))
            } else {
                let f = DateFormatter()
                f.locale = Locale(identifier: "en_US_POSIX")
                f.timeZone = TimeZone(identifier: "GMT")
                f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
                if let date = f.date(from: header) { wait = .milliseconds(max(0, Int(date.timeIntervalSinceNow * 1000))) }
            }
        }
        return min(wait, cap)
    }

    /// Turns an unexpected answer into an error with the registry's own error code and message.
    func failure(_ response: Response, _ what: String, registry: String) -> SignetOCIError {
        var detail = ""
        struct Errors: Decodable { struct E: Decodable { let code: String?; let message: String? }; let errors: [E]? }
        if let e = try? JSONDecoder().decode(Errors.self, from: response.body), let first = e.errors?.first {
            detail = ": " + [first.code?.lowercased(), first.message?.lowercased()].compactMap { $0 }.joined(separator: " ")
        }
        let code: SignetOCIError.Code
        switch response.status {
        case 401, 403: code = .unauthorized
        case 404: code = .notFound
        case 429, 503: code = .tooManyRequests
        default: code = .registryError
        }
        var message = "\(what): registry \(registry) answered \(response.status)\(detail)"
        if response.status == 401 {
            message += " (authentication required; no usable credentials for \(registry))"
        } else if response.status == 403 {
            message += " (access denied)"
        }
        return SignetOCIError(code, message, status: response.status)
    }
}
