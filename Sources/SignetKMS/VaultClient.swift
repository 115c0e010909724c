import AsyncHTTPClient
import Foundation
import Logging
import NIOHTTP1
import Synchronization

/// A client for the Vault / OpenBao HTTP API: address, namespace, TLS, and a token from a
/// `VaultCredential` kept fresh by its `TokenManager`.
///
/// Call `shutdown()` when done (it closes the connection pool the client created).
public final class VaultClient: Sendable {
    public let configuration: VaultConfiguration
    /// The token's owner: logins and renewals.
    public let tokens: TokenManager
    let transport: VaultTransport
    let ownsHTTPClient: Bool
    /// A static token that is never renewed needs no trip through the token actor.
    let fixedToken: VaultToken?
    private let isShutDown = Mutex(false)

    /// Builds a client; reads the TLS files `configuration.tls` names.
    /// - Parameters:
    ///   - renewAfter: fraction of a token's TTL after which it is renewed.
    ///   - httpClient: a client to share (its TLS settings then win); by default one is created.
    public init(configuration: VaultConfiguration, credential: VaultCredential, renewAfter: Double = 2.0 / 3.0,
                logger: Logger = Logger(label: "signet.kms.vault"), httpClient: HTTPClient? = nil) throws {
        let (httpConfiguration, baseURL) = try VaultTransport.makeHTTPConfiguration(configuration)
        let http = httpClient ?? HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration,
                                            backgroundActivityLogger: logger)
        self.configuration = configuration
        self.ownsHTTPClient = httpClient == nil
        self.transport = VaultTransport(http: http, configuration: configuration, baseURL: baseURL, logger: logger)
        self.tokens = TokenManager(credential: credential, transport: transport, renewAfter: renewAfter)
        if case .token(let token, renew: false) = credential.kind { fixedToken = token } else { fixedToken = nil }
    }

    /// Closes the connections of the `HTTPClient` this client created.
    public func shutdown() async throws {
        guard ownsHTTPClient, isShutDown.withLock({ old in defer { old = true }; return !old }) else { return }
        try await transport.http.shutdown()
    }

    deinit {
        // A client dropped without shutdown() (a CLI command's registry) still closes its pool.
        if ownsHTTPClient, isShutDown.withLock({ !$0 }) {
            transport.http.shutdown { _ in }
        }
    }

    /// Sends an authenticated request to `/v1/PATH` and returns the raw JSON answer of a 2xx status.
    ///
    /// A 403 with a token from a login method triggers one fresh login and one retry (the token may
    /// have been revoked); a second 403 is reported naming the path.
    public func request(_ method: HTTPMethod, _ path: String, body: Data? = nil) async throws -> Data {
        let token: VaultToken
        if let fixedToken { token = fixedToken } else { token = try await tokens.token() }
        do {
            return try await transport.send(method, path, body: body, token: token).body
        } catch let error as SignetKMSError where error.code == .permissionDenied {
            guard await tokens.shouldRetryAfterDenied(token) else { throw error }
            let fresh = try await tokens.token()
            return try await transport.send(method, path, body: body, token: fresh).body
        }
    }

    /// Sends `body` encoded as JSON and decodes `data` of the answer.
    func request<D: Decodable>(_ method: HTTPMethod, _ path: String, json body: (some Encodable)?, data: D.Type) async throws -> D? {
        let encoded = try body.map { try VaultJSON.encode($0) }
        let answer = try await request(method, path, body: encoded)
        if answer.isEmpty { return nil }
        return try VaultJSON.decode(VaultEnvelope<D>.self, from: answer, path: path).data
    }

    /// `GET sys/health` status flags (no token needed): initialized, sealed, standby, version.
    public func health() async throws -> VaultHealth {
        // Ask for 200 whatever the state, so sealed/standby servers still describe themselves.
        let path = "sys/health?sealedcode=200&standbycode=200&uninitcode=200&perfstandbyok=true"
        let data = try await transport.send(.GET, path, token: nil).body
        return try VaultJSON.decode(VaultHealth.self, from: data, path: "sys/health")
    }
}

/// The answer of `GET sys/health`.
public struct VaultHealth: Decodable, Sendable {
    public let initialized: Bool
    public let sealed: Bool
    public let standby: Bool
    public let version: String?
}
