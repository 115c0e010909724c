import Foundation
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import SignetPolicy
import Testing
@testable import SignetAdmission
import SignetPrimitives

/// A reviewer that answers the uids in `immediate` at once (allowed) and routes every other
/// review (denied with "routed"), so each test sees which path a request took.
struct PathReviewer: AdmissionReviewer {
    var immediate: Set<String>
    var isReady: Bool { true }

    func review(_ request: AdmissionRequest, phase: AdmissionPhase, group: PolicyGroup,
                deadline: ContinuousClock.Instant) async -> AdmissionResponse {
        AdmissionResponse(uid: request.uid, allowed: false, status: .init(code: 403, message: "routed", reason: "Forbidden", status: "Failure"))
    }

    func reviewImmediately(_ request: AdmissionRequest, phase: AdmissionPhase, group: PolicyGroup) -> AdmissionResponse? {
        immediate.contains(request.uid) ? AdmissionResponse(uid: request.uid, allowed: true) : nil
    }
}

/// Records the parts and events `ImmediateReviewHandler` passes on to the router.
final class RouterSide: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPRequestPart
    var parts: [HTTPRequestPart] = []
    var quiesced = 0
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { parts.append(unwrapInboundIn(data)) }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { quiesced += 1 }
    }
}

@Suite("Warm reviews answered on the event loop")
struct ImmediateReviewTests {
    static func body(uid: String) -> Data {
        var b = AdmissionRequestBuilder()
        b.uid = uid
        return b.reviewData
    }

    static func head(_ path: String = "/validate?timeout=10s", method: HTTPRequest.Method = .post,
                     fields: [(HTTPField.Name, String)]) -> HTTPRequest {
        var headerFields = HTTPFields()
        for (name, value) in fields { headerFields.append(HTTPField(name: name, value: value)) }
        return HTTPRequest(method: method, scheme: nil, authority: "127.0.0.1", path: path, headerFields: headerFields)
    }

    static func standard(_ body: Data) -> [(HTTPField.Name, String)] {
        [(.contentType, "application/json"), (.contentLength, String(body.count))]
    }

