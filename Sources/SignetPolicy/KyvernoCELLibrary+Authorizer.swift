import SignetCEL
import SignetPrimitives

/// One authorization question of the Kubernetes CEL `authorizer` library
/// (k8s.io/apiserver `pkg/cel/library/authz.go`): a resource request (`group`, `resource`,
/// `subresource`, `namespace`, `name`, `verb`) or a non-resource request (`path`, `verb`), asked
/// for `user`.
public struct KubernetesAuthorizationRequest: Sendable, Hashable {
    /// The user the question is asked for (the requesting user, or `system:serviceaccount:NS:NAME`).
    public var user: String
    /// The user's groups.
    public var groups: [String]
    /// The non-resource URL path (`authorizer.path(p)`); nil for a resource request.
    public var path: String?
    public var group: String
    public var resource: String
    public var subresource: String
    public var namespace: String
    public var name: String
    public var verb: String

    public init(user: String, groups: [String] = [], path: String? = nil, group: String = "", resource: String = "",
                subresource: String = "", namespace: String = "", name: String = "", verb: String) {
        self.user = user
        self.groups = groups
        self.path = path
        self.group = group
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
        self.verb = verb
    }
}

/// An authorizer's answer (Kubernetes `authorizer.Decision` with its reason and error).
public struct KubernetesAuthorizationDecision: Sendable, Hashable {
    /// Kubernetes' three decisions.
    public enum Kind: Sendable, Hashable { case allow, deny, noOpinion }
    public var kind: Kind
    public var reason: String
    /// Why the question could not be answered (`errored()` is true when set).
    public var error: String?

    public init(_ kind: Kind, reason: String = "", error: String? = nil) {
        self.kind = kind
        self.reason = reason
        self.error = error
    }
}

/// Answers `authorizer` checks. Synchronous: evaluation is pure, so a webhook implementation
/// answers from RBAC data it holds (or has fetched before the evaluation).
public protocol KubernetesAuthorizer: Sendable {
    /// The decision for `request`.
    func authorize(_ request: KubernetesAuthorizationRequest) -> KubernetesAuthorizationDecision
}

/// The authorizer of `signet apply`/`test` without a cluster. Kyverno's CLI runs with a fake
/// client whose discovery knows no resources, so its access check fails before asking anyone:
/// every `check` is a denial that `errored()`; this does the same with an explicit message.
public struct OfflineKubernetesAuthorizer: KubernetesAuthorizer {
    public init() {}
    public func authorize(_ request: KubernetesAuthorizationRequest) -> KubernetesAuthorizationDecision {
        let who = request.user.isEmpty ? "the requesting user" : request.user
        let what = request.path ?? ([request.group, request.resource, request.subresource].filter { !$0.isEmpty }.joined(separator: "/"))
        return KubernetesAuthorizationDecision(.deny, error: "no cluster is configured: cannot check whether \(who) may \(request.verb) \(what)")
    }
}

/// CEL values of the authorizer library: the `authorizer` variable and its builders.
struct KubernetesAuthorizerValue: CELOpaque {
    enum Stage: Sendable {
        case authorizer, path, group, resource
    }
    let authorizer: any KubernetesAuthorizer
    let stage: Stage
    let request: KubernetesAuthorizationRequest

    static func typeName(_ s: Stage) -> String {
        switch s {
        case .authorizer: "kubernetes.authorization.Authorizer"
        case .path: "kubernetes.authorization.PathCheck"
        case .group: "kubernetes.authorization.GroupCheck"
        case .resource: "kubernetes.authorization.ResourceCheck"
        }
    }
    var celType: CELType { .opaque(Self.typeName(stage)) }
    func isEqual(to other: any CELOpaque) -> Bool { false }
    var description: String { Self.typeName(stage) }

    func with(_ stage: Stage, _ change: (inout KubernetesAuthorizationRequest) -> Void) -> CELValue {
        var r = request
        change(&r)
        return .opaque(KubernetesAuthorizerValue(authorizer: authorizer, stage: stage, request: r))
    }
}

/// A decision value (`allowed()`, `reason()`, `errored()`, `error()`).
struct KubernetesDecisionValue: CELOpaque {
    let decision: KubernetesAuthorizationDecision
    var celType: CELType { .opaque("kubernetes.authorization.Decision") }
    func isEqual(to other: any CELOpaque) -> Bool { (other as? KubernetesDecisionValue)?.decision == decision }
    var description: String { "kubernetes.authorization.Decision" }
}

extension KyvernoCELLibrary {
    /// `authorizer` and `authorizer.requestResource` (the resource check of the request itself:
    /// its group, resource, subresource, namespace and name) for a request by `admission`'s user;
    /// both `null` without an authorizer.
    static func authorizerVariables(_ authorizer: (any KubernetesAuthorizer)?, admission: AdmissionInfo, info: ResourceInfo) -> [String: CELValue] {
        guard let authorizer else { return ["authorizer": .null, "authorizer.requestResource": .null] }
        let request = KubernetesAuthorizationRequest(user: admission.username, groups: admission.groups, group: info.group,
                                                     resource: KubernetesResourceNames.plural(of: info.kind), subresource: admission.subresource,
                                                     namespace: info.namespace, name: info.name, verb: "")
        return ["authorizer": authorizerValue(authorizer, admission: admission),
                "authorizer.requestResource": .opaque(KubernetesAuthorizerValue(authorizer: authorizer, stage: .resource, request: request))]
    }

