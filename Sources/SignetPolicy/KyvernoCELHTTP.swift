import SignetCEL
import SignetPrimitives

/// One call of Kyverno's CEL `http` library (`http.Get(url[, headers])`,
/// `http.Post(url, body[, headers])`): the key of the answers read before evaluation.
public struct KyvernoHTTPCall: Sendable, Hashable, CustomStringConvertible {
    /// The two methods the library has.
    public enum Method: String, Sendable, Hashable { case get = "GET", post = "POST" }
    public var method: Method
    public var url: String
    /// The JSON body of a POST.
    public var body: JSONValue?
    /// Request headers (`map(string, string)`).
    public var headers: [String: String]

    public init(method: Method, url: String, body: JSONValue? = nil, headers: [String: String] = [:]) {
        self.method = method
        self.url = url
        self.body = body
        self.headers = headers
    }

    public var description: String { "\(method.rawValue) \(url)" }
}

/// Answers `http` calls in the webhook from responses read before evaluation (evaluation is pure
/// and synchronous): a call not read yet answers `.failed` and is recorded, read, and the
/// policies evaluated again (`AdmissionController.evaluateWithClusterData`).
public protocol KyvernoHTTPReader: Sendable {
    /// The decoded JSON answer, or why there is none.
    func call(_ call: KyvernoHTTPCall) -> KyvernoClusterRead
}

extension KyvernoHTTPHandle {
    /// Routes one call: the test file's mocks, else the webhook's reader, else disabled.
    func call(_ method: KyvernoHTTPCall.Method, _ url: String, body: CELValue?, headers: CELValue?) -> CELValue {
        if let responses = data.httpResponses {
            guard let r = responses[url] else { return .error(.invalidArgument, "no http response for \(url)") }
            return CELValue(json: r)
        }
        guard let reader = data.httpReader else {
            return .error(.unsupported, "http calls are disabled (no host is allowed): \(url)")
        }
        var json: JSONValue?
        if let body {
            guard let j = try? body.toJSON() else { return .error(.invalidArgument, "http.Post: the body is not JSON") }
            json = j
        }
        var h: [String: String] = [:]
        if let headers {
            guard let m = headers.mapValue else { return .error(.invalidArgument, "http headers must be a map of strings") }
            for (k, v) in m {
                guard case .string(let key) = k, let value = v.stringValue else { return .error(.invalidArgument, "http headers must be a map of strings") }
                h[key] = value
            }
        }
        switch reader.call(KyvernoHTTPCall(method: method, url: url, body: json, headers: h)) {
        case .found(let v): return CELValue(json: v)
        case .notFound: return .error(.invalidArgument, "\(method.rawValue) \(url): not found")
        case .failed(let m): return .error(.invalidArgument, m)
        }
    }
}
