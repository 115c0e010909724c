import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals
import SignetPolicy
import SignetPrimitives

/// Which webhook a review came through: `/mutate` runs verifyImages and pins digests, `/validate`
/// runs validate rules and Kyverno's second verifyImages pass (`verifyDigest`, `required`).
public enum AdmissionPhase: String, Sendable, Hashable {
    case mutate, validate
}

/// Which policies a webhook path evaluates: all of them (`/validate`), or only those whose
/// failurePolicy is Fail (`/validate/fail`) or Ignore (`/validate/ignore`). Kyverno registers one
/// webhook per failurePolicy so the API server's own failurePolicy (applied when the webhook
/// cannot be reached) is the policies' own; `signet webhook-config` does the same.
public enum PolicyGroup: String, Sendable, Hashable, CaseIterable {
    case all, fail, ignore

    /// Whether a policy with `failurePolicy` belongs to this group (anything but Ignore is Fail).
    public func contains(failurePolicy: FailurePolicy) -> Bool {
        switch self {
        case .all: return true
        case .fail: return failurePolicy == .fail
        case .ignore: return failurePolicy == .ignore
        }
    }
}

/// Something that answers AdmissionReviews: the decision, given a deadline.
public protocol AdmissionReviewer: Sendable {
    /// The response for `request` in `phase`, evaluating the policies of `group`. Must return by
    /// `deadline`; work that cannot finish in time is an error handled by the policy's failurePolicy.
    func review(_ request: AdmissionRequest, phase: AdmissionPhase, group: PolicyGroup,
                deadline: ContinuousClock.Instant) async -> AdmissionResponse
    /// True once policies are loaded and the reviewer can answer.
    var isReady: Bool { get }
    /// The same response as `review`, when it can be given at once, without waiting for anything
    /// (computed on the calling thread, an event loop: `ImmediateReviewHandler`); nil otherwise.
    func reviewImmediately(_ request: AdmissionRequest, phase: AdmissionPhase, group: PolicyGroup) -> AdmissionResponse?
}

extension AdmissionReviewer {
    /// A reviewer that always waits: every review goes through `review`.
    public func reviewImmediately(_ request: AdmissionRequest, phase: AdmissionPhase, group: PolicyGroup) -> AdmissionResponse? { nil }

    /// The response for `request` in `phase`, evaluating every policy.
    public func review(_ request: AdmissionRequest, phase: AdmissionPhase, deadline: ContinuousClock.Instant) async -> AdmissionResponse {
        await review(request, phase: phase, group: .all, deadline: deadline)
    }
}