    /// The `authorizer` variable for a request by `admission`'s user (nil authorizer: `null`).
    static func authorizerValue(_ authorizer: (any KubernetesAuthorizer)?, admission: AdmissionInfo) -> CELValue {
        guard let authorizer else { return .null }
        return .opaque(KubernetesAuthorizerValue(authorizer: authorizer, stage: .authorizer,
                                                 request: KubernetesAuthorizationRequest(user: admission.username, groups: admission.groups, verb: "")))
    }

    /// The Kubernetes CEL authorizer library (`authorizer.group(g).resource(r).namespace(ns).check(verb).allowed()`).
    static let authorizerLibrary: CELLibrary = {
        @Sendable func t(_ s: KubernetesAuthorizerValue.Stage) -> CELType { .opaque(KubernetesAuthorizerValue.typeName(s)) }
        let decisionType = CELType.opaque("kubernetes.authorization.Decision")
        @Sendable func builder(_ v: CELValue, _ stage: KubernetesAuthorizerValue.Stage) -> KubernetesAuthorizerValue? {
            guard case .opaque(let o) = v, let a = o as? KubernetesAuthorizerValue, a.stage == stage else { return nil }
            return a
        }
        @Sendable func decision(_ v: CELValue) -> KubernetesAuthorizationDecision? {
            guard case .opaque(let o) = v, let d = o as? KubernetesDecisionValue else { return nil }
            return d.decision
        }
        func setter(_ name: String, from: KubernetesAuthorizerValue.Stage, to: KubernetesAuthorizerValue.Stage,
                    _ set: @escaping @Sendable (inout KubernetesAuthorizationRequest, String) -> Void) -> CELOverload {
            .method("authorizer_\(KubernetesAuthorizerValue.typeName(from))_\(name)", t(from), .string) { r, s in
                guard let a = builder(r, from), let s = s.stringValue else { return .error(.noMatchingOverload, name) }
                return a.with(to) { set(&$0, s) }
            }
        }
        @Sendable func check(_ r: CELValue, _ verb: CELValue, _ stage: KubernetesAuthorizerValue.Stage) -> CELValue {
            guard let a = builder(r, stage), let v = verb.stringValue else { return .error(.noMatchingOverload, "check") }
            var q = a.request
            q.verb = v
            return .opaque(KubernetesDecisionValue(decision: a.authorizer.authorize(q)))
        }
        return CELLibrary(name: "kubernetes.authz", functions: [
            CELFunction("path", setter("path", from: .authorizer, to: .path) { $0.path = $1 }),
            CELFunction("group", setter("group", from: .authorizer, to: .group) { $0.group = $1 }),
            CELFunction("serviceAccount", .method("authorizer_serviceaccount", t(.authorizer), .string, .string) { r, ns, n in
                guard let a = builder(r, .authorizer), let ns = ns.stringValue, let n = n.stringValue else { return .error(.noMatchingOverload, "serviceAccount") }
                // k8s.io/apiserver serviceaccount.MakeUsername / MakeGroupNames
                return a.with(.authorizer) {
                    $0.user = "system:serviceaccount:\(ns):\(n)"
                    $0.groups = ["system:serviceaccounts", "system:serviceaccounts:\(ns)"]
                }
            }),
            CELFunction("resource", setter("resource", from: .group, to: .resource) { $0.resource = $1 }),
            CELFunction("subresource", setter("subresource", from: .resource, to: .resource) { $0.subresource = $1 }),
            CELFunction("namespace", setter("namespace", from: .resource, to: .resource) { $0.namespace = $1 }),
            CELFunction("name", setter("name", from: .resource, to: .resource) { $0.name = $1 }),
            CELFunction("check",
                .method("authorizer_path_check", t(.path), .string) { r, v in check(r, v, .path) },
                .method("authorizer_resource_check", t(.resource), .string) { r, v in check(r, v, .resource) }),
            CELFunction("allowed", .method("authorizer_decision_allowed", decisionType) { d in
                decision(d).map { .bool($0.kind == .allow) } ?? .error(.noMatchingOverload, "allowed")
            }),
            CELFunction("reason", .method("authorizer_decision_reason", decisionType) { d in
                decision(d).map { .string($0.reason) } ?? .error(.noMatchingOverload, "reason")
            }),
            CELFunction("errored", .method("authorizer_decision_errored", decisionType) { d in
                decision(d).map { .bool($0.error != nil) } ?? .error(.noMatchingOverload, "errored")
            }),
            CELFunction("error", .method("authorizer_decision_error", decisionType) { d in
                decision(d).map { .string($0.error ?? "") } ?? .error(.noMatchingOverload, "error")
            }),
        ], variables: [CELVariable("authorizer.requestResource")],
        types: [t(.authorizer), t(.path), t(.group), t(.resource), decisionType])
    }()
}
