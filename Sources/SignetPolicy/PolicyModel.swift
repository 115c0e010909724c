import SignetPrimitives

/// `Enforce` blocks a failing request; `Audit` only reports it.
public enum FailureAction: String, Sendable, Hashable {
    case enforce = "Enforce"
    case audit = "Audit"

    /// Accepts `Enforce`/`Audit` case-insensitively, as Kyverno does (`enforce`, `audit`).
    public init?(parsing s: String) {
        switch s.lowercased() {
        case "enforce": self = .enforce
        case "audit": self = .audit
        default: return nil
        }
    }
}

/// `validationFailureActionOverrides` / `failureActionOverrides` entry.
public struct FailureActionOverride: Sendable, Hashable {
    public var action: FailureAction
    public var namespaces: [String]
    public var namespaceSelector: LabelSelector?
}

/// A Kubernetes label selector (`matchLabels` AND `matchExpressions`).
public struct LabelSelector: Sendable, Hashable {
    public struct Requirement: Sendable, Hashable {
        public enum Operator: String, Sendable { case `in` = "In", notIn = "NotIn", exists = "Exists", doesNotExist = "DoesNotExist" }
        public var key: String
        public var op: Operator
        public var values: [String]
    }
    public var matchLabels: [String: String]
    public var matchExpressions: [Requirement]

    /// Whether `labels` satisfy the selector. Wildcards in `matchLabels` keys/values are replaced by
    /// the first matching label as Kyverno does (`wildcards.ReplaceInSelector`).
    public func matches(_ labels: [String: String]) -> Bool {
        for (k, v) in matchLabels {
            if Wildcard.containsWildcard(k) || Wildcard.containsWildcard(v) {
                var found = false
                for lk in labels.keys.sorted() where Wildcard.match(k, lk) && Wildcard.match(v, labels[lk]!) { found = true; break }
                if !found { return false }
            } else if labels[k] != v {
                return false
            }
        }
        for r in matchExpressions {
            switch r.op {
            case .in: guard let v = labels[r.key], r.values.contains(v) else { return false }
            case .notIn: if let v = labels[r.key], r.values.contains(v) { return false }
            case .exists: if labels[r.key] == nil { return false }
            case .doesNotExist: if labels[r.key] != nil { return false }
            }
        }
        return true
    }
}

/// An RBAC subject in `match`/`exclude`.
public struct Subject: Sendable, Hashable {
    public var kind: String
    public var name: String
    public var namespace: String
}

/// A kind selector: `Pod`, `v1/Pod`, `apps/v1/Deployment`, `Deployment/scale`, wildcards.
public struct KindSelector: Sendable, Hashable {
    public let raw: String
    public let group: String
    public let version: String
    public let kind: String
    public let subresource: String

    public init(_ raw: String) {
        self.raw = raw
        var parts = raw.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if let last = parts.popLast() { parts += last.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }
        switch parts.count {
        case 1: (group, version, kind, subresource) = ("*", "*", parts[0], "")
        case 2:
            if parts[0] == "*" && parts[1] == "*" { (group, version, kind, subresource) = ("*", "*", "*", "*") }
            else if parts[0] == "*" && parts[1].lowercased() == parts[1] { (group, version, kind, subresource) = ("*", "*", "*", parts[1]) }
            else if KindSelector.isVersionString(parts[0]) { (group, version, kind, subresource) = ("*", parts[0], parts[1], "") }
            else { (group, version, kind, subresource) = ("*", "*", parts[0], parts[1]) }
        case 3:
            if KindSelector.isVersionString(parts[0]) { (group, version, kind, subresource) = ("*", parts[0], parts[1], parts[2]) }
            else { (group, version, kind, subresource) = (parts[0], parts[1], parts[2], "") }
        case 4: (group, version, kind, subresource) = (parts[0], parts[1], parts[2], parts[3])
        default: (group, version, kind, subresource) = ("", "", "", "")
        }
    }

    /// The bare kind (Kyverno `GetKindFromGVK` + `SplitSubresource`), e.g. `Pod` for `v1/Pod`.
    public var bareKind: String { kind }

    /// Kyverno `CheckKind` for one selector.
    func matches(group g: String, version v: String, kind k: String, subresource sub: String, allowEphemeral: Bool) -> Bool {
        guard Wildcard.match(group, g), Wildcard.match(version, v), Wildcard.match(kind, k) else { return false }
        if Wildcard.match(subresource, sub) { return true }
        return allowEphemeral && g == "" && v == "v1" && k == "Pod" && sub == "ephemeralcontainers"
    }
}

