import AsyncHTTPClient
import Foundation
import NIOCore
import SignetOCI
import SignetPolicy
import SignetPrimitives
import Synchronization

/// The CEL `http` library in `serve` (Kyverno's `http.Get/Post`): off unless hosts are allowed
/// (`signet serve --allow-http-host HOST`). Calls go only to allowed hosts (`host` or
/// `host:port`, compared case-insensitively), over `http`/`https`, without following redirects,
/// within `timeout` and the request's deadline, reading at most `maximumResponseSize` bytes;
/// the answer must be JSON. Answers are not cached across requests (they are not cluster state).
public final class CELHTTPClient: Sendable {
    public let allowedHosts: Set<String>
    public let timeout: Duration
    public let maximumResponseSize: Int
    /// Calls per admission request (beyond it a call fails).
    public let maximumCallsPerRequest: Int
    let http: HTTPClient
    private let isShutDown = Mutex(false)

    public init(allowedHosts: [String], timeout: Duration = .seconds(5), maximumResponseSize: Int = 1 << 20,
                maximumCallsPerRequest: Int = 16) {
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
        self.timeout = timeout
        self.maximumResponseSize = max(1024, maximumResponseSize)
        self.maximumCallsPerRequest = max(1, maximumCallsPerRequest)
        var configuration = HTTPClient.Configuration()
        // a redirect could lead to a host that is not allowed: never followed
        configuration.redirectConfiguration = .disallow
        let ms = max(1, timeout.wholeMilliseconds)
        configuration.timeout = .init(connect: .milliseconds(ms), read: .milliseconds(ms))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes the connection pool. Later calls do nothing.
    public func shutdown() async throws {
        guard isShutDown.withLock({ old in defer { old = true }; return !old }) else { return }
        try await http.shutdown()
    }

    deinit {
        if isShutDown.withLock({ !$0 }) { http.shutdown { _ in } }
    }

    /// Why `url` may not be called, or nil when it may.
    public func refusal(_ url: String) -> String? {
        guard url.utf8.count <= 4096, let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = u.host?.lowercased(), !host.isEmpty, u.user == nil, u.password == nil else {
            return "http call to '\(url.prefix(200))' refused: not an http(s) url"
        }
        let hostPort = u.port.map { "\(host):\($0)" } ?? host
        guard allowedHosts.contains(host) || allowedHosts.contains(hostPort) else {
            return "http call to \(hostPort) refused: the host is not allowed (signet serve --allow-http-host)"
        }
        return nil
    }

    /// Makes the calls (at most 8 at once), each within `deadline`; every call gets an answer.
    public func perform(_ calls: [KyvernoHTTPCall], deadline: ContinuousClock.Instant) async -> [KyvernoHTTPCall: KyvernoClusterRead] {
        await concurrentAnswers(calls, width: 8) { await self.perform($0, deadline: deadline) }
    }

    /// One call: refused, or its JSON answer (any status, as Kyverno decodes the body), or why not.
    public func perform(_ call: KyvernoHTTPCall, deadline: ContinuousClock.Instant) async -> KyvernoClusterRead {
        if let refusal = refusal(call.url) { return .failed(refusal) }
        var request = HTTPClientRequest(url: call.url)
        request.method = call.method == .get ? .GET : .POST
        request.headers.add(name: "User-Agent", value: "signet/0.1")
        for (k, v) in call.headers.sorted(by: { $0.key < $1.key }) {
            // header names and values from a policy: no line breaks (header injection)
            guard !k.isEmpty, !k.contains(where: { $0.isNewline || $0 == ":" }), !v.contains(where: \.isNewline) else {
                return .failed("http \(call): invalid header \(k.prefix(100))")
            }
            request.headers.add(name: k, value: v)
        }
        if let body = call.body {
            if !request.headers.contains(name: "Content-Type") { request.headers.add(name: "Content-Type", value: "application/json") }
            request.body = .bytes(ByteBuffer(string: body.jsonString(sortedKeys: true, escapeHTML: false)))
        }
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { return .failed("http \(call): the admission deadline passed") }
        do {
            let response = try await http.execute(request, timeout: .milliseconds(max(1, min(remaining, timeout).wholeMilliseconds)))
            if (300..<400).contains(response.status.code) {
                return .failed("http \(call): redirect (http \(response.status.code)) not followed")
            }
            let bytes = try await response.body.collect(upTo: maximumResponseSize)
            guard let value = try? JSONValue(json: Data(buffer: bytes)) else {
                return .failed("http \(call): http \(response.status.code), the answer is not json")
            }
            return .found(value)
        } catch {
            return .failed("http \(call) failed: \(String("\(error)".prefix(200)))")
        }
    }
}

/// One evaluation round's answers to `http` calls, recording the calls not read yet (as
/// `ClusterDataView` does for cluster reads).
final class HTTPCallView: KyvernoHTTPReader {
    let answers: [KyvernoHTTPCall: KyvernoClusterRead]
    /// Set in the last round (or when calls are not allowed at all): why unknown calls are not made.
    let finalReason: String?
    let client: CELHTTPClient
    private let recorded = Mutex<(list: [KyvernoHTTPCall], seen: Set<KyvernoHTTPCall>)>(([], []))

    init(client: CELHTTPClient, answers: [KyvernoHTTPCall: KyvernoClusterRead], finalReason: String?) {
        self.client = client
        self.answers = answers
        self.finalReason = finalReason
    }

    /// The calls asked for this round that have no answer, in the order asked.
    var missing: [KyvernoHTTPCall] { recorded.withLock { $0.list } }

    func call(_ call: KyvernoHTTPCall) -> KyvernoClusterRead {
        if let a = answers[call] { return a }
        // refused calls fail at once: nothing to read
        if let refusal = client.refusal(call.url) { return .failed(refusal) }
        if let finalReason { return .failed(finalReason) }
        recorded.withLock { r in
            guard r.list.count < client.maximumCallsPerRequest, r.seen.insert(call).inserted else { return }
            r.list.append(call)
        }
        return .failed("\(call) has not been read yet")
    }
}
