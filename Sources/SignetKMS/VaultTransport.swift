import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import SignetOCI

/// An error status from Vault: the HTTP status, the API path and Vault's `errors` strings.
/// It is the `underlying` error of a `SignetKMSError`; it never holds a token.
public struct VaultResponseError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    /// The API path without `/v1/`, e.g. `transit/sign/cosign/sha2-256`.
    public let path: String
    public let errors: [String]

    public var description: String {
        errors.isEmpty ? "HTTP \(status) on \(path)" : "HTTP \(status) on \(path): \(errors.joined(separator: "; "))"
    }
}

/// The HTTP layer shared by `VaultClient` and `TokenManager`: one `HTTPClient`, the base URL, the
/// namespace header, and the mapping of transport and status failures to `SignetKMSError`.
package struct VaultTransport: Sendable {
    let http: HTTPClient
    let configuration: VaultConfiguration
    /// `scheme://host:port/prefix` to which `/v1/PATH` is appended (host replaced by the TLS server
    /// name when one is set; the real host is then reached through `dnsOverride`).
    let baseURL: String
    let logger: Logger

    static let maxResponseSize = 1 << 20

    /// Builds the `HTTPClient` configuration for `configuration` (reads the TLS files it names).
    package static func makeHTTPConfiguration(_ configuration: VaultConfiguration) throws -> (HTTPClient.Configuration, String) {
        var base = configuration.address.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        var http = HTTPClient.Configuration()
        http.redirectConfiguration = .disallow
        http.timeout = .init(connect: .milliseconds(Int64(configuration.connectTimeout.milliseconds)),
                             read: .milliseconds(Int64(configuration.requestTimeout.milliseconds)))
        http.connectionPool = .init(idleTimeout: .seconds(60),
                                    concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maximumConnections)
        let tlsOptions = configuration.tls
        if configuration.address.scheme?.lowercased() == "https" {
            var tls = TLSConfiguration.makeClientConfiguration()
            do {
                var roots: [NIOSSLCertificate] = []
                if let file = tlsOptions.caCertificateFile {
                    roots += try NIOSSLCertificate.fromPEMFile(file)
                }
                if let directory = tlsOptions.caCertificateDirectory {
                    let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
                    for name in names {
                        let path = (directory as NSString).appendingPathComponent(name)
                        var isDirectory: ObjCBool = false
                        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                        // Not every file in a CA directory is PEM (hash links, READMEs): keep those that parse.
                        if let certs = try? NIOSSLCertificate.fromPEMFile(path) { roots += certs }
                    }
                    if roots.isEmpty {
                        throw SignetKMSError(.invalidConfiguration, "no pem certificate found in ca directory \(directory)")
                    }
                }
                if !roots.isEmpty { tls.trustRoots = .certificates(roots) }
                switch (tlsOptions.clientCertificateFile, tlsOptions.clientKeyFile) {
                case let (cert?, key?):
                    tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                    tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                case (nil, nil):
                    break
                default:
                    throw SignetKMSError(.invalidConfiguration, "a client certificate needs both a certificate file and a key file")
                }
            } catch let error as SignetKMSError {
                throw error
            } catch {
                throw SignetKMSError(.invalidConfiguration, "vault tls files could not be read", underlying: error)
            }
            if tlsOptions.skipVerify { tls.certificateVerification = .none }
            http.tlsConfiguration = tls
            if let serverName = tlsOptions.serverName, !serverName.isEmpty,
               var components = URLComponents(url: configuration.address, resolvingAgainstBaseURL: false),
               let realHost = components.host, realHost != serverName {
                // Verify (and send as SNI) the server name while connecting to the real host.
                components.host = serverName
                if let rewritten = components.url?.absoluteString { base = rewritten }
                while base.hasSuffix("/") { base.removeLast() }
                http.dnsOverride = [serverName: realHost]
            }
        }
        return (http, base)
    }

    /// Sends one request; returns the status and body of 2xx answers, throws `SignetKMSError` otherwise.
    func send(_ method: HTTPMethod, _ path: String, body: Data? = nil, token: VaultToken?) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: baseURL + "/v1/" + path)
        request.method = method
        if let token { request.headers.add(name: "X-Vault-Token", value: token.value) }
        if let namespace = configuration.namespace, !namespace.isEmpty {
            request.headers.add(name: "X-Vault-Namespace", value: namespace)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        let status: Int
        let data: Data
        do {
            let response = try await http.execute(request, timeout: .milliseconds(Int64(configuration.requestTimeout.milliseconds)))
            status = Int(response.status.code)
            var buffer = try await response.body.collect(upTo: Self.maxResponseSize)
            data = buffer.readData(length: buffer.readableBytes) ?? Data()
        } catch {
            logger.debug("vault request failed", metadata: ["method": "\(method.rawValue)", "path": "\(path)", "error": "\(type(of: error))"])
            throw SignetKMSError(.unreachable, "vault at \(configuration.address.absoluteString) is unreachable (\(method.rawValue) \(path))", underlying: error)
        }
        logger.trace("vault request", metadata: ["method": "\(method.rawValue)", "path": "\(path)", "status": "\(status)"])
        if (200..<300).contains(status) { return (status, data) }
        throw Self.error(status: status, path: path, method: method, body: data, address: configuration.address)
    }

    /// Maps an error status to a `SignetKMSError` with a message naming the path.
    static func error(status: Int, path: String, method: HTTPMethod, body: Data, address: URL) -> SignetKMSError {
        struct ErrorBody: Decodable { let errors: [String]? }
        let errors = (try? JSONDecoder().decode(ErrorBody.self, from: body))?.errors ?? []
        let underlying = VaultResponseError(status: status, path: path, errors: errors)
        let detail = errors.isEmpty ? "" : ": " + errors.joined(separator: "; ")
        switch status {
        case 503 where errors.contains(where: { $0.localizedCaseInsensitiveContains("sealed") }):
            return SignetKMSError(.sealed, "vault at \(address.absoluteString) is sealed: unseal it (bao/vault operator unseal) and retry", underlying: underlying)
        case 403:
            let capability = method == .GET ? "read" : method == .DELETE ? "delete" : "update"
            return SignetKMSError(.permissionDenied,
                                  "permission denied on \(path): the token's policies do not grant '\(capability)' on it, or the token expired",
                                  underlying: underlying)
        default:
            return SignetKMSError(.server, "vault answered \(status) to \(method.rawValue) \(path)\(detail)", underlying: underlying)
        }
    }
}

extension SignetKMSError {
    /// The HTTP status Vault answered with, when this error comes from one.
    public var vaultStatus: Int? { (underlying as? VaultResponseError)?.status }
    /// Vault's own error strings, when this error comes from an error status.
    public var vaultErrors: [String] { (underlying as? VaultResponseError)?.errors ?? [] }
}

/// Encodes request bodies and decodes Vault's `{"data":...,"auth":...}` envelopes.
enum VaultJSON {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, path: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw SignetKMSError(.invalidResponse, "vault's answer to \(path) could not be read", underlying: error)
        }
    }
}

/// `auth` of a login or renew-self answer.
struct VaultAuthInfo: Decodable, Sendable {
    let client_token: String
    let lease_duration: Int?
    let renewable: Bool?
    let policies: [String]?
}

struct VaultEnvelope<D: Decodable>: Decodable {
    let data: D?
    let auth: VaultAuthInfo?
    let warnings: [String]?
}

struct VaultEmpty: Decodable {}

extension Duration {
    /// Whole milliseconds (at least 1).
    var milliseconds: Int {
        max(1, Int(wholeMilliseconds))
    }
}
