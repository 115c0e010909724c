import Foundation
import NIOCore
import NIOHTTP1
import SignetPrimitives

/// Answers warm admission reviews on the event loop, in the connection's pipeline, before they
/// reach the router (`AdmissionServer.makeApplication` adds it after the HTTP/1 decoder, ahead of
/// the conversion to HTTP types: a review answered here is never converted, nor is its reply).
///
/// A review whose answer needs no waiting (every verification in the cache, no cluster or
/// registry read: `AdmissionReviewer.reviewImmediately`) is answered here, synchronously, as
/// soon as its body has arrived: no task, no hop between the event loop and the router's task,
/// no async writer. Everything else goes on, untouched, to the router and `AdmissionServer.review`:
/// requests that must wait, other paths and methods, HTTP/1.0, `Connection: close`, `Expect`,
/// `Transfer-Encoding`, bodies without a length or larger than `maxCollected`, and reviews that do
/// not parse (the router answers those with its 400). Both paths run the same stages and the same
/// decision, and record the same metrics.
///
/// HTTP/1.1 pipelining: responses leave in request order (RFC 9112 section 9.3.2). While a request
/// handed to the router has not been answered, the next ones are handed on as well.
final class ImmediateReviewHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Bodies collected here at most; larger reviews take the router's path (which allows up to
    /// `maxBodySize`). Pods and Deployments are a few KiB.
    static let maxCollected = 256 * 1024

    /// A review path: `/validate`, `/mutate` and their `/fail` and `/ignore` forms.
    struct Route {
        let path: String
        let phase: AdmissionPhase
        let group: PolicyGroup
    }

    static let routes: [Route] = [AdmissionPhase.validate, .mutate].flatMap { phase in
        PolicyGroup.allCases.map { Route(path: AdmissionServer.path(phase, $0), phase: phase, group: $0) }
    }

    /// The index in `routes` of a request target's path (the query left out), or nil.
    static func route(of target: String) -> Int? {
        let path = target.utf8.firstIndex(of: UInt8(ascii: "?")).map { target[..<$0] } ?? Substring(target)
        return routes.firstIndex { $0.path == path }
    }

    private enum State {
        /// Between requests.
        case idle
        /// Collecting the body of a review that may be answered here.
        case collecting(head: HTTPRequestHead, route: Int, body: ByteBuffer, start: ContinuousClock.Instant)
        /// Handing the parts of the current request on to the router.
        case passing
    }

    private let reviewer: any AdmissionReviewer
    private let metrics: AdmissionMetrics
    private let limit: Int
    private let serverName: String
    private var state = State.idle
    /// Requests handed to the router whose response has not ended.
    private var routed = 0
    /// A quiesce event (graceful shutdown) that arrived while a body was being collected: passed
    /// on once that request is answered or handed on.
    private var heldQuiesce: ChannelShouldQuiesceEvent?
    private var date = HTTPDateCache()
    /// The metric series of each route (`routes` order), made when first used on this connection.
    private var seriesByRoute = [AdmissionMetrics.ImmediateSeries?](repeating: nil, count: ImmediateReviewHandler.routes.count)

    init(reviewer: any AdmissionReviewer, metrics: AdmissionMetrics, maxBodySize: Int, serverName: String) {
        self.reviewer = reviewer
        self.metrics = metrics
        self.limit = min(maxBodySize, Self.maxCollected)
        self.serverName = serverName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch state {
        case .idle:
            guard case .head(let head) = part else { context.fireChannelRead(data); return }
            if routed == 0, let (route, length) = eligible(head) {
                state = .collecting(head: head, route: route, body: context.channel.allocator.buffer(capacity: length), start: .now)
            } else {
                hand(context, data)
            }
        case .passing:
            if case .end = part { state = .idle }
            context.fireChannelRead(data)
        case .collecting(let head, let route, var body, let start):
            switch part {
            case .head:
                // Cannot happen (the decoder ends every request); hand everything on rather than guess.
                handOn(context, head: head, body: body, end: false)
                hand(context, data)
            case .body(let chunk):
                state = .idle  // drop the buffer's second reference before appending
                if body.readableBytes + chunk.readableBytes > limit {
                    handOn(context, head: head, body: body, end: false)
                    hand(context, wrapInboundOut(.body(chunk)))
                } else {
                    body.writeImmutableBuffer(chunk)
                    state = .collecting(head: head, route: route, body: body, start: start)
                }
            case .end:
                state = .idle
                if let (reply, allowed) = answer(body, route: Self.routes[route]) {
                    respond(context, reply)
                    series(route).record(allowed: allowed, duration: ContinuousClock.now - start)
                } else {
                    handOn(context, head: head, body: body, end: true)
                }
                releaseQuiesce(context)
            }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), routed > 0 { routed -= 1 }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let quiesce = event as? ChannelShouldQuiesceEvent, case .collecting = state {
            heldQuiesce = quiesce
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: - Steps

    /// The route (index in `routes`) and body length of a request that may be answered here, or nil.
    private func eligible(_ head: HTTPRequestHead) -> (Int, Int)? {
        // HTTP/1.1 only: an HTTP/1.0 client's connection rules are the router's to apply.
        guard head.method == .POST, head.version == .http1_1, let route = Self.route(of: head.uri) else { return nil }
        // One pass over the fields (names compared without case, RFC 9110 section 5.1). A repeated
        // Content-Length or Content-Type, a Transfer-Encoding, an `Expect` or a `Connection: close`
        // leaves the request to the router, as does a missing length.
        var length: Int?
        var json = false
        func named(_ name: String, _ lowercase: StaticString) -> Bool { AdmissionServer.equalsIgnoringASCIICase(name.utf8, lowercase) }
        for (name, value) in head.headers {
            if named(name, "content-length") {
                guard length == nil, let n = Int(value), n >= 0, n <= limit else { return nil }
                length = n
            } else if named(name, "content-type") {
                guard !json, AdmissionServer.isJSONMediaType(value) else { return nil }
                json = true
            } else if named(name, "expect") || named(name, "transfer-encoding") {
                return nil
            } else if named(name, "connection") {
                if value.lowercased().contains("close") { return nil }
            }
        }
        guard let length, json else { return nil }
        return (route, length)
    }


    /// The reply bytes when the reviewer can answer without waiting; nil: the router's path.
    private func answer(_ body: ByteBuffer, route: Route) -> ([UInt8], allowed: Bool)? {
        guard let review = try? AdmissionReview(parsing: body),
              let request = review.request,
              let response = reviewer.reviewImmediately(request, phase: route.phase, group: route.group) else { return nil }
        return (AdmissionReview.reply(response).replyBytes(), response.allowed)
    }

    /// The metric series of a route, looked up once per connection.
    private func series(_ route: Int) -> AdmissionMetrics.ImmediateSeries {
        if let known = seriesByRoute[route] { return known }
        let made = metrics.immediateSeries(path: Self.routes[route].path)
        seriesByRoute[route] = made
        return made
    }

    private func respond(_ context: ChannelHandlerContext, _ reply: [UInt8]) {
        // The fields the router's responses carry (Hummingbird: Content-Type, Content-Length, Date, Server).
        let headers = HTTPHeaders([
            ("Content-Type", "application/json"), ("Content-Length", String(reply.count)), ("Date", date.now()), ("Server", serverName),
        ])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: reply)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Hands a collected request on to the router.
    private func handOn(_ context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer, end: Bool) {
        hand(context, wrapInboundOut(.head(head)))
        if body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(body))) }
        if end {
            state = .idle
            context.fireChannelRead(wrapInboundOut(.end(nil)))
        }
    }

    /// Passes a part on; a head starts a routed request.
    private func hand(_ context: ChannelHandlerContext, _ data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            routed += 1
            state = .passing
        }
        context.fireChannelRead(data)
    }

    private func releaseQuiesce(_ context: ChannelHandlerContext) {
        guard let event = heldQuiesce else { return }
        heldQuiesce = nil
        context.fireUserInboundEventTriggered(event)
    }
}

/// The `Date` header value (RFC 9110 section 5.6.7, IMF-fixdate), formatted once per second.
struct HTTPDateCache {
    private var second = -1
    private var text = ""

    mutating func now() -> String {
        var t = time(nil)
        guard Int(t) != second else { return text }
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let weekday = days[Int(max(0, min(6, parts.tm_wday)))]
        let month = months[Int(max(0, min(11, parts.tm_mon)))]
        text = "\(weekday), \(two(parts.tm_mday)) \(month) \(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
        second = Int(t)
        return text
    }
}
