import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A request received by `TestHTTPServer`.
public struct TestHTTPRequest: Sendable {
    public var method: String
    /// Path and query, e.g. `/v2/a/b/manifests/t?x=1`.
    public var uri: String
    public var headers: [(String, String)]
    public var body: Data

    /// The path without the query.
    public var path: String { String(uri.split(separator: "?", maxSplits: 1).first ?? "") }
    /// Query items (repeated keys kept in order).
    public var query: [(String, String)] {
        guard let q = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [] }
        return q.split(separator: "&").map { item in
            let kv = item.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            return (kv[0], kv.count > 1 ? kv[1] : "")
        }
    }
    public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
}

/// A response for `TestHTTPServer`; `truncateTo` sends a full Content-Length but only that many
/// bytes of the body, then closes the connection (a truncated download).
public struct TestHTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: Data
    public var truncateTo: Int?
    /// Answer only after this many milliseconds (without blocking the event loop).
    public var delayMilliseconds: Int64?

    public init(status: Int, headers: [(String, String)] = [], body: Data = Data(), truncateTo: Int? = nil,
                delayMilliseconds: Int64? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.truncateTo = truncateTo
        self.delayMilliseconds = delayMilliseconds
    }

    public static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> TestHTTPResponse {
        TestHTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Data(text.utf8))
    }
}

/// A tiny HTTP/1.1 server on 127.0.0.1 (SwiftNIO) whose answers come from a closure. For fake
/// registries and the token issuer in tests. `stop()` shuts it down.
public final class TestHTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (TestHTTPRequest) -> TestHTTPResponse

    public let port: Int
    private let channel: Channel
    private let requestCount = NIOLockedCounter()

    private let secure: Bool
    /// `http://127.0.0.1:PORT` (`https://` when serving TLS).
    public var baseURL: String { "\(secure ? "https" : "http")://127.0.0.1:\(port)" }
    /// `127.0.0.1:PORT` (a loopback registry name).
    public var host: String { "127.0.0.1:\(port)" }
    /// Requests served so far.
    public var requests: Int { requestCount.value }

    /// Serves HTTPS instead of HTTP when `tls` gives a PEM certificate (chain) and key.
    public init(tls: (certificatePEM: String, privateKeyPEM: String)? = nil, handler: @escaping Handler) throws {
        let counter = requestCount
        let sslContext: NIOSSLContext? = try tls.map { tls in
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(tls.certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(bytes: Array(tls.privateKeyPEM.utf8), format: .pem)
            return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        }
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(handler: handler, counter: counter))
                }
            }
        secure = tls != nil
        channel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress?.port ?? 0
    }

    public func stop() { try? channel.close().wait() }

    deinit { channel.close(promise: nil) }

    final class RequestHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let handler: Handler
        let counter: NIOLockedCounter
        var head: HTTPRequestHead?
        var body = Data()

        init(handler: @escaping Handler, counter: NIOLockedCounter) {
            self.handler = handler
            self.counter = counter
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h; body = Data()
            case .body(var buffer): body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
            case .end:
                guard let head else { return }
                counter.increment()
                let request = TestHTTPRequest(method: head.method.rawValue, uri: head.uri,
                                              headers: head.headers.map { ($0.name, $0.value) }, body: body)
                let response = handler(request)
                if let delay = response.delayMilliseconds {
                    let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                    let version = head.version, method = head.method
                    context.eventLoop.scheduleTask(in: .milliseconds(delay)) {
                        RequestHandler.write(response, version: version, method: method, context: bound.value)
                    }
                } else {
                    RequestHandler.write(response, version: head.version, method: head.method, context: context)
                }
                self.head = nil
            }
        }

        static func write(_ response: TestHTTPResponse, version: HTTPVersion, method: HTTPMethod, context: ChannelHandlerContext) {
            var headers = HTTPHeaders(response.headers)
            headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
            let truncated = response.truncateTo != nil
            if truncated { headers.replaceOrAdd(name: "Connection", value: "close") }
            let head = HTTPResponseHead(version: version, status: .init(statusCode: response.status), headers: headers)
            context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
            let bytes = response.truncateTo.map { response.body.prefix($0) } ?? response.body
            if method != .HEAD && !bytes.isEmpty {
                context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes)))), promise: nil)
            }
            if truncated {
                context.flush()
                context.close(promise: nil)
            } else {
                context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
            }
        }
    }
}

/// A thread-safe counter.
final class NIOLockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
