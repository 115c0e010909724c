import Logging
import NIOPosix
import ServiceLifecycle
import SignetPolicy
import SignetVerification
import UnixSignals

/// Everything `signet serve` is made of, as values. The executable fills it from its flags and the
/// environment, tests fill it directly; nothing in this module reads either.
public struct WebhookConfiguration: Sendable {
    /// Where the policies come from.
    public enum Policies: Sendable {
        /// Every `*.yaml`, `*.yml` and `*.json` file of a directory, re-read when it changes.
        case directory(String)
        /// A set that never changes (tests, embedding).
        case fixed(PolicySet)
    }

    /// The certificate chain and key of the webhook's TLS listener, re-read when they change.
    public struct TLSFiles: Sendable {
        public var certificatePath: String
        public var keyPath: String
        public init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    public var policies: Policies
    public var tls: TLSFiles
    /// Listeners, body size, timeouts and connection limits.
    public var server: AdmissionServer.Configuration
    /// Images per request and verification concurrency.
    public var limits: AdmissionController.Limits
    /// Lifetime and size of the cache of successful verifications (keyed by digest).
    public var cacheTTL: Duration
    public var cacheCapacity: Int
    /// How many recent violations `/reports` keeps.
    public var reportsCapacity: Int
    /// The API server for namespace labels and RBAC roles; nil: none (those rules report errors).
    public var kubernetes: KubernetesAPIConfiguration?
    /// How long namespace labels and role bindings read from the API server are kept (and the
    /// objects, decisions and global context entries policies read).
    public var clusterCacheTTL: Duration
    /// Bounds on the cluster reads of one request (rounds, reads, fan-out, answer size).
    public var clusterDataLimits: ClusterDataSource.Limits = .init()
    /// The namespace signet runs in: where cluster-wide policies' registry credential Secrets
    /// (`credentials.secrets`) are read, as Kyverno reads them in its own namespace.
    public var ownNamespace: String = "signet"
    /// Hosts the CEL `http` library may call (`host` or `host:port`); empty: `http` calls are errors.
    public var allowedHTTPHosts: [String] = []

    public init(policies: Policies, tls: TLSFiles, server: AdmissionServer.Configuration = .init(),
                limits: AdmissionController.Limits = .init(), cacheTTL: Duration = .seconds(3600), cacheCapacity: Int = 1000,
                reportsCapacity: Int = 1000, kubernetes: KubernetesAPIConfiguration? = nil, clusterCacheTTL: Duration = .seconds(30)) {
        self.policies = policies
        self.tls = tls
        self.server = server
        self.limits = limits
        self.cacheTTL = cacheTTL
        self.cacheCapacity = cacheCapacity
        self.reportsCapacity = reportsCapacity
        self.kubernetes = kubernetes
        self.clusterCacheTTL = clusterCacheTTL
    }
}

/// What verifies images for the webhook: the signature checks and the tag resolution (usually one
/// `CosignImageVerifier` from SignetVerification, built by the executable with its KMS logins).
public typealias WebhookVerifier = ImageVerifier & DigestResolver

/// Closes a client's connections when the service group shuts down (after the listeners, which
/// are listed after it and so stop first): graceful, and never left to `deinit`.
public struct ClientShutdownService: Service, CustomStringConvertible {
    /// Names the client in the service group's logs.
    public let description: String
    let shutdown: @Sendable () async throws -> Void

    public init(_ name: String, shutdown: @escaping @Sendable () async throws -> Void) {
        self.description = name
        self.shutdown = shutdown
    }

    public func run() async throws {
        // Ends on graceful shutdown or on cancellation; either way the client is closed.
        try? await gracefulShutdown()
        try await shutdown()
    }
}

/// The webhook, assembled by `buildApplication`: run it (it is a swift-service-lifecycle
/// `Service`), or reach its parts (tests read the controller, metrics and violations).
public struct WebhookApplication: Service {
    public let server: AdmissionServer
    public let controller: AdmissionController
    public let policies: PolicyStore
    public let metrics: AdmissionMetrics
    public let violations: ViolationStore
    /// Client services (Kubernetes, and those the caller passed), shut down after the listeners.
    let clients: [any Service]

