import Foundation
import SignetJMESPath
import SignetPolicy
import SignetPrimitives

/// Reads the cluster data policies ask for in `serve` from the Kubernetes API server: objects and
/// lists (`resource.Get/List`, `configMap`, `apiCall` GET), `apiCall` POSTs, SubjectAccessReviews
/// (the CEL `authorizer`) and Kyverno's GlobalContextEntries with their data.
///
/// Kyverno reads these live (client calls, informers for global context entries); Signet's
/// engines are pure and synchronous, so the controller evaluates, collects what was asked and not
/// known (`ClusterDataView`), reads it here, and evaluates again — at most `limits.maximumRounds`
/// times (see `AdmissionController.evaluateWithClusterData`).
///
/// Bounds: `limits.maximumConcurrentReads` reads at once per request, `limits.maximumReadsPerRequest`
/// reads per request, `limits.maximumResponseSize` bytes per answer, the request's deadline on
/// every read. Definite answers (objects, 404s, decisions) are kept for `ttl` and shared by
/// concurrent requests; failures are not kept. A 404 is "not found"; anything else that is not
/// an answer is `.failed`, which makes the rule that needed it an error (failurePolicy decides).
///
/// RBAC needed: `get`/`list` on what the policies read, `list` on
/// `globalcontextentries.kyverno.io` (and what their `kubernetesResource` names), `create` on
/// `subjectaccessreviews.authorization.k8s.io` (deploy/base/rbac.yaml).
public final class ClusterDataSource: Sendable {
    /// Bounds on the cluster reads of one request.
    public struct Limits: Sendable {
        /// Evaluations that may each cause reads (lookups that depend on earlier answers).
        public var maximumRounds: Int
        /// Distinct reads per request; beyond it a read fails ("more than N cluster reads").
        public var maximumReadsPerRequest: Int
        /// Reads in flight at once for one request.
        public var maximumConcurrentReads: Int
        /// Largest answer read (an object, a list, a global context entry's data).
        public var maximumResponseSize: Int
        /// GlobalContextEntries served (the rest are reported as not read).
        public var maximumGlobalContextEntries: Int

        public init(maximumRounds: Int = 4, maximumReadsPerRequest: Int = 32, maximumConcurrentReads: Int = 8,
                    maximumResponseSize: Int = 4 << 20, maximumGlobalContextEntries: Int = 64) {
            self.maximumRounds = max(1, min(maximumRounds, 16))
            self.maximumReadsPerRequest = max(1, maximumReadsPerRequest)
            self.maximumConcurrentReads = max(1, maximumConcurrentReads)
            self.maximumResponseSize = max(1024, maximumResponseSize)
            self.maximumGlobalContextEntries = max(0, maximumGlobalContextEntries)
        }
    }

    public let client: KubernetesClient
    public let ttl: Duration
    public let limits: Limits
    /// An answer with the size of the response it came from.
    struct Sized: Sendable {
        var answer: ClusterAnswer
        var bytes: Int
    }
    let cache: ExpiringCache<ClusterQuery, Sized>
    /// Answers larger than this are used by their request but not kept: the cache holds at most
    /// `capacity` × this many bytes of answers.
    public static let maximumCachedAnswerSize = 256 << 10

    public init(client: KubernetesClient, ttl: Duration = .seconds(30), capacity: Int = 2_000, limits: Limits = Limits()) {
        self.client = client
        self.ttl = ttl
        self.limits = limits
        self.cache = ExpiringCache(ttl: ttl, capacity: capacity, isCacheable: { $0.answer.isCacheable && $0.bytes <= Self.maximumCachedAnswerSize })
    }

    /// Where Kyverno serves GlobalContextEntries (cluster-scoped), newest version first.
    static let globalContextEntryPaths = ["/apis/kyverno.io/v2beta1/globalcontextentries", "/apis/kyverno.io/v2alpha1/globalcontextentries"]

    /// Answers `queries` (deduplicated; at most `limits.maximumConcurrentReads` at once, each
    /// bounded by `deadline`). Every query gets an answer; nothing throws.
    public func read(_ queries: [ClusterQuery], deadline: ContinuousClock.Instant) async -> [ClusterQuery: ClusterAnswer] {
        await concurrentAnswers(queries, width: limits.maximumConcurrentReads) { await self.answer($0, deadline: deadline) }
    }

    /// The fresh cached answer to `query`, without waiting or reading (POSTs are never cached).
    public func cachedAnswer(_ query: ClusterQuery) -> ClusterAnswer? {
        if case .post = query { return nil }
        return cache.cachedValue(for: query)?.answer
    }

