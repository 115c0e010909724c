import Crypto
import Foundation
import SignetKMS
import SignetTestSupport

/// Starts OpenBao with transit, the `cosign` ecdsa-p256 key and the seed's `cosign` policy.
func startBaoWithCosignKey() async throws -> OpenBaoServer {
    let server = try await OpenBaoServer()
    try await server.enableTransit()
    try await server.createTransitKey("cosign")
    try await server.writePolicy("cosign", OpenBaoServer.cosignPolicy)
    return server
}

/// Runs `body` with a client of `server` for `credential`, shutting the client down afterwards.
func withClient<T>(_ server: OpenBaoServer, _ credential: VaultCredential, renewAfter: Double = 2.0 / 3.0,
                   _ body: (VaultClient) async throws -> T) async throws -> T {
    let client = try VaultClient(configuration: VaultConfiguration(address: server.address), credential: credential,
                                 renewAfter: renewAfter)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// The same, as root.
func withRootClient<T>(_ server: OpenBaoServer, _ body: (VaultClient) async throws -> T) async throws -> T {
    try await withClient(server, .token(VaultToken(server.rootToken)), body)
}

/// A payload shaped like cosign's simple-signing payload.
func samplePayload(_ n: Int = 0) -> Data {
    Data(#"{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":"sha256:\#(String(repeating: "\(n % 10)", count: 64))"},"type":"cosign container image signature"},"optional":null}"#.utf8)
}

/// A GitLab-CI-shaped ID token (`id_tokens`), ES256-signed by a test key.
struct GitLabTokenIssuer {
    let key = P256.Signing.PrivateKey()
    let issuer = "https://gitlab.example.com"
    let audience = "https://bao.example.com"

    /// PEM of the public key, for `jwt_validation_pubkeys`.
    var publicKeyPEM: String { key.publicKey.pemRepresentation }

    func token(projectPath: String = "platform/app", ref: String = "main", lifetime: TimeInterval = 300) throws -> String {
        let now = Int(Date().timeIntervalSince1970)
        let claims: [String: Any] = [
            "iss": issuer, "aud": audience, "iat": now, "nbf": now - 5, "exp": now + Int(lifetime),
            "jti": UUID().uuidString,
            "sub": "project_path:\(projectPath):ref_type:branch:ref:\(ref)",
            "namespace_id": "42", "namespace_path": String(projectPath.split(separator: "/").first ?? ""),
            "project_id": "1234", "project_path": projectPath,
            "user_id": "7", "user_login": "ci-bot", "pipeline_id": "99", "pipeline_source": "push",
            "job_id": "555", "ref": ref, "ref_type": "branch", "ref_protected": "true",
        ]
        let header = try JSONSerialization.data(withJSONObject: ["alg": "ES256", "typ": "JWT", "kid": "test"], options: [.sortedKeys])
        let body = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        let signingInput = Self.b64url(header) + "." + Self.b64url(body)
        let signature = try key.signature(for: Data(signingInput.utf8))
        return signingInput + "." + Self.b64url(signature.rawRepresentation)
    }

    static func b64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Configures `auth/PATH` (jwt method) to trust this issuer, and a GitLab role with bound claims.
    func configure(_ server: OpenBaoServer, path: String = "jwt", role: String = "cosign",
                   ttl: String = "5m", maxTTL: String = "30m", policies: [String] = ["cosign"]) async throws {
        try await server.enableAuth("jwt", path: path)
        try await server.write("auth/\(path)/config", ["jwt_validation_pubkeys": [publicKeyPEM], "bound_issuer": issuer])
        try await server.write("auth/\(path)/role/\(role)", [
            "role_type": "jwt", "user_claim": "sub", "bound_audiences": [audience],
            "bound_claims": ["project_path": "platform/app", "ref": "main", "ref_type": "branch"],
            "token_policies": policies, "token_ttl": ttl, "token_max_ttl": maxTTL,
        ])
    }
}
