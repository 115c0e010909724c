import Crypto
import Foundation
import X509

/// A Docker token-auth server for tests (distribution's `auth: token`): `GET /token?service=S&scope=...`
/// answers an ES256 JWT whose header carries `x5c` with a self-signed certificate; the registry trusts
/// that certificate through `rootcertbundle` (`certificatePEM`).
public final class TokenIssuer: @unchecked Sendable {
    public let issuer = "signet-test-issuer"
    public let service = "signet-test-registry"
    /// The PEM of the self-signed signing certificate (write it as the registry's rootcertbundle).
    public let certificatePEM: String
    private let server: TestHTTPServer
    private let state: IssuerState

    /// The token endpoint, `http://127.0.0.1:PORT/token`.
    public var realm: String { server.baseURL + "/token" }
    /// Tokens issued so far.
    public var tokensIssued: Int { state.lock.withLock { state.issued } }
    /// The `scope` parameters of every token request, in order.
    public var requestedScopes: [[String]] { state.lock.withLock { state.scopes } }

    final class IssuerState: @unchecked Sendable {
        let lock = NSLock()
        var issued = 0
        var scopes: [[String]] = []
    }

    /// - Parameters:
    ///   - username/password: when set, token requests need these Basic credentials (else 401).
    ///   - expiresIn: the `expires_in` returned (and the JWT lifetime), seconds.
    ///   - useAccessTokenField: answer `access_token` instead of `token`.
    public init(username: String? = nil, password: String? = nil, expiresIn: Int = 300,
                useAccessTokenField: Bool = false) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("signet test token issuer") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                KeyUsage(digitalSignature: true, keyCertSign: true)
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        let pem = try certificate.serializeAsPEM().pemString
        certificatePEM = pem
        let der = TokenIssuer.derFromPEM(pem)
        let state = IssuerState()
        self.state = state
        let issuer = self.issuer, service = self.service
        server = try TestHTTPServer { request in
            guard request.path == "/token" else { return .json(404, "{}") }
            if let username, let password {
                let expected = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
                guard request.header("Authorization") == expected else {
                    return .json(401, #"{"details":"bad credentials"}"#)
                }
            }
            let scopes = request.query.filter { $0.0 == "scope" }.map(\.1)
            let subject = username ?? "anonymous"
            var access: [[String: Any]] = []
            for scope in scopes {
                let parts = scope.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                guard parts.count >= 3 else { continue }
                let actions = parts[parts.count - 1].split(separator: ",").map(String.init)
                access.append(["type": parts[0], "name": parts[1..<(parts.count - 1)].joined(separator: ":"), "actions": actions])
            }
            let t = Int(Date().timeIntervalSince1970)
            let header: [String: Any] = ["alg": "ES256", "typ": "JWT", "x5c": [der.base64EncodedString()]]
            let claims: [String: Any] = ["iss": issuer, "sub": subject, "aud": service, "exp": t + expiresIn,
                                         "nbf": t - 60, "iat": t, "jti": UUID().uuidString, "access": access]
            let h = TokenIssuer.base64URL(try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
            let c = TokenIssuer.base64URL(try! JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]))
            let signingInput = h + "." + c
            let signature = try! key.signature(for: Data(signingInput.utf8)).rawRepresentation
            let jwt = signingInput + "." + TokenIssuer.base64URL(signature)
            state.lock.withLock {
                state.issued += 1
                state.scopes.append(scopes)
            }
            let field = useAccessTokenField ? "access_token" : "token"
            return .json(200, #"{"\#(field)":"\#(jwt)","expires_in":\#(expiresIn),"issued_at":"\#(ISO8601DateFormatter().string(from: Date()))"}"#)
        }
    }

    public func stop() { server.stop() }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func derFromPEM(_ pem: String) -> Data {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return Data(base64Encoded: body) ?? Data()
    }
}