    /// Runs until graceful shutdown (from a surrounding service group) or cancellation.
    public func run() async throws {
        try await run(gracefulShutdownSignals: [])
    }

    /// Runs until one of `signals`, then stops accepting connections, drains in-flight requests
    /// and closes the clients. `onListening`/`onMetricsListening` receive the bound ports.
    public func run(gracefulShutdownSignals signals: [UnixSignal],
                    onListening: @escaping @Sendable (Int) async -> Void = { _ in },
                    onMetricsListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await server.run(gracefulShutdownSignals: signals, services: clients,
                             onListening: onListening, onMetricsListening: onMetricsListening)
    }
}

/// Assembles `signet serve` from its configuration (the Hummingbird `buildApplication` pattern):
/// policy store, verification service and cache, API-server lookups, controller and listeners.
/// The command and the tests both call this, so what is tested is what runs.
///
/// - Parameters:
///   - verifier: checks signatures and resolves tags; nil when no policy verifies images.
///   - imageData: reads image manifests and configs for `imageRegistry` / `image.GetMetadata`.
///   - clients: services closing the caller's clients (Vault, say) on shutdown.
/// - Throws: `SignetAdmissionError` for a policy directory that does not load, unreadable TLS
///   files, or an invalid API server configuration.
public func buildApplication(_ configuration: WebhookConfiguration, verifier: (any WebhookVerifier)?,
                             imageData: (any ImageDataProvider)? = nil,
                             clients: [any Service] = [], logger: Logger) throws -> WebhookApplication {
    let metrics = AdmissionMetrics()
    let store: PolicyStore
    switch configuration.policies {
    case .directory(let path):
        store = PolicyStore(directory: path, logger: logger, metrics: metrics)
        try store.load()
    case .fixed(let set):
        store = PolicyStore(fixed: set, logger: logger)
    }
    var verifier = verifier
    let violations = ViolationStore(capacity: configuration.reportsCapacity)
    var services = clients
    var cluster: KubernetesClusterLookup?
    var clusterData: ClusterDataSource?
    if let kubernetes = configuration.kubernetes {
        let client = try KubernetesClient(configuration: kubernetes)
        services.append(ClientShutdownService("kubernetes-client") { try await client.shutdown() })
        cluster = KubernetesClusterLookup(client: client, ttl: configuration.clusterCacheTTL)
        clusterData = ClusterDataSource(client: client, ttl: configuration.clusterCacheTTL, limits: configuration.clusterDataLimits)
        // Pull secrets and policy credentials are read through the same API client.
        if let cosign = verifier as? CosignImageVerifier {
            verifier = cosign.with(secrets: KubernetesRegistrySecrets(client: client, ownNamespace: configuration.ownNamespace,
                                                                      ttl: configuration.clusterCacheTTL))
        }
    }
    let verification = verifier.map {
        VerificationService(verifier: $0, resolver: $0, ttl: configuration.cacheTTL, capacity: configuration.cacheCapacity,
                            metrics: metrics, logger: logger)
    }
    var celHTTP: CELHTTPClient?
    if !configuration.allowedHTTPHosts.isEmpty {
        let client = CELHTTPClient(allowedHosts: configuration.allowedHTTPHosts)
        services.append(ClientShutdownService("cel-http-client") { try await client.shutdown() })
        celHTTP = client
    }
    let controller = AdmissionController(policies: store, verification: verification, metrics: metrics,
                                         violations: violations, cluster: cluster, imageData: imageData,
                                         limits: configuration.limits, clusterData: clusterData, celHTTP: celHTTP, logger: logger)
    let tls = try ReloadingTLSIdentity(certificatePath: configuration.tls.certificatePath, keyPath: configuration.tls.keyPath)
    var reloaders: [@Sendable () async -> Void] = []
    if case .directory = configuration.policies {
        reloaders.append {
            // Reading and parsing policy files blocks: keep it off the event loops.
            try? await NIOThreadPool.singleton.runIfActive { store.reloadIfChanged() }
        }
    }
    let server = AdmissionServer(configuration: configuration.server, tls: tls, reviewer: controller, metrics: metrics,
                                 violations: violations, logger: logger, reloaders: reloaders)
    return WebhookApplication(server: server, controller: controller, policies: store, metrics: metrics,
                              violations: violations, clients: services)
}