    /// One query: from the cache, or read (POSTs other than reviews are never cached).
    func answer(_ query: ClusterQuery, deadline: ContinuousClock.Instant) async -> ClusterAnswer {
        do {
            return try await withDeadline(deadline, what: "reading \(query) from the kubernetes api") {
                if case .post = query { return await self.fetch(query, deadline: deadline).answer }
                return try await self.cache.value(for: query) { await self.fetch(query, deadline: deadline) }.0.answer
            }
        } catch let error as SignetAdmissionError {
            return .failed(error.message)
        } catch {
            return .failed("\(query) failed: \(error)")
        }
    }

    /// Reads one query from the API server; failures become `.failed` with the server's reason.
    func fetch(_ query: ClusterQuery, deadline: ContinuousClock.Instant) async -> Sized {
        do {
            switch query {
            case .get(let path), .post(let path, _):
                let body: JSONValue? = if case .post(_, let b) = query { b } else { nil }
                let (v, bytes) = try await client.send(body == nil ? .GET : .POST, path, body: body, maxResponseSize: limits.maximumResponseSize)
                return Sized(answer: v.map(ClusterAnswer.found) ?? .notFound, bytes: bytes)
            case .access(let request):
                let (review, bytes) = try await client.send(.POST, "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                                            body: Self.subjectAccessReview(request), maxResponseSize: 64 << 10)
                guard let review else { return Sized(answer: .failed("the subjectaccessreviews api was not found"), bytes: bytes) }
                return Sized(answer: .decision(Self.decision(review)), bytes: bytes)
            case .globalContextEntries:
                // Kyverno keeps every entry's data in memory (informers, polled API calls): so does this, for `ttl`
                return Sized(answer: .globalContext(try await globalContextEntries(deadline: deadline)), bytes: 0)
            }
        } catch let error as SignetAdmissionError {
            return Sized(answer: .failed(error.description), bytes: 0)
        } catch {
            return Sized(answer: .failed("\(query) failed: \(error)"), bytes: 0)
        }
    }

    /// A list answer's items with `apiVersion` and `kind` (the API server omits them in typed
    /// lists; Kyverno's dynamic client sets them for `resource.List` and global context entries,
    /// so policies read `item.kind`; `apiCall` answers stay raw, as Kyverno's raw REST call).
    static func withItemKinds(_ value: JSONValue) -> JSONValue {
        guard case .object(var o) = value, let listKind = o["kind"]?.stringValue, listKind.hasSuffix("List"),
              let items = o["items"]?.arrayValue else { return value }
        let apiVersion = o["apiVersion"] ?? .null
        let kind = JSONValue.string(String(listKind.dropLast(4)))
        o["items"] = .array(items.map { item in
            guard case .object(var i) = item else { return item }
            if i["apiVersion"] == nil { i["apiVersion"] = apiVersion }
            if i["kind"] == nil { i["kind"] = kind }
            return .object(i)
        })
        return .object(o)
    }

    /// The SubjectAccessReview for one `authorizer` check (authorization.k8s.io/v1).
    static func subjectAccessReview(_ r: KubernetesAuthorizationRequest) -> JSONValue {
        var spec: [String: JSONValue] = ["user": .string(r.user), "groups": .array(r.groups.map(JSONValue.string))]
        if let path = r.path {
            spec["nonResourceAttributes"] = ["path": .string(path), "verb": .string(r.verb)]
        } else {
            var attributes: [String: JSONValue] = ["verb": .string(r.verb), "group": .string(r.group), "resource": .string(r.resource)]
            if !r.subresource.isEmpty { attributes["subresource"] = .string(r.subresource) }
            if !r.namespace.isEmpty { attributes["namespace"] = .string(r.namespace) }
            if !r.name.isEmpty { attributes["name"] = .string(r.name) }
            spec["resourceAttributes"] = .object(attributes)
        }
        return ["apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": .object(spec)]
    }

    /// A review's status as the authorizer library's decision: `allowed` → allow, `denied` →
    /// deny, neither → no opinion; an `evaluationError` without an allow is the decision's error.
    static func decision(_ review: JSONValue) -> KubernetesAuthorizationDecision {
        let status = review["status"]
        let allowed = status?["allowed"]?.boolValue == true
        let denied = status?["denied"]?.boolValue == true
        let reason = String((status?["reason"]?.stringValue ?? "").prefix(1000))
        let error = status?["evaluationError"]?.stringValue.flatMap { $0.isEmpty || allowed ? nil : String($0.prefix(1000)) }
        return KubernetesAuthorizationDecision(allowed ? .allow : denied ? .deny : .noOpinion, reason: reason, error: error)
    }

    /// Every GlobalContextEntry with its data, read now (the controller keeps the result `ttl`).
    func globalContextEntries(deadline: ContinuousClock.Instant) async throws -> [String: GlobalContextData] {
        var list: JSONValue?
        for path in Self.globalContextEntryPaths {
            list = try await client.get(path, maxResponseSize: limits.maximumResponseSize)
            if list != nil { break }
        }
        let items = (list?["items"]?.arrayValue ?? []).prefix(limits.maximumGlobalContextEntries)
        var entries: [(String, JSONValue)] = []
        for item in items {
            guard let name = item["metadata"]?["name"]?.stringValue, !name.isEmpty else { continue }
            entries.append((name, item["spec"] ?? .null))
        }
        // The data reads, with the request's fan-out bound.
        var reads: [String: ClusterQuery] = [:]
        var out: [String: GlobalContextData] = [:]
        for (name, spec) in entries {
            switch Self.dataQuery(spec) {
            case .success(let q): reads[name] = q
            case .failure(let f): out[name] = GlobalContextData(data: .failure(f))
            }
        }
        let answers = await read(Array(Set(reads.values)), deadline: deadline)
        for (name, spec) in entries {
            guard let q = reads[name] else { continue }
            let data: Result<JSONValue, GlobalContextFailure>
            switch answers[q] ?? .failed("not read") {
            case .found(let v):
                data = .success(spec["kubernetesResource"] != nil ? (Self.withItemKinds(v)["items"] ?? .array([])) : v)
            case .notFound: data = .failure(GlobalContextFailure("\(q): not found"))
            case .failed(let m): data = .failure(GlobalContextFailure(m))
            default: data = .failure(GlobalContextFailure("unexpected answer to \(q)"))
            }
            out[name] = Self.project(data, spec: spec)
        }
        return out
    }

    /// What a GlobalContextEntry's data is read from: `kubernetesResource` (a list) or an
    /// `apiCall` `urlPath` (GET or POST); `service` calls are not made by `serve`.
    static func dataQuery(_ spec: JSONValue) -> Result<ClusterQuery, GlobalContextFailure> {
        if let k = spec["kubernetesResource"] {
            let group = k["group"]?.stringValue ?? "", version = k["version"]?.stringValue ?? ""
            guard let path = KubernetesAPIPaths.listPath(apiVersion: group.isEmpty ? version : "\(group)/\(version)",
                                                         resource: k["resource"]?.stringValue ?? "", namespace: k["namespace"]?.stringValue ?? "") else {
                return .failure(GlobalContextFailure("invalid kubernetesResource in the global context entry"))
            }
            return .success(.get(path: path))
        }
        if let call = spec["apiCall"] {
            if call["service"] != nil, call["urlPath"] == nil {
                return .failure(GlobalContextFailure("apiCall service calls of global context entries are not supported by signet serve"))
            }
            guard let u = call["urlPath"]?.stringValue, let path = KubernetesAPIPaths.validatedURLPath(u) else {
                return .failure(GlobalContextFailure("invalid apiCall urlPath in the global context entry"))
            }
            if call["method"]?.stringValue?.uppercased() == "POST" {
                var body: [String: JSONValue] = [:]
                for kv in (call["data"]?.arrayValue ?? []).prefix(256) { if let k = kv["key"]?.stringValue { body[k] = kv["value"] ?? .null } }
                return .success(.post(path: path, body: .object(body)))
            }
            return .success(.get(path: path))
        }
        return .failure(GlobalContextFailure("the global context entry has neither kubernetesResource nor apiCall"))
    }

    /// The entry's projections (`spec.projections[].jmesPath` on the data), as Kyverno computes
    /// them when the data is refreshed; a projection that fails makes the entry fail.
    static func project(_ data: Result<JSONValue, GlobalContextFailure>, spec: JSONValue) -> GlobalContextData {
        guard case .success(let value) = data else { return GlobalContextData(data: data) }
        var projections: [String: JSONValue] = [:]
        for p in (spec["projections"]?.arrayValue ?? []).prefix(64) {
            guard let name = p["name"]?.stringValue, let path = p["jmesPath"]?.stringValue else { continue }
            do {
                projections[name] = try JMESPathExpression(compiling: path, options: Variables.options).evaluate(value)
            } catch {
                return GlobalContextData(data: .failure(GlobalContextFailure("failed to evaluate projection \(name): \(error)")))
            }
        }
        return GlobalContextData(data: data, projections: projections)
    }
}

/// Answers each distinct key of `keys` with `answer`, at most `width` at once (the fan-out bound
/// of one admission request's cluster reads and CEL `http` calls). Every key gets an answer.
func concurrentAnswers<Key: Hashable & Sendable, Answer: Sendable>(
    _ keys: [Key], width: Int, _ answer: @escaping @Sendable (Key) async -> Answer) async -> [Key: Answer] {
    var seen = Set<Key>()
    var pending = keys.filter { seen.insert($0).inserted }.makeIterator()
    var out: [Key: Answer] = [:]
    await withTaskGroup(of: (Key, Answer).self) { group in
        func start() {
            guard let key = pending.next() else { return }
            group.addTask { (key, await answer(key)) }
        }
        for _ in 0..<max(1, width) { start() }
        while let (key, value) = await group.next() {
            out[key] = value
            start()
        }
    }
    return out
}
