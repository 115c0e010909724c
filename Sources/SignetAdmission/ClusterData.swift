import Foundation
import SignetPolicy
import SignetPrimitives
import Synchronization

/// One read of cluster data a policy can cause in `serve`: the key of the per-request answers
/// and of the cross-request cache.
public enum ClusterQuery: Sendable, Hashable, CustomStringConvertible {
    /// A GET of an API path: an object (`resource.Get`, `configMap`, `apiCall`) or a list
    /// (`resource.List`, `apiCall` on a collection).
    case get(path: String)
    /// An `apiCall` POST of `body` to `path` (a review, say); never cached across requests.
    case post(path: String, body: JSONValue)
    /// A SubjectAccessReview for one `authorizer` check.
    case access(KubernetesAuthorizationRequest)
    /// Every Kyverno GlobalContextEntry with its data (`globalContext.Get`, `globalReference`).
    case globalContextEntries

    public var description: String {
        switch self {
        case .get(let p): "GET \(p)"
        case .post(let p, _): "POST \(p)"
        case .access(let r): "SubjectAccessReview for \(r.user) to \(r.verb) \(r.path ?? [r.group, r.resource, r.subresource].filter { !$0.isEmpty }.joined(separator: "/"))"
        case .globalContextEntries: "the global context entries"
        }
    }
}

/// What the API server answered to one `ClusterQuery`.
public enum ClusterAnswer: Sendable, Hashable {
    /// The JSON answer (an object, a list object, a review).
    case found(JSONValue)
    /// HTTP 404: Kyverno's "not found".
    case notFound
    /// The read could not be made or answered (transport, refusal, a limit, the deadline): an
    /// error for the rule that needed it, never "not found" and never an allow.
    case failed(String)
    /// A SubjectAccessReview's decision.
    case decision(KubernetesAuthorizationDecision)
    /// The global context entries by name.
    case globalContext([String: GlobalContextData])

    /// Only definite answers are cached across requests; failures are retried by the next request.
    var isCacheable: Bool { if case .failed = self { false } else { true } }
}

/// The data of one Kyverno GlobalContextEntry as `globalContext.Get(name, projection)` serves it:
/// the raw data (a `kubernetesResource` entry: the list of its objects; an `apiCall` entry: the
/// JSON answer) and each projection's value (its `jmesPath` applied to the data).
public struct GlobalContextData: Sendable, Hashable {
    /// The data, or why the entry has none.
    public var data: Result<JSONValue, GlobalContextFailure>
    /// Projection name → value.
    public var projections: [String: JSONValue]

    public init(data: Result<JSONValue, GlobalContextFailure>, projections: [String: JSONValue] = [:]) {
        self.data = data
        self.projections = projections
    }
}

/// Why a global context entry has no data (Kyverno reports the entry's error on `Get`).
public struct GlobalContextFailure: Error, Sendable, Hashable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Builds API paths from what policies name, refusing anything that would change the URL's shape.
public enum KubernetesAPIPaths {
    /// The most characters of an `apiCall` urlPath.
    static let maximumPathLength = 2048

