import AsyncHTTPClient
import Foundation
import NIOHTTP1

/// A `WWW-Authenticate` challenge (RFC 7235; Docker token auth spec).
enum Challenge: Equatable, Sendable {
    case none
    case basic(realm: String?)
    /// realm, service, scope (scope as the registry asked for it, if any).
    case bearer(realm: String, service: String?, scope: String?)

    init(header: String?) {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { self = .none; return }
        let schemeEnd = header.firstIndex(of: " ") ?? header.endIndex
        let scheme = header[..<schemeEnd].lowercased()
        let params = Challenge.parameters(String(header[schemeEnd...]))
        switch scheme {
        case "basic": self = .basic(realm: params["realm"])
        case "bearer":
            if let realm = params["realm"] { self = .bearer(realm: realm, service: params["service"], scope: params["scope"]) }
            else { self = .none }
        default: self = .none
        }
    }

    /// `key="value", key2=value2` (commas allowed inside quotes).
    static func parameters(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var i = text.startIndex
        func skip(_ chars: Set<Character>) { while i < text.endIndex && chars.contains(text[i]) { i = text.index(after: i) } }
        while i < text.endIndex {
            skip([" ", ",", "\t"])
            let keyStart = i
            while i < text.endIndex && text[i] != "=" && text[i] != "," { i = text.index(after: i) }
            let key = text[keyStart..<i].trimmingCharacters(in: .whitespaces).lowercased()
            guard i < text.endIndex, text[i] == "=" else { continue }
            i = text.index(after: i)
            var value = ""
            if i < text.endIndex && text[i] == "\"" {
                i = text.index(after: i)
                while i < text.endIndex && text[i] != "\"" {
                    if text[i] == "\\", text.index(after: i) < text.endIndex { i = text.index(after: i) }
                    value.append(text[i])
                    i = text.index(after: i)
                }
                if i < text.endIndex { i = text.index(after: i) }
            } else {
                while i < text.endIndex && text[i] != "," { value.append(text[i]); i = text.index(after: i) }
                value = value.trimmingCharacters(in: .whitespaces)
            }
            if !key.isEmpty { result[key] = value }
        }
        return result
    }
}

extension RegistryClient {
    /// The scheme and auth challenge of `registry`, from a cached or fresh `GET /v2/`.
    func ensureEndpoint(_ registry: String) async throws -> Endpoint {
        if let e = state.withLock({ $0.endpoints[registry] }) { return e }
        let loopback = Reference.isLoopback(host: registry)
        let schemes = loopback ? ["http"] : (configuration.allowInsecure ? ["https", "http"] : ["https"])
        var lastError: (any Error)?
        for scheme in schemes {
            let response: Response
            do {
                response = try await exchange(.GET, url: "\(scheme)://\(registry)/v2/", headers: [], body: nil,
                                              maxBody: 64 << 10, timeout: configuration.requestTimeout, host: registry)
            } catch {
                lastError = error
                continue
            }
            let challenge: Challenge
            switch response.status {
            case 200..<300: challenge = .none
            case 401: challenge = Challenge(header: response.header("WWW-Authenticate"))
            default:
                throw SignetOCIError(.registryError, "\(registry) does not look like a registry: GET /v2/ answered \(response.status)",
                                     status: response.status)
            }
            let endpoint = Endpoint(scheme: scheme, challenge: challenge)
            state.withLock { $0.endpoints[registry] = endpoint }
            return endpoint
        }
        throw lastError ?? SignetOCIError(.transport, "cannot reach registry \(registry)")
    }

    /// The `Authorization` header value for a request with `scopes`, fetching a token if needed.
    func authorization(registry: String, endpoint: Endpoint, scopes: [String]) async throws -> String? {
        switch endpoint.challenge {
        case .none:
            return nil
        case .basic:
            guard let c = try await credentials.credential(for: registry), !c.username.isEmpty || !c.password.isEmpty else { return nil }
            return "Basic " + Data("\(c.username):\(c.password)".utf8).base64EncodedString()
        case .bearer(let realm, let service, _):
            let key = registry + " " + scopes.sorted().joined(separator: " ")
            let now = ContinuousClock.now
            if let cached = state.withLock({ $0.tokens[key] }), cached.expires > now { return "Bearer " + cached.token }
            let (token, lifetime) = try await fetchToken(registry: registry, realm: realm, service: service, scopes: scopes)
            // Refresh a little early so a token never expires in flight.
            let margin = min(lifetime / 5, .seconds(30))
            state.withLock { $0.tokens[key] = CachedToken(token: token, expires: now + lifetime - margin) }
            return "Bearer " + token
        }
    }

    /// Docker token auth: `GET REALM?service=S&scope=...` (Basic-authenticated when we have a login),
    /// or the OAuth2 refresh-token POST for identity tokens. Answers `token` or `access_token`.
    func fetchToken(registry: String, realm: String, service: String?, scopes: [String]) async throws -> (String, Duration) {
        let realmHost = Self.hostOf(realm)
        guard realm.hasPrefix("https://") || (realm.hasPrefix("http://") && (configuration.allowInsecure || Reference.isLoopback(host: realmHost))) else {
            throw SignetOCIError(.insecureRegistry, "token realm of \(registry) is not https (\(realmHost)); use --allow-insecure-registry to allow it")
        }
        let credential = try await credentials.credential(for: registry)
        var query: [String] = []
        func enc(_ s: String) -> String {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~:/,")
            return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
        }
        if let service { query.append("service=" + enc(service)) }
        for scope in scopes { query.append("scope=" + enc(scope)) }
        let response: Response
        if let identity = credential?.identityToken {
            var form = ["grant_type=refresh_token", "refresh_token=" + enc(identity), "client_id=signet"] + query
            form.sort()
            response = try await exchange(.POST, url: realm, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                          body: Data(form.joined(separator: "&").utf8), maxBody: 1 << 20,
                                          timeout: configuration.requestTimeout, host: realmHost)
        } else {
            var headers: [(String, String)] = []
            if let c = credential, !c.username.isEmpty || !c.password.isEmpty {
                headers.append(("Authorization", "Basic " + Data("\(c.username):\(c.password)".utf8).base64EncodedString()))
            }
            let url = realm + (query.isEmpty ? "" : (realm.contains("?") ? "&" : "?") + query.joined(separator: "&"))
            response = try await exchange(.GET, url: url, headers: headers, body: nil, maxBody: 1 << 20,
                                          timeout: configuration.requestTimeout, host: realmHost)
        }
        guard response.status == 200 else {
            let why = credential == nil ? "no credentials for \(registry)" : "credentials for \(registry) were refused"
            throw SignetOCIError(.unauthorized, "token service \(realmHost) answered \(response.status) (\(why))", status: response.status)
        }
        struct TokenAnswer: Decodable { let token: String?; let access_token: String?; let expires_in: Int? }
        guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: response.body),
              let token = answer.token.flatMap({ $0.isEmpty ? nil : $0 }) ?? answer.access_token.flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw SignetOCIError(.unauthorized, "token service \(realmHost) returned no token")
        }
        // Docker token spec: expires_in defaults to 60 seconds.
        let lifetime = Duration.seconds(max(answer.expires_in ?? 60, 1))
        return (token, lifetime)
    }

    /// `repository:NAME:ACTIONS`.
    static func scope(_ reference: Reference, push: Bool = false) -> String {
        "repository:\(reference.repository):" + (push ? "pull,push" : "pull")
    }
}