/// `ResourceDescription`: AND across fields, OR within a list.
public struct ResourceDescription: Sendable, Hashable {
    public var kinds: [KindSelector] = []
    public var name: String?
    public var names: [String] = []
    public var namespaces: [String] = []
    public var annotations: [String: String] = [:]
    public var selector: LabelSelector?
    public var namespaceSelector: LabelSelector?
    public var operations: [String] = []

    public var isEmpty: Bool {
        kinds.isEmpty && name == nil && names.isEmpty && namespaces.isEmpty && annotations.isEmpty && selector == nil && namespaceSelector == nil && operations.isEmpty
    }
}

/// `UserInfo` in a filter: roles, clusterRoles, subjects.
public struct UserInfoFilter: Sendable, Hashable {
    public var roles: [String] = []
    public var clusterRoles: [String] = []
    public var subjects: [Subject] = []
    public var isEmpty: Bool { roles.isEmpty && clusterRoles.isEmpty && subjects.isEmpty }
}

/// One `resources` + user-info filter (an element of `any`/`all`, or the legacy inline form).
public struct ResourceFilter: Sendable, Hashable {
    public var resources = ResourceDescription()
    public var userInfo = UserInfoFilter()
    public var isEmpty: Bool { resources.isEmpty && userInfo.isEmpty }
}

/// `match` / `exclude`: `any` (OR), `all` (AND), or the legacy single filter.
public struct MatchResources: Sendable, Hashable {
    public var any: [ResourceFilter] = []
    public var all: [ResourceFilter] = []
    public var legacy = ResourceFilter()
    public var isEmpty: Bool { any.isEmpty && all.isEmpty && legacy.isEmpty }

    /// Every kind named anywhere in the block (Kyverno `GetKinds`).
    public var allKinds: [KindSelector] {
        legacy.resources.kinds + any.flatMap(\.resources.kinds) + all.flatMap(\.resources.kinds)
    }
}

/// A `validate` block (pattern / anyPattern).
public struct Validation: Sendable {
    public var message: String?
    public var pattern: Pattern?
    public var anyPattern: [Pattern]?
    public var failureAction: FailureAction?
    public var failureActionOverrides: [FailureActionOverride] = []
    public var allowExistingViolations: Bool = true
    /// `validate.cel`: CEL expressions, variables, audit annotations and params (compiled at load).
    public var cel: CELRuleValidation?
    /// `deny` (nil when the rule has none); a deny without conditions always denies.
    public var deny: ConditionBlock?
    /// `foreach` entries (validate), see ForEach.swift.
    public var foreach: [ForEachValidation]?
    /// `podSecurity`: Pod Security Standards level, version and exclusions (PodSecurity*.swift).
    public var podSecurity: PodSecurityRule?
}

/// Key material of one attestor entry (`keys`).
public struct StaticKeyAttestor: Sendable, Hashable {
    /// One PEM public key (a multi-PEM `publicKeys` is split into one entry per key).
    public var publicKey: String?
    /// `secret: {name, namespace}` (resolved by the caller into `publicKey`).
    public var secretName: String?
    public var secretNamespace: String?
    /// `kms` URI, e.g. `hashivault://cosign`.
    public var kms: String?
    public var signatureAlgorithm: String = "sha256"
    /// `rekor.ignoreTlog` (default false: Kyverno then consults the public Rekor log).
    public var ignoreTlog: Bool = false
    public var rekorURL: String?
    /// `ctlog.ignoreSCT` (default false).
    public var ignoreSCT: Bool = false
}

/// One entry of an attestor set.
public struct AttestorEntry: Sendable, Hashable {
    public var keys: StaticKeyAttestor?
    /// `certificates`, `keyless` or a nested `attestor`: not supported (rule reports an error).
    public var unsupportedKind: String?
    public var repository: String?
    public var annotations: [String: String] = [:]
}

/// `attestors[]`: `count` (nil = all entries) and entries.
public struct AttestorSet: Sendable, Hashable {
    public var count: Int?
    public var entries: [AttestorEntry]
    /// Kyverno `RequiredCount`: `count` when set and > 0, else every entry.
    public var requiredCount: Int { if let count, count > 0 { return count }; return entries.count }
}