    /// `v1` → `/api/v1`, `apps/v1` → `/apis/apps/v1` (Kubernetes' legacy core group has no name).
    public static func groupVersionPrefix(_ apiVersion: String) -> String? {
        let parts = apiVersion.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1 where isSegment(parts[0]): return "/api/\(parts[0])"
        case 2 where isSegment(parts[0]) && isSegment(parts[1]): return parts[0].isEmpty ? "/api/\(parts[1])" : "/apis/\(parts[0])/\(parts[1])"
        default: return nil
        }
    }

    /// The path of `resource.Get(apiVersion, resource, namespace, name)`; `resource` may carry a
    /// subresource (`pods/status`), as Kyverno's dynamic client accepts it.
    public static func objectPath(apiVersion: String, resource: String, namespace: String, name: String) -> String? {
        guard let prefix = groupVersionPrefix(apiVersion), !name.isEmpty, let encodedName = encode(name) else { return nil }
        let parts = resource.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let plural = parts.first, parts.count <= 2, parts.allSatisfy(isSegment), !plural.isEmpty else { return nil }
        var path = prefix
        if !namespace.isEmpty {
            guard isSegment(namespace) else { return nil }
            path += "/namespaces/\(namespace)"
        }
        path += "/\(plural)/\(encodedName)"
        if parts.count == 2, !parts[1].isEmpty { path += "/\(parts[1])" }
        return path
    }

    /// The path of `resource.List(apiVersion, resource, namespace)` (every namespace when empty).
    public static func listPath(apiVersion: String, resource: String, namespace: String) -> String? {
        guard let prefix = groupVersionPrefix(apiVersion), isSegment(resource), !resource.isEmpty else { return nil }
        if namespace.isEmpty { return "\(prefix)/\(resource)" }
        guard isSegment(namespace) else { return nil }
        return "\(prefix)/namespaces/\(namespace)/\(resource)"
    }

    /// An `apiCall` urlPath as given (after variable substitution, so partly from the request):
    /// absolute, no `..` segment, no fragment, only URL characters, bounded.
    public static func validatedURLPath(_ urlPath: String) -> String? {
        guard urlPath.hasPrefix("/"), !urlPath.hasPrefix("//"), urlPath.utf8.count <= maximumPathLength else { return nil }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?%".utf8)
        guard urlPath.utf8.allSatisfy(allowed.contains) else { return nil }
        let pathPart = urlPath.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let segments = pathPart.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { $0 == ".." || $0 == "." || $0.lowercased().contains("%2e%2e") || $0.lowercased().contains("%2f") }) else { return nil }
        return urlPath
    }

    /// A path segment Kubernetes names use (group, version, resource, namespace): letters,
    /// digits, `-` and `.`, not `.`/`..`, at most 253 characters. Empty is allowed (the core group).
    static func isSegment(_ s: String) -> Bool {
        guard s.utf8.count <= 253, s != ".", s != ".." else { return false }
        return s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x2e }
    }

    /// An object name as one percent-encoded path segment (`/` and `..` refused).
    static func encode(_ name: String) -> String? {
        guard name.utf8.count <= 253, name != ".", name != "..", !name.contains("/") else { return nil }
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~:@")
        return name.addingPercentEncoding(withAllowedCharacters: allowed)
    }
}

/// One evaluation round's view of the cluster: the answers read so far (immutable) and the
/// reads asked for and not known, recorded so the controller can read them and evaluate again.
///
/// It is what the pure engines consult: `KyvernoClusterReader` (`resource.Get/List`,
/// `globalContext.Get`), `KubernetesAuthorizer` (`authorizer`) and `ContextDataProvider`
/// (`configMap`, `apiCall`). A read not known yet answers an error value this round (its results
/// are dropped when the read is then made); in the last round (`finalReason` set) it answers
/// that error for good, so a policy that keeps asking ends in a rule error.
final class ClusterDataView: KyvernoClusterReader, KubernetesAuthorizer, ContextDataProvider {
    let answers: [ClusterQuery: ClusterAnswer]
    /// Set in the last round: why unknown reads are not made.
    let finalReason: String?
    /// The most reads one round records (a comprehension asking for thousands of objects).
    let maximumRecorded: Int
    /// Fresh answers of earlier requests (`ClusterDataSource.cachedAnswer`): with a warm cache
    /// the first round knows everything and no request is evaluated twice.
    let cached: (@Sendable (ClusterQuery) -> ClusterAnswer?)?
    private let recorded = Mutex<(list: [ClusterQuery], seen: Set<ClusterQuery>)>(([], []))

    init(answers: [ClusterQuery: ClusterAnswer], finalReason: String?, maximumRecorded: Int = 256,
         cached: (@Sendable (ClusterQuery) -> ClusterAnswer?)? = nil) {
        self.answers = answers
        self.finalReason = finalReason
        self.maximumRecorded = maximumRecorded
        self.cached = cached
    }

