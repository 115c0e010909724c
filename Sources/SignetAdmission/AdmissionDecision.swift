import Foundation
import SignetPolicy

/// The decision for one AdmissionReview: a pure function of the request, the webhook phase and
/// the engine's results (which already contain the verification results).
///
/// - `/mutate` looks at verifyImages results only and returns their digest patches.
/// - `/validate` looks at every result: validate rules and verifyImages' second pass (`verifyDigest`,
///   `required`), the latter answered from the digest-keyed verification cache.
/// - Blocked (Kyverno `BlockRequest`): an Enforce failure, or an error in a policy whose
///   failurePolicy is Fail. The message is Kyverno's envelope over the blocking rules.
/// - Otherwise allowed, with warnings for Audit failures, `warn` results and errors under
///   failurePolicy Ignore, within the API server's warning limits.
public struct AdmissionDecision: Sendable {
    public var response: AdmissionResponse
    /// Rules that failed, errored or warned (for the audit log, `/reports` and metrics).
    public var violations: [Violation]
    /// Every rule result: (policy, rule, result), for metrics.
    public var ruleResults: [RuleOutcome]

    public struct RuleOutcome: Sendable, Hashable {
        public var policy: String
        public var rule: String
        public var result: String
    }

    public static func decide(request: AdmissionRequest, phase: AdmissionPhase, engine: EngineResponse,
                              now: Date = Date()) -> AdmissionDecision {
        var considered = engine
        if phase == .mutate {
            considered.policies = engine.policies.map { p in
                var p = p
                p.rules = p.rules.filter { $0.type == .imageVerify }
                return p
            }
        }
        // (Tested first: removing nothing from the shared array would still copy it.)
        if considered.policies.contains(where: { $0.rules.isEmpty }) { considered.policies.removeAll { $0.rules.isEmpty } }

        var outcomes: [RuleOutcome] = []
        var violations: [Violation] = []
        var warnings: [String] = []
        // CEL `auditAnnotations`, keyed as the API server keys a policy's annotations: "<policy>/<key>"
        var auditAnnotations: [String: String] = [:]
        let object = request.object ?? request.oldObject
        // Only violations name the resource: a passing review does not build it.
        lazy var resource = Violation.ResourceRef(
            apiVersion: object?["apiVersion"]?.stringValue ?? request.kind.apiVersion,
            kind: object?["kind"]?.stringValue ?? request.kind.kind,
            namespace: request.namespace ?? engine.resource.namespace,
            name: request.resourceName,
            uid: object?["metadata"]?["uid"]?.stringValue)

        var blocking = considered
        blocking.policies = []
        for p in considered.policies {
            var blockingRules: [RuleResult] = []
            for r in p.rules {
                outcomes.append(RuleOutcome(policy: p.policy, rule: r.rule, result: r.status.rawValue))
                for (key, value) in r.auditAnnotations { auditAnnotations["\(p.policy)/\(key)"] = value }
                let isBlocking = p.blocks(r)
                // The first blocking result of a rule is its cause (a verification failure comes
                // before the "missing digest"/"unverified image" checks it leads to).
                if isBlocking && !blockingRules.contains(where: { $0.rule == r.rule }) { blockingRules.append(r) }
                switch r.status {
                case .fail where r.failureAction == .audit:
                    warnings.append("policy \(p.policy).\(r.rule): \(r.message)")
                case .warn:
                    warnings.append("policy \(p.policy).\(r.rule): \(r.message)")
                case .error where !isBlocking:
                    warnings.append("policy \(p.policy).\(r.rule): \(r.message) (failurePolicy Ignore: allowed)")
                default: break
                }
                if r.status == .fail || r.status == .error || r.status == .warn {
                    let action = r.status == .error ? "failurePolicy \(p.failurePolicy)" : r.failureAction.rawValue
                    var violation = Violation(policy: p.policy, rule: r.rule, result: r.status.rawValue, message: r.message,
                                              action: action, resource: resource, timestamp: now)
                    // Kyverno reports a CEL policy's audit annotations as the result's properties
                    violation.properties = r.auditAnnotations
                    violations.append(violation)
                }
            }
            if !blockingRules.isEmpty {
                var bp = p
                bp.rules = blockingRules
                blocking.policies.append(bp)
            }
        }

        let limited = AdmissionWarnings.limit(warnings)
        let response: AdmissionResponse
        if !blocking.policies.isEmpty {
            response = AdmissionResponse(
                uid: request.uid, allowed: false,
                status: .init(code: 403, message: blocking.blockMessage, reason: "Forbidden", status: "Failure"),
                warnings: limited.isEmpty ? nil : limited)
        } else {
            let patches = phase == .mutate ? considered.patches : []
            response = AdmissionResponse(
                uid: request.uid, allowed: true,
                warnings: limited.isEmpty ? nil : limited,
                patch: patches.isEmpty ? nil : Data(JSONPatchOperation.document(patches).utf8))
        }
        var decided = response
        if !auditAnnotations.isEmpty { decided.auditAnnotations = auditAnnotations }
        return AdmissionDecision(response: decided, violations: violations, ruleResults: outcomes)
    }

    /// A denial that no policy result produced: a limit of the server (too many images).
    /// Applies under any failurePolicy: the request asked for more work than signet will do.
    public static func deny(request: AdmissionRequest, message: String) -> AdmissionDecision {
        AdmissionDecision(response: AdmissionResponse(uid: request.uid, allowed: false,
                                                      status: .init(code: 403, message: message, reason: "Forbidden", status: "Failure")),
                          violations: [], ruleResults: [])
    }
}