/// The webhook's HTTPS server (Hummingbird 2 + TLS): `POST /validate`, `POST /mutate` (and their
/// `/fail` and `/ignore` forms, see `PolicyGroup`),
/// `GET /healthz`, `/readyz`, `/metrics`, `/reports`.
public struct AdmissionServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port (see `onListening`).
        public var port: Int
        /// Largest request body read; larger ones get 413. AdmissionReviews carry the object and
        /// the old object, each up to etcd's 1.5 MiB.
        public var maxBodySize: Int
        /// The webhook timeout assumed when the API server sends no `?timeout=` (Kubernetes' default).
        public var defaultTimeout: Duration
        /// Kept free between the end of our decision and the API server's deadline.
        public var timeoutMargin: Duration
        /// How often TLS files (and whatever `reloaders` watch) are checked.
        public var reloadInterval: Duration
        /// Connection count and read/idle timeouts of the webhook listener.
        public var connections: ConnectionLimits
        /// The plain-HTTP listener of `/metrics` and `/reports` (and the probes), kept apart from
        /// the webhook port as Kyverno keeps its metrics port: loopback by default; nil: none.
        public var metricsHost: String?
        /// 0 picks a free port (see `onMetricsListening`).
        public var metricsPort: Int
        /// Warm reviews answered on the event loop by `ImmediateReviewHandler` (false: every review
        /// through the router; `serve --no-immediate-reviews`, for comparison).
        public var immediateReviews: Bool

        public init(host: String = "0.0.0.0", port: Int = 9443, maxBodySize: Int = 3 * 1024 * 1024,
                    defaultTimeout: Duration = .seconds(10), timeoutMargin: Duration = .seconds(1),
                    reloadInterval: Duration = .seconds(2), connections: ConnectionLimits = ConnectionLimits(),
                    metricsHost: String? = "127.0.0.1", metricsPort: Int = 8000, immediateReviews: Bool = true) {
            self.host = host; self.port = port; self.maxBodySize = maxBodySize
            self.defaultTimeout = defaultTimeout; self.timeoutMargin = timeoutMargin; self.reloadInterval = reloadInterval
            self.connections = connections; self.metricsHost = metricsHost; self.metricsPort = metricsPort
            self.immediateReviews = immediateReviews
        }
    }

    public let configuration: Configuration
    public let tls: ReloadingTLSIdentity
    public let reviewer: any AdmissionReviewer
    public let metrics: AdmissionMetrics
    public let violations: ViolationStore
    public let logger: Logger
    /// Called every `reloadInterval` (policy directory polling, say).
    public let reloaders: [@Sendable () async -> Void]

    public init(configuration: Configuration, tls: ReloadingTLSIdentity, reviewer: any AdmissionReviewer,
                metrics: AdmissionMetrics, violations: ViolationStore, logger: Logger,
                reloaders: [@Sendable () async -> Void] = []) {
        self.configuration = configuration; self.tls = tls; self.reviewer = reviewer; self.metrics = metrics
        self.violations = violations; self.logger = logger; self.reloaders = reloaders
    }

    /// The time the decision may take for a call carrying `?timeout=` `timeout` (e.g. `10s`):
    /// the timeout, clamped to 1-30 s as the API server clamps `timeoutSeconds`, minus the margin,
    /// and never less than half the timeout. An unreadable value means the default timeout.
    public func budget(forTimeoutParameter timeout: String?) -> Duration {
        var total = timeout.flatMap { try? GoDuration(parsing: $0) }.map(\.swiftDuration) ?? configuration.defaultTimeout
        total = min(max(total, .seconds(1)), .seconds(30))
        let budget = total - configuration.timeoutMargin
        return max(budget, total / 2)
    }

    /// The webhook listener's router: the admission paths and the probes.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let reviews = router.group().add(middleware: RequestMetricsMiddleware(metrics: metrics))
        for phase in [AdmissionPhase.validate, .mutate] {
            for group in PolicyGroup.allCases {
                let path = Self.path(phase, group)
                reviews.post(RouterPath(path)) { request, _ in
                    await self.review(request, phase: phase, group: group, path: path, start: .now)
                }
            }
        }
        addProbes(to: router)
        return router
    }

    /// The route of a review path: `/validate`, `/validate/fail`, `/mutate/ignore`...
    static func path(_ phase: AdmissionPhase, _ group: PolicyGroup) -> String {
        group == .all ? "/\(phase.rawValue)" : "/\(phase.rawValue)/\(group.rawValue)"
    }

    /// The metrics listener's router: `/metrics`, `/reports` and the probes. Never on the webhook
    /// port, whose clients are not to read recent violations, image names and messages.
    public func makeMetricsRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition())))
        }
        router.get("/reports") { request, _ in
            let namespace = request.uri.queryParameters.get("namespace")
            return Self.json(.ok, Data(self.violations.reports(namespace: namespace).jsonString.utf8))
        }
        addProbes(to: router)
        return router
    }

    func addProbes(to router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in
            Self.text(.ok, "ok\n")
        }
        router.get("/readyz") { _, _ in
            self.reviewer.isReady ? Self.text(.ok, "ok\n") : Self.text(.serviceUnavailable, "policies not loaded\n")
        }
    }

    /// The `Server` header of the webhook's responses.
    static let serverName = "signet"

    /// Builds the webhook's Hummingbird application (HTTPS, connection limits and timeouts).
    /// `onListening` receives the bound port.
    public func makeApplication(onListening: @escaping @Sendable (Int) async -> Void = { _ in })
        throws -> some ApplicationProtocol {
        let limits = configuration.connections
        let registry = ConnectionRegistry(limit: limits.maxConnections)
        let reviewer = self.reviewer, metrics = self.metrics, maxBodySize = configuration.maxBodySize
        let immediate = configuration.immediateReviews
        let tlsConfiguration = tls.serverConfiguration()
        let server = HTTPServerBuilder { responder in
            let tls = try TLSChannel(HTTP1Channel(responder: responder), tlsConfiguration: tlsConfiguration)
            let http = HTTP1PartsChannel(base: tls) {
                [ConnectionGuardHandler(registry: registry, limits: limits)]
                    + (immediate ? [ImmediateReviewHandler(reviewer: reviewer, metrics: metrics, maxBodySize: maxBodySize,
                                                           serverName: Self.serverName)] : [])
            }
            return GuardedChannel(base: http, registry: registry)
        }
        return Application(
            router: makeRouter(),
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: Self.serverName,
                                 backlog: 1024),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? 0)
            },
            logger: logger)
    }

    /// Builds the plain-HTTP metrics application, or nil when `metricsHost` is nil.
    public func makeMetricsApplication(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> (any Service)? {
        guard let host = configuration.metricsHost else { return nil }
        let limits = configuration.connections
        let registry = ConnectionRegistry(limit: 64)
        let server = HTTPServerBuilder { responder in
            HTTP1PartsChannel(base: HTTP1Channel(responder: responder)) { [ConnectionGuardHandler(registry: registry, limits: limits)] }
        }
        return Application(
            router: makeMetricsRouter(),
            server: server,
            configuration: .init(address: .hostname(host, port: configuration.metricsPort), serverName: "signet-metrics"),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? 0)
            },
            logger: logger)
    }

    /// Runs until one of `signals` (or until the surrounding task is cancelled), then stops
    /// accepting connections and drains in-flight requests (swift-service-lifecycle graceful shutdown).
    ///
    /// `services` (clients to close, see `ClientShutdownService`) join the group ahead of the
    /// listeners: the group shuts down in reverse order, so they stop after the last request drained.
    public func run(gracefulShutdownSignals signals: [UnixSignal] = [.sigterm, .sigint], services clients: [any Service] = [],
                    onListening: @escaping @Sendable (Int) async -> Void = { _ in },
                    onMetricsListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = try makeApplication(onListening: onListening)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = clients.map { .init(service: $0) }
        services += [.init(service: app), .init(service: ReloadService(server: self))]
        if let metricsApp = makeMetricsApplication(onListening: onMetricsListening) { services.append(.init(service: metricsApp)) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: signals, logger: logger))
        try await group.run()
    }

    /// Polls TLS files and the `reloaders` until graceful shutdown.
    struct ReloadService: Service {
        let server: AdmissionServer
        func run() async throws {
            // Ends quietly on graceful shutdown (the sleep is cancelled): not an error.
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: server.configuration.reloadInterval) } catch { return }
                    await server.reloadOnce()
                }
            }
        }
    }

    /// One polling round: TLS files, then every reloader.
    public func reloadOnce() async {
        do {
            // File reads block: off the event loops (which also run the tasks when `serve` installs
            // them as the global executor), on NIO's blocking-I/O pool.
            let tls = self.tls
            if try await NIOThreadPool.singleton.runIfActive({ try tls.reloadIfChanged() }) {
                metrics.tlsReload(success: true)
                logger.info("tls certificate reloaded", metadata: ["cert": "\(tls.certificatePath)"])
            }
        } catch {
            metrics.tlsReload(success: false)
            logger.error("tls certificate reload failed; keeping the previous certificate", metadata: ["error": "\(error)"])
        }
        for reload in reloaders { await reload() }
        #if os(Linux)
        // Give memory back after a burst (a flood of images or connections): glibc keeps freed
        // heap pages otherwise, and the RSS would stay at its peak.
        _ = glibcMallocTrim(0)
        #endif
    }

    // MARK: - Reviews

    func review(_ request: Request, phase: AdmissionPhase, group: PolicyGroup, path: String,
                start: ContinuousClock.Instant) async -> Response {
        let contentType = request.headers[.contentType] ?? ""
        guard Self.isJSONMediaType(contentType) else {
            return badRequest(path, "content type must be application/json, not '\(contentType)'")
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > configuration.maxBodySize {
            return tooLarge(path)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxBodySize)
        } catch is NIOTooManyBytesError {
            return tooLarge(path)
        } catch {
            return badRequest(path, "could not read the request body")
        }
        let review: AdmissionReview
        do {
            review = try AdmissionReview(parsing: body)
        } catch let error as SignetAdmissionError {
            return badRequest(path, error.message)
        } catch {
            return badRequest(path, "malformed AdmissionReview")
        }
        // `AdmissionReview(parsing:)` rejects a review without a request; checked again, never trapped on.
        guard let admissionRequest = review.request else { return badRequest(path, "the AdmissionReview has no request") }
        let budget = budget(forTimeoutParameter: request.uri.queryParameters.get("timeout"))
        let answer = await reviewer.review(admissionRequest, phase: phase, group: group, deadline: start + budget)
        metrics.response(path: path, allowed: answer.allowed)
        do {
            return Self.json(.ok, try AdmissionReview.reply(answer).replyData())
        } catch {
            logger.error("could not encode the admission response", metadata: ["error": "\(error)"])
            return Self.text(.internalServerError, "could not encode the admission response\n")
        }
    }

    /// True when a Content-Type names `application/json` (any case, parameters and spaces allowed,
    /// RFC 9110 section 8.3.1); a byte scan, as it runs on every review.
    static func isJSONMediaType(_ contentType: String) -> Bool {
        var text = contentType
        return text.withUTF8 { bytes in
            // The media type: before any parameter, without surrounding spaces or tabs.
            func space(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
            var start = 0
            var end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
            while start < end, space(bytes[start]) { start += 1 }
            while end > start, space(bytes[end - 1]) { end -= 1 }
            return equalsIgnoringASCIICase(UnsafeBufferPointer(rebasing: bytes[start..<end]), "application/json")
        }
    }

    /// Whether `bytes` spell `lowercase` with ASCII letters in either case (media types and HTTP
    /// field names, RFC 9110 sections 5.1 and 8.3.1).
    static func equalsIgnoringASCIICase(_ bytes: some Collection<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { want in
            // Setting bit 0x20 maps A-Z to a-z; only letters may differ that way.
            zip(bytes, want).allSatisfy { a, b in a == b || (a | 0x20 == b && b >= 0x61 && b <= 0x7a) }
        }
    }

    func badRequest(_ path: String, _ message: String) -> Response {
        logger.notice("rejected admission request", metadata: ["path": "\(path)", "reason": "\(message)"])
        return Self.text(.badRequest, "bad request: \(message)\n")
    }

    func tooLarge(_ path: String) -> Response {
        logger.notice("rejected admission request", metadata: ["path": "\(path)", "reason": "body too large"])
        return Self.text(.contentTooLarge, "request body is larger than \(configuration.maxBodySize) bytes\n")
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ status: HTTPResponse.Status, _ data: Data) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

#if os(Linux)
/// glibc's `malloc_trim(3)`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
func glibcMallocTrim(_ pad: Int) -> Int32
#endif