    /// The reads asked for this round that no answer covers, in the order asked.
    var missing: [ClusterQuery] { recorded.withLock { $0.list } }

    /// The answer to `query`, or (recording it) why there is none yet.
    func answer(_ query: ClusterQuery) -> ClusterAnswer {
        if let a = answers[query] ?? cached?(query) { return a }
        if let finalReason { return .failed(finalReason) }
        recorded.withLock { r in
            guard r.list.count < maximumRecorded, r.seen.insert(query).inserted else { return }
            r.list.append(query)
        }
        return .failed("\(query) has not been read yet")
    }

    // MARK: KyvernoClusterReader

    func get(apiVersion: String, resource: String, namespace: String, name: String) -> KyvernoClusterRead? {
        guard let path = KubernetesAPIPaths.objectPath(apiVersion: apiVersion, resource: resource, namespace: namespace, name: name) else {
            return .failed("invalid resource reference (apiVersion '\(apiVersion)', resource '\(resource)', namespace '\(namespace)', name '\(name)')")
        }
        return Self.read(answer(.get(path: path)))
    }

    func list(apiVersion: String, resource: String, namespace: String) -> KyvernoClusterRead? {
        guard let path = KubernetesAPIPaths.listPath(apiVersion: apiVersion, resource: resource, namespace: namespace) else {
            return .failed("invalid resource reference (apiVersion '\(apiVersion)', resource '\(resource)', namespace '\(namespace)')")
        }
        if case .found(let list) = answer(.get(path: path)) { return .found(ClusterDataSource.withItemKinds(list)) }
        return Self.read(answer(.get(path: path)))
    }

    func globalContext(name: String, projection: String) -> KyvernoClusterRead? {
        switch answer(.globalContextEntries) {
        case .globalContext(let entries):
            guard let entry = entries[name] else { return .notFound }
            switch entry.data {
            case .failure(let f): return .failed(f.message)
            case .success(let data):
                if projection.isEmpty { return .found(data) }
                // Kyverno: a projection that is not defined has no data
                guard let v = entry.projections[projection], v != .null else { return .failed("no data available") }
                return .found(v)
            }
        case .failed(let m): return .failed(m)
        default: return .failed("the global context entries could not be read")
        }
    }

    static func read(_ a: ClusterAnswer) -> KyvernoClusterRead {
        switch a {
        case .found(let v): .found(v)
        case .notFound: .notFound
        case .failed(let m): .failed(m)
        case .decision, .globalContext: .failed("unexpected answer")
        }
    }

    // MARK: KubernetesAuthorizer

    func authorize(_ request: KubernetesAuthorizationRequest) -> KubernetesAuthorizationDecision {
        switch answer(.access(request)) {
        case .decision(let d): return d
        case .failed(let m): return KubernetesAuthorizationDecision(.noOpinion, error: m)
        default: return KubernetesAuthorizationDecision(.noOpinion, error: "the subjectaccessreview could not be made")
        }
    }

    // MARK: ContextDataProvider

    func apiCall(urlPath: String, method: String, data: JSONValue?) throws -> JSONValue {
        guard let path = KubernetesAPIPaths.validatedURLPath(urlPath) else {
            throw SignetPolicyError(.variableSubstitution, "invalid apiCall urlPath '\(urlPath.prefix(200))'")
        }
        let query: ClusterQuery
        switch method.uppercased() {
        case "GET", "": query = .get(path: path)
        case "POST": query = .post(path: path, body: data ?? .object([:]))
        default: throw SignetPolicyError(.unsupported, "apiCall method \(method) is not supported (GET or POST)")
        }
        switch answer(query) {
        case .found(let v): return v
        case .notFound: throw SignetPolicyError(.variableNotFound, "failed to \(method.uppercased()) resource with raw url: \(path): the server could not find the requested resource")
        case .failed(let m): throw SignetPolicyError(.variableSubstitution, m)
        default: throw SignetPolicyError(.variableSubstitution, "unexpected answer to \(query)")
        }
    }

