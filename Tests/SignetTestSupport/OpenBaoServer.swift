import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOSSL

/// A real OpenBao dev server (`bao server -dev`) on a free loopback port, for integration tests,
/// with helpers for the setup calls tests make as root (mount transit, write policies, mint
/// tokens, enable auth methods). `stop()` (or deinit) ends it.
public final class OpenBaoServer: @unchecked Sendable {
    public let port: Int
    /// `http://127.0.0.1:PORT`.
    public let address: String
    public let rootToken: String
    public let process: ManagedProcess
    /// The dev server's HOME (it writes `~/.vault-token` there, not in the real home).
    public let home: URL
    /// With `tls: true`: the generated CA (`vault-ca.pem`); the server certificate names
    /// `localhost` and `127.0.0.1`.
    public let caCertificateFile: String?
    private let http: HTTPClient
    private let ownsHTTP: Bool

    /// The seed's least-privilege policy for signing with `transit/keys/cosign` (FORMATS.md §3),
    /// read from the same file the demo and the docs use (examples/seed/cosign.hcl).
    public static let cosignPolicy: String = {
        let url = RepositoryPaths.root.appendingPathComponent("examples/seed/cosign.hcl")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            preconditionFailure("the seed policy \(url.path) is missing from the checkout")
        }
        return text
    }()

    /// Starts `bao server -dev` (with `tls`, `-dev-tls` and a generated CA); fails with a message
    /// naming `bao` when it is not installed.
    public init(rootToken: String = "root-" + UUID().uuidString.prefix(8).lowercased(), tls: Bool = false) async throws {
        port = try ManagedProcess.freeLoopbackPort()
        address = "\(tls ? "https" : "http")://127.0.0.1:\(port)"
        self.rootToken = rootToken
        home = FileManager.default.temporaryDirectory.appendingPathComponent("signet-bao-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        var arguments = ["server", "-dev", "-dev-root-token-id=\(rootToken)", "-dev-listen-address=127.0.0.1:\(port)",
                         "-dev-no-store-token"]
        if tls { arguments += ["-dev-tls", "-dev-tls-cert-dir=\(home.path)"] }
        caCertificateFile = tls ? home.appendingPathComponent("vault-ca.pem").path : nil
        process = try ManagedProcess("bao", arguments: arguments,
                                     environment: ["HOME": home.path, "BAO_ADDR": "", "VAULT_ADDR": "", "SKIP_SETCAP": "1"])
        if tls {
            try process.waitForPort(port)
            var configuration = HTTPClient.Configuration()
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            tlsConfiguration.trustRoots = .file(home.appendingPathComponent("vault-ca.pem").path)
            configuration.tlsConfiguration = tlsConfiguration
            http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            ownsHTTP = true
        } else {
            http = HTTPClient.shared
            ownsHTTP = false
        }
        try process.waitForPort(port)
        try await waitUntilUnsealed()
    }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: home)
    }

    /// Closes the helper's own HTTP client (TLS servers only).
    private func closeHTTP() {
        if ownsHTTP { http.shutdown { _ in } }
    }

    deinit { stop(); closeHTTP() }

    private func waitUntilUnsealed(timeout: TimeInterval = 20) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let health = try? await api("GET", "sys/health"), health["sealed"] as? Bool == false { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSupportError("bao dev server on \(address) did not become ready: \(process.output.suffix(2000))")
    }

    // MARK: - Raw API

    /// An error status from the server: status and body.
    public struct APIError: Error, CustomStringConvertible {
        public let status: Int
        public let body: String
        public var description: String { "bao answered \(status): \(body)" }
    }

    /// Calls `/v1/PATH` with `token` (root by default) and returns the decoded JSON object
    /// (empty for 204). Throws `APIError` on a non-2xx status.
    @discardableResult
    public func api(_ method: String, _ path: String, _ body: [String: Any]? = nil, token: String? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: "\(address)/v1/\(path)")
        request.method = .RAW(value: method)
        request.headers.add(name: "X-Vault-Token", value: token ?? rootToken)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        var buffer = try await response.body.collect(upTo: 4 << 20)
        let data = buffer.readData(length: buffer.readableBytes) ?? Data()
        guard (200..<300).contains(Int(response.status.code)) else {
            throw APIError(status: Int(response.status.code), body: String(decoding: data, as: UTF8.self))
        }
        if data.isEmpty { return [:] }
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    /// Runs the `bao` CLI against this server as root (`BAO_ADDR`, `BAO_TOKEN` set) and returns stdout.
    @discardableResult
    public func cli(_ arguments: [String], input: String? = nil) throws -> String {
        guard let path = ManagedProcess.which("bao") else {
            throw TestSupportError("bao is not installed (run scripts/install-deps): this test needs a real bao")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["BAO_ADDR"] = address
        if let caCertificateFile { env["BAO_CACERT"] = caCertificateFile }
        env["BAO_TOKEN"] = rootToken
        env["VAULT_ADDR"] = nil
        env["VAULT_TOKEN"] = nil
        env["HOME"] = home.path
        process.environment = env
        let out = Pipe(), err = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inp
        try process.run()
        if let input { inp.fileHandleForWriting.write(Data(input.utf8)) }
        try inp.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSupportError("bao \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(String(decoding: stderr, as: UTF8.self))")
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    // MARK: - Setup helpers (as root)

    /// `bao secrets enable -path=PATH transit`.
    public func enableTransit(path: String = "transit") async throws {
        try await api("POST", "sys/mounts/\(path)", ["type": "transit"])
    }

    /// Creates a transit key of `type` (default ecdsa-p256).
    public func createTransitKey(_ name: String, type: String = "ecdsa-p256", mount: String = "transit") async throws {
        try await api("POST", "\(mount)/keys/\(name)", ["type": type])
    }

    /// Adds a version to a transit key.
    public func rotateTransitKey(_ name: String, mount: String = "transit") async throws {
        try await api("POST", "\(mount)/keys/\(name)/rotate")
    }

    /// Sets `min_decryption_version` of a transit key.
    public func setMinDecryptionVersion(_ name: String, _ version: Int, mount: String = "transit") async throws {
        try await api("POST", "\(mount)/keys/\(name)/config", ["min_decryption_version": version])
    }

    /// `bao policy write NAME -`.
    public func writePolicy(_ name: String, _ hcl: String) async throws {
        try await api("PUT", "sys/policies/acl/\(name)", ["policy": hcl])
    }

    /// Mints a token carrying only `policies` (no default policy unless listed) and returns it.
    public func createToken(policies: [String], ttl: String = "1h", explicitMaxTTL: String? = nil,
                            renewable: Bool = true, period: String? = nil) async throws -> String {
        var body: [String: Any] = ["policies": policies, "ttl": ttl, "no_default_policy": !policies.contains("default"),
                                   "renewable": renewable]
        if let explicitMaxTTL { body["explicit_max_ttl"] = explicitMaxTTL }
        if let period { body["period"] = period }
        let answer = try await api("POST", "auth/token/create", body)
        guard let auth = answer["auth"] as? [String: Any], let token = auth["client_token"] as? String else {
            throw TestSupportError("auth/token/create returned no token")
        }
        return token
    }

    /// `bao auth enable -path=PATH TYPE` (jwt, kubernetes, approle...).
    public func enableAuth(_ type: String, path: String? = nil) async throws {
        try await api("POST", "sys/auth/\(path ?? type)", ["type": type])
    }

    /// Writes `body` to `PATH` (e.g. `auth/jwt/config`, `auth/jwt/role/NAME`).
    public func write(_ path: String, _ body: [String: Any]) async throws {
        try await api("POST", path, body)
    }

    /// Seals the server (`bao operator seal`).
    public func seal() throws {
        try cli(["operator", "seal"])
    }

    /// Revokes a token (as root).
    public func revokeToken(_ token: String) async throws {
        try await api("POST", "auth/token/revoke", ["token": token])
    }
}
