import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SwiftASN1
import X509

/// A stand-in for the Kubernetes API's TokenReview endpoint, so that OpenBao's kubernetes auth
/// method can be tested without a cluster (FORMATS.md §3).
///
/// It answers `POST /apis/authentication.k8s.io/v1/tokenreviews` with 201 and a TokenReview whose
/// `status.user.username` is `system:serviceaccount:NS:NAME`, NS/NAME/UID read from the reviewed
/// JWT's claims (`kubernetes.io/serviceaccount/namespace`, `.../service-account.name`,
/// `.../service-account.uid`). Tokens listed in `rejected` get `authenticated: false`.
public final class TokenReviewStub: @unchecked Sendable {
    public let port: Int
    /// `http://127.0.0.1:PORT`, the `kubernetes_host` to configure.
    public var address: String { "http://127.0.0.1:\(port)" }
    private let channel: Channel
    private let state: State

    final class State: @unchecked Sendable {
        let lock = NSLock()
        var reviews = 0
        var rejected: Set<String> = []
        func withLock<T>(_ body: (State) -> T) -> T { lock.lock(); defer { lock.unlock() }; return body(self) }
    }

    /// Starts the stub on a free loopback port.
    public init() async throws {
        let state = State()
        self.state = state
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(ReviewHandler(state: state))
                }
            }
        channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    /// TokenReviews answered so far.
    public var reviewCount: Int { state.withLock { $0.reviews } }

    /// Makes the stub answer `authenticated: false` for `token`.
    public func reject(_ token: String) { _ = state.withLock { $0.rejected.insert(token) } }

    public func stop() async {
        try? await channel.close()
    }

    deinit { channel.close(promise: nil) }

    /// A service-account-shaped JWT (legacy secret-token claims), signed with a throwaway HMAC key:
    /// OpenBao does not check its signature when `disable_local_ca_jwt` is set and no `pem_keys`
    /// are configured; the TokenReview (this stub) is what authenticates it.
    public static func serviceAccountToken(namespace: String, name: String, uid: String = UUID().uuidString.lowercased()) -> String {
        func b64url(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let header = #"{"alg":"RS256","kid":"stub"}"#
        let claims: [String: Any] = [
            "iss": "kubernetes/serviceaccount",
            "sub": "system:serviceaccount:\(namespace):\(name)",
            "kubernetes.io/serviceaccount/namespace": namespace,
            "kubernetes.io/serviceaccount/secret.name": "\(name)-token",
            "kubernetes.io/serviceaccount/service-account.name": name,
            "kubernetes.io/serviceaccount/service-account.uid": uid,
        ]
        let body = try! JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        return b64url(Data(header.utf8)) + "." + b64url(body) + "." + b64url(Data("stub-signature".utf8))
    }

    /// A fresh self-signed CA certificate (PEM), for `kubernetes_ca_cert`, which OpenBao requires
    /// even though the stub speaks plain HTTP.
    public static func certificatePEM() throws -> String {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("signet-token-review-stub") }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return try certificate.serializeAsPEM().pemString
    }

    final class ReviewHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let state: State
        var head: HTTPRequestHead?
        var body = ByteBuffer()

        init(state: State) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
            case .body(var chunk):
                body.writeBuffer(&chunk)
            case .end:
                guard let head else { return }
                let (status, json) = respond(head, body)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: "\(json.utf8.count)")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: json)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                self.head = nil
            }
        }

        func respond(_ head: HTTPRequestHead, _ body: ByteBuffer) -> (HTTPResponseStatus, String) {
            guard head.method == .POST, head.uri.hasPrefix("/apis/authentication.k8s.io/v1/tokenreviews") else {
                return (.notFound, #"{"kind":"Status","status":"Failure","code":404}"#)
            }
            let data = Data(body.readableBytesView)
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let spec = object["spec"] as? [String: Any], let token = spec["token"] as? String else {
                return (.badRequest, #"{"kind":"Status","status":"Failure","code":400}"#)
            }
            let rejected = state.withLock { s -> Bool in
                s.reviews += 1
                return s.rejected.contains(token)
            }
            let claims = Self.claims(of: token)
            let namespace = claims["kubernetes.io/serviceaccount/namespace"] as? String ?? ""
            let name = claims["kubernetes.io/serviceaccount/service-account.name"] as? String ?? ""
            let uid = claims["kubernetes.io/serviceaccount/service-account.uid"] as? String ?? ""
            var status: [String: Any] = ["authenticated": false]
            if !rejected && !namespace.isEmpty && !name.isEmpty {
                status = [
                    "authenticated": true,
                    "user": [
                        "username": "system:serviceaccount:\(namespace):\(name)",
                        "uid": uid,
                        "groups": ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"],
                    ],
                ]
            }
            let review: [String: Any] = [
                "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                "spec": ["token": token], "status": status,
            ]
            let json = (try? JSONSerialization.data(withJSONObject: review)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return (.created, json)
        }

        static func claims(of jwt: String) -> [String: Any] {
            let parts = jwt.split(separator: ".")
            guard parts.count >= 2 else { return [:] }
            var text = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while text.count % 4 != 0 { text += "=" }
            guard let data = Data(base64Encoded: text),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
            return object
        }
    }
}
