/// Status of one rule on one resource (Kyverno's rule statuses).
import SignetPrimitives
public enum RuleStatus: String, Sendable, Hashable {
    case pass, fail, skip, error, warn
}

/// What produced a rule result.
public enum RuleType: String, Sendable, Hashable {
    case validation = "Validation"
    case imageVerify = "ImageVerify"
}

/// An RFC 6902 JSON patch operation (only what `mutateDigest` needs).
public struct JSONPatchOperation: Sendable, Hashable {
    public var op: String
    public var path: String
    public var value: JSONValue

    public init(op: String, path: String, value: JSONValue) {
        self.op = op
        self.path = path
        self.value = value
    }

    /// `{"op":…,"path":…,"value":…}`.
    public var json: JSONValue { ["op": .string(op), "path": .string(path), "value": value] }

    /// A JSON array of operations, as AdmissionReview `patch` expects (before base64).
    public static func document(_ ops: [JSONPatchOperation]) -> String {
        "[" + ops.map { o in
            "{\"op\":" + JSONValue.string(o.op).jsonString + ",\"path\":" + JSONValue.string(o.path).jsonString
                + ",\"value\":" + o.value.jsonString + "}"
        }.joined(separator: ",") + "]"
    }
}

/// One rule's outcome on one resource.
public struct RuleResult: Sendable, Hashable {
    public var rule: String
    public var type: RuleType
    public var status: RuleStatus
    public var message: String
    /// For pattern failures, the failing path (`/spec/containers/0/image/`).
    public var path: String?
    /// The action that applies to this rule for this resource (overrides resolved).
    public var failureAction: FailureAction
    /// Digest patches produced by this result (`mutateDigest`).
    public var patches: [JSONPatchOperation] = []
    /// For `skip` via a PolicyException: the exceptions' `namespace/name`.
    public var exceptions: [String] = []
    /// Audit annotations produced by CEL policies (`auditAnnotations`), key → value.
    public var auditAnnotations: [String: String] = [:]

    /// True when this result blocks admission: a failure under Enforce.
    public var isEnforcedFailure: Bool { status == .fail && failureAction == .enforce }
}

/// All rule results of one policy on one resource. `rules` is empty when no rule matched.
public struct PolicyResult: Sendable {
    /// Kyverno `BlockRequest` for one rule result: an Enforce failure, or an error under
    /// failurePolicy Fail. The one definition every command and the webhook use.
    public func blocks(_ rule: RuleResult) -> Bool {
        rule.isEnforcedFailure || (rule.status == .error && failurePolicy == .fail)
    }

    public var policy: String
    public var policyNamespace: String?
    public var kind: String
    public var failurePolicy: FailurePolicy
    public var rules: [RuleResult]
    /// Set when the policy was not evaluated at all (invalid).
    public var invalidReason: String?
}

/// The engine's answer for one resource.
public struct EngineResponse: Sendable {
    public var resource: ResourceInfo
    public var policies: [PolicyResult]

    public init(resource: ResourceInfo, policies: [PolicyResult]) {
        self.resource = resource
        self.policies = policies
    }

    /// Every `mutateDigest` patch, in order.
    public var patches: [JSONPatchOperation] { policies.flatMap { $0.rules.flatMap(\.patches) } }

    /// Kyverno `BlockRequest`: an Enforce failure, or any error in a policy whose failurePolicy is Fail.
    public var blocked: Bool {
        policies.contains { p in
            p.rules.contains { p.blocks($0) }
        }
    }

    /// The admission deny message (FORMATS.md section 4), or "" when nothing failed.
    public var blockMessage: String { BlockMessage.format(self) }

    /// Messages for failures that do not block (Audit), for admission `warnings`.
    public var warnings: [String] {
        policies.flatMap { p in
            p.rules.filter { ($0.status == .fail && $0.failureAction == .audit) || $0.status == .warn }.map { "policy \(p.policy).\($0.rule): \($0.message)" }
        }
    }
}
