// The Kubernetes URL library (k8s.io/apiserver pkg/cel/library/urls.go). Parsing follows Go
// `net/url.ParseRequestURI`: an absolute URI or an absolute path, no fragment handling.

/// A parsed URL (`kubernetes.URL`).
public struct CELURL: CELOpaque, Hashable {
    /// The original text.
    public let text: String
    /// The scheme, lowercased; empty for an absolute path.
    public let scheme: String
    /// `host[:port]` as written (brackets kept for IPv6), without user info.
    public let host: String
    /// The raw (still escaped) path.
    let rawPath: String
    /// The raw query after `?`, without the `?`.
    let rawQuery: String
    /// The unescaped path.
    let path: String

    /// The CEL type `kubernetes.URL`.
    public static let type = CELType.opaque("kubernetes.URL")
    /// The CEL runtime type of the value.
    public var celType: CELType { Self.type }
    /// The canonical text form (used by `string(x)` and JSON output).
    public var description: String { text }

    /// CEL equality with another library value.
    public func isEqual(to other: any CELOpaque) -> Bool {
        (other as? CELURL)?.text == text
    }

    /// Validates like Go `url.ParseRequestURI` (an absolute URI or an absolute path); the components are
    /// then taken from the text before any `#` fragment, as Go's `url.Parse` does (k8s urls.go).
    public init(parsing text: String) throws(CELError) {
        guard text.utf8.count <= 8192 else { throw Self.bad("url too long") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw Self.bad("invalid control character in URL")
        }
        _ = try Self.components(Substring(text))
        let withoutFragment = text.firstIndex(of: "#").map { text[..<$0] } ?? Substring(text)
        let c = try Self.components(withoutFragment)
        self.text = text
        scheme = c.scheme
        host = c.host
        rawPath = c.rawPath
        path = c.path
        rawQuery = c.rawQuery
    }

    static func bad(_ why: String) -> CELError {
        CELError(.invalidArgument, "URL parse error during conversion from string: \(why)")
    }

    /// The parts of a request URI (Go `url.parse` with `viaRequest`).
    static func components(_ text: Substring) throws(CELError)
        -> (scheme: String, host: String, rawPath: String, path: String, rawQuery: String)
    {
        var rest = text
        // Scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
        var scheme = ""
        if let colon = rest.firstIndex(of: ":") {
            let candidate = rest[..<colon]
            if let first = candidate.first, first.isASCII, first.isLetter,
               candidate.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
            {
                scheme = candidate.lowercased()
                rest = rest[rest.index(after: colon)...]
            } else if candidate.isEmpty {
                throw bad("missing protocol scheme")
            }
        }
        var query = ""
        if let q = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: q)...])
            rest = rest[..<q]
        }
        guard rest.hasPrefix("/") else {
            // An opaque URI such as `mailto:x@y`: valid, with no host and no path.
            if !scheme.isEmpty, !rest.isEmpty { return (scheme, "", "", "", query) }
            throw bad("invalid URI for request")
        }
        var host = ""
        if !scheme.isEmpty, rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            var authority = rest[..<end]
            rest = rest[end...]
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                guard userinfo.allSatisfy({ !" <>\"{}|\\^`[]".contains($0) }) else { throw bad("invalid userinfo") }
                authority = authority[authority.index(after: at)...]
            }
            host = try validateHost(String(authority), bad)
        }
        let rawPath = String(rest)
        guard let path = URLEscaping.unescape(rawPath, plusIsSpace: false) else { throw bad("invalid URL escape") }
        return (scheme, host, rawPath, path, query)
    }

    /// Go `parseHost`: bracketed IPv6 with optional `:port`, or a name with an optional numeric port.
    static func validateHost(_ host: String, _ bad: (String) -> CELError) throws(CELError) -> String {
        if host.hasPrefix("[") {
            guard let close = host.lastIndex(of: "]") else { throw bad("missing ']' in host") }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), after.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) else {
                    throw bad("invalid port \"\(after)\" after host")
                }
            }
            return host
        }
        if let colon = host.lastIndex(of: ":") {
            let port = host[host.index(after: colon)...]
            guard port.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw bad("invalid port \":\(port)\" after host") }
        }
        for ch in host.unicodeScalars where ch.isASCII {
            let c = Character(ch)
            let allowed = c.isLetter || c.isNumber || "-._~!$&'()*+,;=:[]<>\"%".contains(c)
            guard allowed else { throw bad("invalid character \"\(c)\" in host name") }
        }
        guard URLEscaping.unescape(host, plusIsSpace: false) != nil else { throw bad("invalid URL escape in host") }
        return host
    }

    /// Host without port and without IPv6 brackets (Go `URL.Hostname`).
    var hostname: String {
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") { return String(host[host.index(after: host.startIndex)..<close]) }
            return host
        }
        if let colon = host.lastIndex(of: ":") { return String(host[..<colon]) }
        return host
    }

    /// The port, or empty (Go `URL.Port`).
    var port: String {
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") {
                let after = host[host.index(after: close)...]
                return after.hasPrefix(":") ? String(after.dropFirst()) : ""
            }
            return ""
        }
        if let colon = host.lastIndex(of: ":") { return String(host[host.index(after: colon)...]) }
        return ""
    }

    /// Go `URL.EscapedPath`: the raw path when it is a valid encoding of the path, else the path escaped.
    var escapedPath: String {
        if URLEscaping.isValidEncodedPath(rawPath), URLEscaping.unescape(rawPath, plusIsSpace: false) == path {
            return rawPath
        }
        return URLEscaping.escapePath(path)
    }

    /// Go `URL.Query`: `k=v` pairs split on `&`, unescaped with `+` as space; malformed pairs are dropped.
    var query: [(String, [String])] {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for pair in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            if pair.contains(";") { continue }
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = URLEscaping.unescape(String(kv[0]), plusIsSpace: true) else { continue }
            let vText = kv.count > 1 ? String(kv[1]) : ""
            guard let v = URLEscaping.unescape(vText, plusIsSpace: true) else { continue }
            if values[k] == nil { order.append(k) }
            values[k, default: []].append(v)
        }
        return order.map { ($0, values[$0] ?? []) }
    }
}