    func imageData(reference: String) throws -> JSONValue {
        // Registry data is read before evaluation (`PrefetchedImageData`): what is not there was not readable.
        throw SignetPolicyError(.unsupported, "image data for \(reference) could not be read from the registry")
    }

    func configMap(namespace: String, name: String) throws -> JSONValue? {
        guard let encoded = KubernetesAPIPaths.encode(name), !name.isEmpty, KubernetesAPIPaths.isSegment(namespace), !namespace.isEmpty else {
            throw SignetPolicyError(.variableNotFound, "invalid configmap reference '\(namespace)/\(name)'")
        }
        switch answer(.get(path: "/api/v1/namespaces/\(namespace)/configmaps/\(encoded)")) {
        case .found(let v): return v
        case .notFound: return nil
        case .failed(let m): throw SignetPolicyError(.variableSubstitution, "failed to read configmap \(namespace)/\(name): \(m)")
        default: throw SignetPolicyError(.variableSubstitution, "failed to read configmap \(namespace)/\(name)")
        }
    }
}

/// What a policy set reads from the cluster in `serve`, found once when it is loaded.
public struct ClusterDataNeeds: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// A ClusterPolicy rule with a `configMap` or `apiCall` context entry.
    public static let contextEntries = ClusterDataNeeds(rawValue: 1)
    /// A ClusterPolicy rule with a `globalReference` context entry.
    public static let globalReference = ClusterDataNeeds(rawValue: 2)
    /// A CEL policy naming `resource`, `globalContext` or `authorizer`.
    public static let cel = ClusterDataNeeds(rawValue: 4)
}

extension PolicyEngine {
    /// What this engine's ClusterPolicies read from the cluster (`configMap`, `apiCall`,
    /// `globalReference` context entries, in rules and nested `foreach`).
    public var clusterPolicyDataNeeds: ClusterDataNeeds {
        var needs = ClusterDataNeeds()
        func scan(_ entries: [ContextEntry]) {
            for e in entries {
                switch e.source {
                case .configMap, .apiCall: needs.insert(.contextEntries)
                case .serviceCall: break
                case .globalReference: needs.insert(.globalReference)
                default: break
                }
            }
        }
        func scan(_ loops: [ForEachValidation]?, depth: Int) {
            guard depth < 16, let loops else { return }
            for l in loops { scan(l.context); scan(l.foreach, depth: depth + 1) }
        }
        for p in policies {
            for r in p.effectiveRules {
                scan(r.context)
                scan(r.validate?.foreach, depth: 0)
                // `validate.cel` and `celPreconditions` can call the `authorizer` too
                var texts = (r.celPreconditions?.conditions ?? []).map(\.expression)
                if let cel = r.validate?.cel {
                    texts += cel.expressions.map(\.expression) + cel.variables.map(\.expression) + cel.expressions.compactMap(\.messageExpression)
                        + cel.auditAnnotations.map(\.valueExpression)
                }
                if texts.contains(where: { $0.contains("authorizer") || $0.contains("resource.") || $0.contains("globalContext.") }) {
                    needs.insert(.cel)
                }
            }
        }
        return needs
    }
}

extension CELPolicyEngine {
    /// `.cel` when an expression of a CEL policy names `resource.`, `globalContext.` or
    /// `authorizer` (a textual test: a false positive only costs an empty view).
    public var clusterDataNeeds: ClusterDataNeeds {
        let all = policies + imagePolicies.map(\.base)
        let reads = all.contains { p in
            let texts = p.variables.map(\.expression) + p.validations.map(\.expression) + p.matchConditions.map(\.expression)
                + p.validations.compactMap(\.messageExpression) + p.auditAnnotations.map(\.valueExpression)
            // `http.Get/Post` calls are read the same way (serve --allow-http-host)
            return texts.contains { $0.contains("resource.") || $0.contains("globalContext.") || $0.contains("authorizer") || $0.contains("http.") }
        }
        return reads ? .cel : []
    }
}
