import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import SignetVerification
import SignetAdmission
import SignetOCI
import SignetPolicy

/// `signet serve`: the admission webhook (HTTPS), Kyverno-compatible.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the admission webhook.",
        discussion: """
            Serves POST /mutate (verifyImages: verifies signatures and pins tags to the verified \
            digests) and POST /validate (validate rules, verifyDigest and required) as \
            AdmissionReview v1 over HTTPS, plus GET /healthz, /readyz, /metrics (Prometheus) and \
            /reports (recent violations as wgpolicyk8s.io/v1alpha2 PolicyReports).

            Policies (every *.yaml, *.yml, *.json in --policies) and the TLS files are re-read when \
            they change; a bad policy file is reported and the last good set keeps serving.

            kms: hashivault://KEY keys use the Vault settings of the environment (VAULT_ADDR, \
            VAULT_TOKEN or a login: in a cluster, VAULT_AUTH_METHOD=kubernetes with VAULT_AUTH_ROLE \
            and the service-account token).
            """)

    @Option(name: .customLong("policies"), help: "Directory of Kyverno ClusterPolicy files.")
    var policies: String

    @Option(name: .customLong("tls-cert"), help: "PEM certificate (chain) of the server.")
    var tlsCert: String

    @Option(name: .customLong("tls-key"), help: "PEM private key of the server.")
    var tlsKey: String

    @Option(name: .customLong("port"), help: "HTTPS port.")
    var port: Int = 9443

    @Option(name: .customLong("host"), help: "Address to listen on.")
    var host: String = "0.0.0.0"

    @Option(name: .customLong("max-body-bytes"), help: "Largest AdmissionReview accepted (larger: 413).")
    var maxBodyBytes: Int = 3 * 1024 * 1024

    @Option(name: .customLong("webhook-timeout"), help: "Webhook timeout assumed when the API server sends none (seconds).")
    var webhookTimeout: Double = 10

    @Option(name: .customLong("timeout-margin"), help: "Time kept free before the webhook timeout (seconds).")
    var timeoutMargin: Double = 1

    @Option(name: .customLong("cache-ttl"), help: "Lifetime of a successful verification in the cache (seconds).")
    var cacheTTL: Double = 3600

    @Option(name: .customLong("cache-size"), help: "Maximum number of cached verifications.")
    var cacheSize: Int = 1000

    @Option(name: .customLong("reload-interval"), help: "How often policy and TLS files are checked (seconds).")
    var reloadInterval: Double = 2

    @Option(name: .customLong("reports-size"), help: "How many recent violations /reports keeps.")
    var reportsSize: Int = 1000

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(name: .customLong("kubernetes-api"),
            help: "Kubernetes API server for namespace labels and RBAC roles: auto (in a Pod: KUBERNETES_SERVICE_HOST), none, or an https:// URL.")
    var kubernetesAPI: KubernetesAPISetting = .auto

    @Option(name: .customLong("kubernetes-ca"), help: "CA certificate of the API server (default in a Pod: the service account's ca.crt).")
    var kubernetesCA: String?

    @Option(name: .customLong("kubernetes-token-file"), help: "Bearer token file, re-read on use (default in a Pod: the service account token).")
    var kubernetesTokenFile: String?

    @Option(name: .customLong("cluster-cache-ttl"), help: "How long namespace labels and RBAC bindings read from the API server are kept (seconds).")
    var clusterCacheTTL: Double = 30

    @Option(name: .customLong("max-cluster-reads-per-request"),
            help: "Cluster reads policies may cause per request (resource.Get/List, authorizer, configMap, apiCall); beyond it a read is a rule error.")
    var maxClusterReadsPerRequest: Int = 32

    @Option(name: .customLong("allow-http-host"),
            help: "A host (HOST or HOST:PORT) the CEL http library (http.Get/http.Post) may call; repeatable. Without it those calls are errors.")
    var allowHTTPHost: [String] = []

    @Option(name: .customLong("namespace"),
            help: "The namespace signet runs in, where cluster-wide policies' credentials.secrets are read (default: POD_NAMESPACE, the service account's namespace, or signet).")
    var namespace: String?

    @Option(name: .customLong("max-images-per-request"),
            help: "Distinct images verified per request; a request naming more is denied under any failurePolicy.")
    var maxImagesPerRequest: Int = 64

    @Option(name: .customLong("verification-concurrency"), help: "Images of one request verified at once.")
    var verificationConcurrency: Int = 8

    @Option(name: .customLong("server-verification-concurrency"), help: "Images verified at once across the server.")
    var serverVerificationConcurrency: Int = 32

    @Option(name: .customLong("max-connections"),
            help: "Connections held at once; beyond it the oldest idle or unfinished connection is closed.")
    var maxConnections: Int = 512

    @Option(name: .customLong("request-read-timeout"),
            help: "Seconds for the TLS handshake, the header and the body of a request.")
    var requestReadTimeout: Double = 10

    @Option(name: .customLong("idle-timeout"), help: "Seconds a keep-alive connection may stay idle.")
    var idleTimeout: Double = 90

    @Option(name: .customLong("metrics-address"),
            help: "HOST:PORT of the plain-HTTP listener for /metrics and /reports (and the probes), or none.")
    var metricsAddress: String = "127.0.0.1:8000"

    @Flag(name: .customLong("nio-executor"), inversion: .prefixedNo,
          help: "Run Swift concurrency on the server's event loops (no thread hop per admission).")
    var nioExecutor = true

    @Flag(name: .customLong("immediate-reviews"), inversion: .prefixedNo,
          help: "Answer warm reviews (every verification cached, nothing to read) on the event loop, before the router.")
    var immediateReviews = true

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var vault: VaultLoginFlags

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535") }
        guard webhookTimeout > 0, webhookTimeout <= 30 else { throw ValidationError("--webhook-timeout must be 1-30 seconds") }
        guard timeoutMargin >= 0, timeoutMargin < webhookTimeout else { throw ValidationError("--timeout-margin must be less than --webhook-timeout") }
        guard maxBodyBytes > 1024 else { throw ValidationError("--max-body-bytes is too small") }
        guard clusterCacheTTL >= 0 else { throw ValidationError("--cluster-cache-ttl must not be negative") }
        guard (1...1024).contains(maxClusterReadsPerRequest) else { throw ValidationError("--max-cluster-reads-per-request must be 1-1024") }
        guard (1...100_000).contains(maxImagesPerRequest) else { throw ValidationError("--max-images-per-request must be 1-100000") }
        guard (1...256).contains(verificationConcurrency), (1...1024).contains(serverVerificationConcurrency) else {
            throw ValidationError("--verification-concurrency must be 1-256 and --server-verification-concurrency 1-1024")
        }
        guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections must be 1-1000000") }
        guard requestReadTimeout > 0, requestReadTimeout <= 300, idleTimeout > 0, idleTimeout <= 3600 else {
            throw ValidationError("--request-read-timeout must be 0-300 seconds and --idle-timeout 0-3600 seconds")
        }
        guard metricsAddress == "none" || Self.splitAddress(metricsAddress) != nil else {
            throw ValidationError("--metrics-address must be HOST:PORT or none")
        }
    }

    func run() async throws {
        if nioExecutor {
            // Each admission otherwise hops from the event loop that read it to the global
            // concurrency pool and back: two context switches per request, a large part of the
            // warm latency on 2 cores. The handlers only do short CPU work or async I/O.
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "signet.serve")
        let kubernetes = try kubernetesConfiguration(logger: logger)
        // The registry connection pools belong to this server: closed on graceful shutdown, after
        // the last request drained (a service of the group, like the KMS and Kubernetes clients),
        // or at once when the server cannot be built.
        let transport = RegistryTransport()
        let verifier: CosignImageVerifier
        do {
            verifier = try ImageVerifierOptions.makeVerifier(registry: registry, vault: vault, transport: transport)
        } catch {
            try? await transport.shutdown()
            throw error
        }
        let metricsListener = metricsAddress == "none" ? nil : Self.splitAddress(metricsAddress)
        var configuration = WebhookConfiguration(
            policies: .directory(policies),
            tls: .init(certificatePath: tlsCert, keyPath: tlsKey),
            server: AdmissionServer.Configuration(
                host: host, port: port, maxBodySize: maxBodyBytes,
                defaultTimeout: .milliseconds(Int64(webhookTimeout * 1000)),
                timeoutMargin: .milliseconds(Int64(timeoutMargin * 1000)),
                reloadInterval: .milliseconds(Int64(reloadInterval * 1000)),
                connections: ConnectionLimits(maxConnections: maxConnections,
                                              requestReadTimeout: .milliseconds(Int64(requestReadTimeout * 1000)),
                                              idleTimeout: .milliseconds(Int64(idleTimeout * 1000))),
                metricsHost: metricsListener?.host, metricsPort: metricsListener?.port ?? 0,
                immediateReviews: immediateReviews),
            limits: .init(maxImagesPerRequest: maxImagesPerRequest, imageConcurrency: verificationConcurrency,
                          serverConcurrency: serverVerificationConcurrency),
            cacheTTL: .milliseconds(Int64(cacheTTL * 1000)), cacheCapacity: cacheSize,
            reportsCapacity: reportsSize,
            kubernetes: kubernetes,
            clusterCacheTTL: .milliseconds(Int64(clusterCacheTTL * 1000)))
        configuration.ownNamespace = ownNamespace()
        configuration.clusterDataLimits = ClusterDataSource.Limits(maximumReadsPerRequest: maxClusterReadsPerRequest)
        configuration.allowedHTTPHosts = allowHTTPHost
        let keys = verifier.keyProviders
        let application: WebhookApplication
        do {
            application = try buildApplication(configuration, verifier: verifier,
                                               imageData: RegistryImageDataProvider(client: verifier.client),
                                               clients: [ClientShutdownService("kms-clients") { try await keys.shutdown() },
                                                         ClientShutdownService("registry-clients") { try await transport.shutdown() }],
                                               logger: logger)
        } catch {
            try? await transport.shutdown()
            try? await keys.shutdown()
            throw CLIError("\(error)")
        }
        try await application.run(gracefulShutdownSignals: [.sigterm, .sigint], onListening: { port in
            logger.info("signet webhook listening", metadata: ["address": "\(host):\(port)", "policies": "\(policies)"])
        }, onMetricsListening: { port in
            logger.info("signet metrics listening", metadata: ["address": "\(metricsListener?.host ?? ""):\(port)"])
        })
    }

    /// `HOST:PORT` (`[::1]:8000` for IPv6) split, or nil.
    static func splitAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        return (host, port)
    }

    static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// `--namespace`, else `POD_NAMESPACE`, else the service account's namespace file, else `signet`.
    func ownNamespace() -> String {
        if let namespace, !namespace.isEmpty { return namespace }
        if let env = ProcessInfo.processInfo.environment["POD_NAMESPACE"], !env.isEmpty { return env }
        if let data = FileManager.default.contents(atPath: Self.serviceAccountDirectory + "/namespace"),
           let text = String(data: data.prefix(253), encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            return text
        }
        return "signet"
    }

    /// The API server settings from the flags (and, with `auto`, the Pod's environment); nil with
    /// `none`, or with `auto` outside a cluster. Files are checked here, so a typo fails at start.
    func kubernetesConfiguration(logger: Logger) throws -> KubernetesAPIConfiguration? {
        let environment = ProcessInfo.processInfo.environment
        var server: String
        var caFile = kubernetesCA
        var tokenFile = kubernetesTokenFile
        switch kubernetesAPI {
        case .none:
            return nil
        case .auto:
            guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
                logger.info("no kubernetes api (not in a pod): namespaceSelector and roles rules report errors")
                return nil
            }
            let port = environment["KUBERNETES_SERVICE_PORT"].flatMap { $0.isEmpty ? nil : $0 } ?? "443"
            server = "https://\(host.contains(":") ? "[\(host)]" : host):\(port)"
            caFile = caFile ?? "\(Self.serviceAccountDirectory)/ca.crt"
            tokenFile = tokenFile ?? "\(Self.serviceAccountDirectory)/token"
        case .server(let url):
            server = url
        }
        var caPEM: String?
        if let caFile {
            guard let data = FileManager.default.contents(atPath: caFile) else {
                throw CLIError("cannot read the kubernetes api ca certificate \(caFile)")
            }
            caPEM = String(decoding: data, as: UTF8.self)
        }
        if let tokenFile, !FileManager.default.isReadableFile(atPath: tokenFile) {
            throw CLIError("cannot read the kubernetes token file \(tokenFile)")
        }
        let token: @Sendable () async throws -> String? = { [tokenFile] in
            guard let tokenFile else { return nil }
            // Re-read on use (projected tokens rotate), on the blocking-I/O pool, not an event loop.
            guard let data = try await NIOThreadPool.singleton.runIfActive({ FileManager.default.contents(atPath: tokenFile) }) else {
                throw CLIError("cannot read the kubernetes token file \(tokenFile)")
            }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        logger.info("kubernetes api for namespace labels and roles", metadata: ["server": "\(server)"])
        return KubernetesAPIConfiguration(server: server, caCertificatePEM: caPEM, token: token)
    }
}

/// `--kubernetes-api`: find the API server from the Pod's environment, use none, or this URL.
enum KubernetesAPISetting: ExpressibleByArgument, Equatable {
    case auto
    case none
    case server(String)

    init?(argument: String) {
        switch argument {
        case "auto": self = .auto
        case "none": self = .none
        default:
            // An http(s) URL with a host; anything else is a usage error, not a server name.
            guard let url = URL(string: argument), let scheme = url.scheme?.lowercased(),
                  scheme == "https" || scheme == "http", url.host != nil else { return nil }
            self = .server(argument)
        }
    }

    var defaultValueDescription: String {
        switch self {
        case .auto: return "auto"
        case .none: return "none"
        case .server(let url): return url
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