    /// A channel as the server's: the handler on HTTP/1 parts, the conversion to HTTP types, and a
    /// recorder behind it, as the router would be.
    static func channel(immediate: Set<String>) throws -> (EmbeddedChannel, RouterSide, AdmissionMetrics) {
        let metrics = AdmissionMetrics()
        let router = RouterSide()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ImmediateReviewHandler(reviewer: PathReviewer(immediate: immediate), metrics: metrics,
                                                                              maxBodySize: 3 * 1024 * 1024, serverName: "signet"))
        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        try channel.pipeline.syncOperations.addHandler(router)
        return (channel, router, metrics)
    }

    static func send(_ channel: EmbeddedChannel, _ head: HTTPRequest, _ body: Data, chunk: Int = 1 << 20) throws {
        try channel.writeInbound(HTTPServerRequestPart.head(try HTTPRequestHead(head)))
        var offset = 0
        while offset < body.count {
            let end = min(body.count, offset + chunk)
            try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(bytes: body[offset..<end])))
            offset = end
        }
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
    }

    /// The response written by the handler, or nil when it wrote none.
    static func response(_ channel: EmbeddedChannel) throws -> (HTTPResponse, Data)? {
        guard case .head(let head)? = try channel.readOutbound(as: HTTPServerResponsePart.self) else { return nil }
        var body = Data()
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            switch part {
            case .body(.byteBuffer(let b)): body.append(contentsOf: b.readableBytesView)
            case .body: Issue.record("a body that is not a buffer")
            case .end: return (try HTTPResponse(head), body)
            case .head: Issue.record("a second response head")
            }
        }
        Issue.record("a response without end")
        return nil
    }

    /// The request the router received: its head and body, when it ended.
    static func routed(_ parts: [HTTPRequestPart]) -> (HTTPRequest, Data)? {
        guard case .head(let head)? = parts.first, case .end? = parts.last else { return nil }
        var body = Data()
        for case .body(let b) in parts { body.append(contentsOf: b.readableBytesView) }
        return (head, body)
    }

    @Test func aReviewThatNeedsNoWaitingIsAnsweredInThePipeline() throws {
        let (channel, router, metrics) = try Self.channel(immediate: ["warm"])
        let body = Self.body(uid: "warm")
        try Self.send(channel, Self.head(fields: Self.standard(body)), body, chunk: 100)
        let (head, reply) = try #require(try Self.response(channel))
        #expect(router.parts.isEmpty)
        #expect(head.status == .ok)
        #expect(head.headerFields[.contentType] == "application/json")
        #expect(head.headerFields[.contentLength] == String(reply.count))
        #expect(head.headerFields[.server] == "signet")
        let date = try #require(head.headerFields[.date])
        #expect(date.wholeMatch(of: /(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT/) != nil)
        let json = try JSONValue(json: reply)
        #expect(json["kind"] == "AdmissionReview")
        #expect(json["response"]?["uid"] == "warm")
        #expect(json["response"]?["allowed"] == true)
        // The same metrics as the router's path.
        let exposition = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(exposition.contains(#"signet_admission_requests_total{path="/validate",code="200"} 1"#))
        #expect(exposition.contains(#"signet_admission_responses_total{path="/validate",allowed="true"} 1"#))
        #expect(exposition.contains(#"signet_admission_immediate_reviews_total{path="/validate"} 1"#))
        _ = try channel.finish()
    }

    struct Routed: Sendable, CustomTestStringConvertible {
        var name: String
        var head: HTTPRequest
        var body: Data
        var testDescription: String { name }
    }

    static let warm = body(uid: "warm")
    static let large = Data(#"{"request":{"uid":"warm","pad":""#.utf8) + Data(repeating: 0x61, count: 300 * 1024) + Data(#""}}"#.utf8)
    static let routedCases: [Routed] = [
        Routed(name: "a review that must wait", head: head(fields: standard(body(uid: "cold"))), body: body(uid: "cold")),
        Routed(name: "a GET", head: head(method: .get, fields: []), body: Data()),
        Routed(name: "another path", head: head("/validatex", fields: standard(warm)), body: warm),
        Routed(name: "Connection: close", head: head(fields: standard(warm) + [(.connection, "Close")]), body: warm),
        Routed(name: "Expect: 100-continue", head: head(fields: standard(warm) + [(.expect, "100-continue")]), body: warm),
        Routed(name: "no Content-Length (chunked)", head: head(fields: [(.contentType, "application/json")]), body: warm),
        Routed(name: "not JSON", head: head(fields: [(.contentType, "text/plain"), (.contentLength, String(warm.count))]), body: warm),
        Routed(name: "a body over the collecting limit", head: head(fields: standard(large)), body: large),
        Routed(name: "more body than its length said", head: head(fields: [(.contentType, "application/json"), (.contentLength, "10")]), body: large),
        Routed(name: "malformed JSON", head: head(fields: standard(Data("{\"request\":".utf8))), body: Data("{\"request\":".utf8)),
        Routed(name: "a review without a request", head: head(fields: standard(Data("{}".utf8))), body: Data("{}".utf8)),
        Routed(name: "Transfer-Encoding beside a length", head: head(fields: standard(warm) + [(.transferEncoding, "identity")]), body: warm),
        Routed(name: "two lengths", head: head(fields: standard(warm) + [(.contentLength, String(warm.count))]), body: warm),
    ]

    /// Everything the handler does not answer reaches the router unchanged, and is answered there.
    @Test(arguments: routedCases)
    func requestsItDoesNotAnswerReachTheRouterUnchanged(_ c: Routed) throws {
        let (channel, router, _) = try Self.channel(immediate: ["warm"])
        try Self.send(channel, c.head, c.body, chunk: 64 * 1024)
        #expect(try Self.response(channel) == nil)
        let (head, body) = try #require(Self.routed(router.parts))
        #expect(head.method == c.head.method && head.path == c.head.path && head.authority == c.head.authority)
        #expect(head.headerFields == c.head.headerFields)
        #expect(body == c.body)
        _ = try channel.finish()
    }

    /// Field names are read without case (RFC 9110 section 5.1), and an HTTP/1.0 request goes to the
    /// router, whose connection handling knows that version.
    @Test(arguments: [("content-type", "CONTENT-LENGTH", HTTPVersion.http1_1, true),
                      ("Content-Type", "Content-Length", .http1_0, false)])
    func readsFieldNamesWithoutCaseAndAnswersHTTP11(typeName: String, lengthName: String, version: HTTPVersion, answered: Bool) throws {
        let (channel, router, _) = try Self.channel(immediate: ["warm"])
        let body = Self.warm
        let head = HTTPRequestHead(version: version, method: .POST, uri: "/validate",
                                   headers: HTTPHeaders([("Host", "127.0.0.1"), (typeName, "application/json"), (lengthName, String(body.count))]))
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(bytes: body)))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect((try Self.response(channel) != nil) == answered)
        #expect(router.parts.isEmpty == answered)
        _ = try channel.finish()
    }

    /// HTTP/1.1 pipelining: while a routed request is unanswered, the next ones are routed too,
    /// so that responses leave in request order.
    @Test func pipelinedRequestsKeepTheirOrder() throws {
        let (channel, router, _) = try Self.channel(immediate: ["warm", "warm2"])
        let cold = Self.body(uid: "cold"), warm = Self.body(uid: "warm"), warm2 = Self.body(uid: "warm2")
        try Self.send(channel, Self.head(fields: Self.standard(cold)), cold)
        try Self.send(channel, Self.head(fields: Self.standard(warm)), warm)
        #expect(try Self.response(channel) == nil)
        #expect(router.parts.count == 6)  // both requests: head, body, end
        // The router answers both, in order; then the pipeline answers again.
        for _ in 0..<2 {
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
        }
        while try channel.readOutbound(as: HTTPServerResponsePart.self) != nil {}
        try Self.send(channel, Self.head(fields: Self.standard(warm2)), warm2)
        let (_, reply) = try #require(try Self.response(channel))
        #expect(try JSONValue(json: reply)["response"]?["uid"] == "warm2")
        #expect(router.parts.count == 6)
        _ = try channel.finish()
    }

    /// Graceful shutdown while a body is arriving: the request is answered first, then the
    /// quiesce event goes on (and the connection closes behind the response).
    @Test func quiesceWaitsForTheRequestBeingCollected() throws {
        let (channel, router, _) = try Self.channel(immediate: ["warm"])
        let body = Self.body(uid: "warm")
        try channel.writeInbound(HTTPServerRequestPart.head(try HTTPRequestHead(Self.head(fields: Self.standard(body)))))
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(bytes: body.prefix(10))))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(router.quiesced == 0)
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(bytes: body.dropFirst(10))))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try Self.response(channel) != nil)
        #expect(router.quiesced == 1)
        // Between requests it goes on at once.
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(router.quiesced == 2)
        _ = try channel.finish()
    }

    /// The controller's immediate answer is the answer of its full pipeline, and it gives none
    /// while a verification is not cached.
    @Test func theControllersImmediateAnswerIsItsFullAnswer() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages(), TestPolicies.requireTeamLabel])
        let signed = WebhookDecisionTests.signedDigest, unsigned = WebhookDecisionTests.unsignedDigest
        h.registry.sign(signed)
        let pinned = "registry.example.com/team/app@" + signed
        // (name, request, verified on its first review, cached after it)
        var cases: [(String, AdmissionRequestBuilder, cold: Bool, cached: Bool)] = []
        cases.append(("signed, pinned", WebhookDecisionTests.pod([pinned]), true, true))
        cases.append(("signed, no team label (audit)", WebhookDecisionTests.pod([pinned], labels: [:]), false, true))
        // "no signatures found" is thrown by the registry, and not cached: reviewed in full each time
        cases.append(("unsigned, pinned", WebhookDecisionTests.pod(["registry.example.com/team/app@" + unsigned]), true, false))
        cases.append(("no image to verify", WebhookDecisionTests.pod(["nginx:1.25"]), false, true))
        var delete = WebhookDecisionTests.pod([pinned])
        delete.operation = "DELETE"
        cases.append(("delete", delete, false, true))
        for phase in [AdmissionPhase.validate, .mutate] {
            for (name, builder, cold, cached) in cases {
                let request = try #require(try AdmissionReview(parsing: builder.reviewData).request)
                if cold && phase == .validate {
                    #expect(h.controller.reviewImmediately(request, phase: phase, group: .all) == nil, "\(name)")
                }
                let full = await h.controller.review(request, phase: phase, group: .all, deadline: .now + .seconds(10))
                let immediate = h.controller.reviewImmediately(request, phase: phase, group: .all)
                #expect(immediate == (cached ? full : nil), "\(name) \(phase)")
            }
        }
        await h.stop()
    }

    /// Without a plan (the set verifies standard images only), the warm path reads the cache
    /// while evaluating: two policies sharing an attestor are answered at once as in full, and an
    /// object over the image limit takes the planned path, which denies it as the full review does.
    @Test func thePlanFreeWarmPathAnswersAsTheFullPipeline() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages(name: "first"), TestPolicies.verifyImages(name: "second")],
                                                  limits: .init(maxImagesPerRequest: 1))
        let signed = WebhookDecisionTests.signedDigest
        h.registry.sign(signed)
        let pinned = "registry.example.com/team/app@" + signed
        let set = try #require(h.controller.policies.current)
        let one = try #require(try AdmissionReview(parsing: WebhookDecisionTests.pod([pinned]).reviewData).request)
        let two = try #require(try AdmissionReview(parsing: WebhookDecisionTests.pod([pinned, "registry.example.com/team/other@" + signed]).reviewData).request)
        #expect(set.verifiesStandardImagesOnly)
        #expect(h.controller.readsCacheWhileEvaluating(try #require(one.object), set: set))
        #expect(!h.controller.readsCacheWhileEvaluating(try #require(two.object), set: set))
        #expect(h.controller.reviewImmediately(one, phase: .validate, group: .all) == nil)  // not verified yet
        for request in [one, two] {
            let full = await h.controller.review(request, phase: .validate, group: .all, deadline: .now + .seconds(10))
            let immediate = try #require(h.controller.reviewImmediately(request, phase: .validate, group: .all))
            #expect(immediate == full)
        }
        let denied = try #require(h.controller.reviewImmediately(two, phase: .validate, group: .all))
        #expect(!denied.allowed)
        #expect(denied.status?.message?.contains("--max-images-per-request") == true)
        await h.stop()
    }

    /// Over HTTPS, the first review verifies (routed), the second is answered on the event loop,
    /// with the same bytes.
    @Test func warmReviewsOverHTTPSMatchTheRoutedAnswer() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages()])
        h.registry.sign(WebhookDecisionTests.signedDigest)
        let pod = WebhookDecisionTests.pod(["registry.example.com/team/app@" + WebhookDecisionTests.signedDigest])
        let first = try await h.hook.review("/validate", pod)   // verifies: routed
        let second = try await h.hook.review("/validate", pod)  // cached: answered in the pipeline
        #expect(first.status == 200 && second.status == 200)
        #expect(first.body == second.body)
        #expect(second.response?["allowed"] == true)
        let metrics = try await h.hook.metrics("/metrics").text
        #expect(metrics.contains(#"signet_admission_requests_total{path="/validate",code="200"} 2"#))
        #expect(metrics.contains(#"signet_admission_immediate_reviews_total{path="/validate"} 1"#))
        await h.stop()
    }
}