/// A `verifyImages` entry.
public struct ImageVerification: Sendable, Hashable {
    public var imageReferences: [String] = []
    public var skipImageReferences: [String] = []
    public var attestors: [AttestorSet] = []
    /// `attestations`: in-toto attestations the image must carry (see `ImageAttestation`).
    public var attestations: [ImageAttestation] = []
    public var repository: String?
    /// `imageRegistryCredentials.secrets` (in signet's own namespace).
    public var registrySecrets: [RegistrySecretReference] = []
    public var annotations: [String: String] = [:]
    public var required: Bool = true
    public var verifyDigest: Bool = true
    public var mutateDigest: Bool = true
    public var useCache: Bool = true
    public var failureAction: FailureAction?
    public var type: String = "Cosign"
}

/// A rule of a policy.
public struct Rule: Sendable {
    public var name: String
    public var match: MatchResources
    public var exclude: MatchResources?
    public var validate: Validation?
    public var verifyImages: [ImageVerification] = []
    /// `imageExtractors`: custom image extractors by kind for verifyImages (ImageExtractors.swift);
    /// nil when absent (the standard extractors apply).
    public var imageExtractors: [String: [ImageExtractorConfig]]?
    /// Why this rule cannot be evaluated faithfully (JMESPath variables, preconditions, mutate...):
    /// evaluating it yields an `error` result with this reason, never a pass or fail.
    public var unsupported: [String] = []
    /// Set on rules made by autogen (`autogen-…`, `autogen-cronjob-…`).
    public var isAutogen = false
    /// `celPreconditions`: all must hold, else the rule is skipped (compiled at load).
    public var celPreconditions: CELPreconditions?
    /// `preconditions` (JMESPath conditions), nil when absent.
    public var preconditions: ConditionBlock?
    /// `context` entries, in order.
    public var context: [ContextEntry] = []
    /// True when evaluating the rule needs the variable context (`{{ }}` anywhere in the
    /// validate block, preconditions, deny, foreach or context).
    public var usesVariables = false
    /// The raw `verifyImages` list when it holds `{{ }}` variables outside attestation
    /// conditions: substituted and parsed again per request (`PolicyEngine.substitutedVerifyImages`).
    public var verifyImagesSource: JSONValue?

    public var hasValidate: Bool { validate != nil }
    public var hasVerifyImages: Bool { !verifyImages.isEmpty }
}

/// `kyverno.io/v1` ClusterPolicy or Policy, with Kyverno's defaults applied and autogen rules computed.
public struct ClusterPolicy: Sendable {
    /// `ClusterPolicy` or `Policy`.
    public var kind: String
    public var name: String
    /// Set for a namespaced `Policy`.
    public var namespace: String?
    public var annotations: [String: String]
    /// `spec.validationFailureAction` (default Audit).
    public var validationFailureAction: FailureAction
    public var validationFailureActionOverrides: [FailureActionOverride]
    public var background: Bool
    public var admission: Bool
    /// `failurePolicy`: `Fail` (default) or `Ignore`.
    public var failurePolicy: FailurePolicy
    /// 1...30, default 10.
    public var webhookTimeoutSeconds: Int
    /// `applyRules`: every matching rule (`All`, the default) or only the first (`One`).
    public var applyRules: ApplyRules
    public var emitWarning: Bool
    /// The rules as written.
    public var rules: [Rule]
    /// The rules evaluated: the written ones plus autogen rules.
    public var effectiveRules: [Rule]
    /// Findings while loading (warnings for unimplemented fields, errors for invalid ones).
    public var diagnostics: [Diagnostic]
    /// Where it was loaded from, for messages.
    public var sourcePath: String?

    /// True when loading found an error (an invalid policy): the engine does not evaluate it.
    public var isInvalid: Bool { diagnostics.contains { $0.severity == .error } }
}

/// What an error (a rule that could not be evaluated, a verification that could not run) does to
/// the request: Kubernetes' and Kyverno's `failurePolicy`.
public enum FailurePolicy: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Errors deny the request (the default).
    case fail = "Fail"
    /// Errors allow the request, with a warning.
    case ignore = "Ignore"

    public var description: String { rawValue }
}

/// `spec.applyRules` of a ClusterPolicy: evaluate every matching rule, or stop after the first one
/// that applies (Kyverno `ApplyRulesType`).
public enum ApplyRules: String, Sendable, Hashable, CaseIterable {
    case all = "All"
    case one = "One"
}