/// Percent-encoding helpers (RFC 3986 §2.1) with Go's path rules.
enum URLEscaping {
    static func unescape(_ s: String, plusIsSpace: Bool) -> String? {
        var out: [UInt8] = []
        let bytes = Array(s.utf8)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let h = IPText.hex(bytes[i + 1]), let l = IPText.hex(bytes[i + 2]) else {
                    return nil
                }
                out.append(UInt8(h * 16 + l))
                i += 3
            } else {
                out.append(plusIsSpace && c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isUnreserved(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
            || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: "~")
    }

    /// Go `shouldEscape(c, encodePath)` is false for unreserved and `$&+,/:;=@`.
    static func escapePath(_ s: String) -> String {
        var out = ""
        for c in s.utf8 {
            if isUnreserved(c) || "$&+,/:;=@".utf8.contains(c) {
                out.unicodeScalars.append(Unicode.Scalar(c))
            } else {
                out += "%" + String(c >> 4, radix: 16, uppercase: true) + String(c & 0x0F, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// Go `validEncoded(s, encodePath)`: only characters that may appear unescaped in a path.
    static func isValidEncodedPath(_ s: String) -> Bool {
        s.utf8.allSatisfy { c in
            isUnreserved(c) || "!$&'()*+,;=:@[]%/".utf8.contains(c)
        }
    }
}

extension CELExtensions {
    /// Kubernetes URL functions: `url(s)`, `isURL(s)`, `getScheme()`, `getHost()`, `getHostname()`,
    /// `getPort()`, `getEscapedPath()`, `getQuery()`.
    public static let kubernetesURLs = CELLibrary(name: "kubernetes.urls", functions: [
        CELFunction("url",
            .function("string_to_url", .string, cost: Ext.linear()) { v in
                guard case .string(let s) = v else { return Ext.noOverload("url") }
                return Ext.attempt { () throws(CELError) in .opaque(try CELURL(parsing: s)) }
            }),
        CELFunction("isURL",
            .function("is_url_string", .string, cost: Ext.linear()) { v in
                guard case .string(let s) = v else { return Ext.noOverload("isURL") }
                return .bool((try? CELURL(parsing: s)) != nil)
            }),
        URLExt.getter("getScheme", "url_get_scheme") { .string($0.scheme) },
        URLExt.getter("getHost", "url_get_host") { .string($0.host) },
        URLExt.getter("getHostname", "url_get_hostname") { .string($0.hostname) },
        URLExt.getter("getPort", "url_get_port") { .string($0.port) },
        URLExt.getter("getEscapedPath", "url_get_escaped_path") { .string($0.escapedPath) },
        URLExt.getter("getQuery", "url_get_query") { url in
            var m = CELMap()
            for (k, vs) in url.query { m.set(.list(vs.map { .string($0) }), for: .string(k)) }
            return .map(m)
        },
        CELFunction("string",
            .function("url_to_string", CELURL.type) { v in
                guard case .opaque(let o) = v else { return Ext.noOverload("string") }
                return .string(o.description)
            }),
    ], types: [CELURL.type])
}

enum URLExt {
    static func getter(_ name: String, _ id: String, _ body: @escaping @Sendable (CELURL) -> CELValue) -> CELFunction {
        CELFunction(name, .method(id, CELURL.type, cost: Ext.linear()) { v in
            guard case .opaque(let o) = v, let url = o as? CELURL else { return Ext.noOverload(name) }
            return body(url)
        })
    }
}
