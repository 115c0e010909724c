import Foundation
import Testing
import SignetPolicy
import SignetPrimitives
@testable import SignetAdmission

/// A ValidatingPolicy and a ClusterPolicy side by side on one webhook, over real HTTPS.
@Suite struct ValidatingPolicyWebhookTests {
    static let vpol = """
        apiVersion: policies.kyverno.io/v1
        kind: ValidatingPolicy
        metadata:
          name: require-team-cel
        spec:
          validationActions: [Deny]
          matchConstraints:
            resourceRules:
              - apiGroups: [""]
                apiVersions: ["v1"]
                operations: ["CREATE", "UPDATE"]
                resources: ["pods"]
          validations:
            - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
              message: "label team is required (CEL)"
          auditAnnotations:
            - key: team
              valueExpression: "object.metadata.?labels.?team.orValue('none')"
        """

    static let auditVpol = """
        apiVersion: policies.kyverno.io/v1
        kind: ValidatingPolicy
        metadata:
          name: no-latest-cel
        spec:
          validationActions: [Audit]
          matchConstraints:
            resourceRules:
              - apiGroups: [""]
                apiVersions: ["v1"]
                operations: ["CREATE", "UPDATE"]
                resources: ["pods"]
          validations:
            - expression: "object.spec.containers.all(c, !c.image.endsWith(':latest'))"
              message: "latest tag is discouraged"
          auditAnnotations:
            - key: first-image
              valueExpression: "object.spec.containers[0].image"
        """

    static let warnVpol = """
        apiVersion: policies.kyverno.io/v1
        kind: ValidatingPolicy
        metadata:
          name: warn-no-owner-cel
        spec:
          validationActions: [Warn]
          matchConstraints:
            resourceRules:
              - apiGroups: [""]
                apiVersions: ["v1"]
                operations: ["CREATE"]
                resources: ["pods"]
          validations:
            - expression: "'owner' in object.metadata.?labels.orValue({})"
              messageExpression: "'pod ' + object.metadata.name + ' has no owner label'"
        """

    /// An Enforce ClusterPolicy that blocks the same request the Deny ValidatingPolicy blocks.
    static let enforceClusterPolicy = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: require-app-label
        spec:
          validationFailureAction: Enforce
          rules:
            - name: check-app
              match:
                any:
                  - resources:
                      kinds: [Pod]
              validate:
                message: "label app is required"
                pattern:
                  metadata:
                    labels:
                      app: "?*"
        """

    /// Reviews `request`, expects a denial (HTTP 200, `allowed: false`) whose message contains
    /// every string of `naming`, and returns the denial's warnings.
    @discardableResult
    static func expectDenied(_ h: ControllerHarness, _ request: AdmissionRequestBuilder, naming: [String],
                             sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String] {
        let denied = try await h.hook.review("/validate", request)
        #expect(denied.status == 200, sourceLocation: sourceLocation)
        #expect(denied.response?["allowed"] == false, sourceLocation: sourceLocation)
        let message = denied.response?["status"]?["message"]?.stringValue ?? ""
        for text in naming {
            #expect(message.contains(text), "denial message lacks \(text): \(message)", sourceLocation: sourceLocation)
        }
        return denied.response?["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// Both kinds decide on one request: the denial names the blocking rules of both, Audit/Warn
    /// results of both come back as warnings, audit annotations as `<policy>/<key>`, and the
    /// report entries carry the annotations as properties (Kyverno's RuleResponse properties).
    @Test func bothKindsDecideOnTheSameRequest() async throws {
        let h = try await ControllerHarness.start([Self.vpol, Self.auditVpol, Self.warnVpol, Self.enforceClusterPolicy, TestPolicies.requireTeamLabel])
        defer { Task { await h.stop() } }

        var bad = AdmissionRequestBuilder()
        bad.name = "both-deny"
        let deniedWarnings = try await Self.expectDenied(h, bad, naming: ["require-team-cel", "label team is required (CEL)",
                                                                          "require-app-label", "label app is required"])
        // the Audit ClusterPolicy and the Warn ValidatingPolicy warn on the denied request too
        #expect(deniedWarnings.contains { $0.contains("require-team") && $0.contains("check-team") })
        #expect(deniedWarnings.contains { $0.contains("pod both-deny has no owner label") })

        var good = AdmissionRequestBuilder()
        good.name = "annotated"
        good.labels = ["team": "a", "app": "web"]
        good.images = ["nginx:latest"]
        let allowed = try await h.hook.review("/validate", good)
        #expect(allowed.response?["allowed"] == true)
        let annotations = allowed.response?["auditAnnotations"]?.objectValue ?? [:]
        #expect(annotations["require-team-cel/team"] == "a")
        #expect(annotations["no-latest-cel/first-image"] == "nginx:latest")
        let warnings = allowed.response?["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(warnings.contains { $0.contains("latest tag is discouraged") })
        #expect(warnings.contains { $0.contains("pod annotated has no owner label") })

        // the Audit failure is reported with its audit annotation as a property
        let items = h.violations.reports(namespace: "default")["items"]?.arrayValue ?? []
        let results = items.flatMap { $0["results"]?.arrayValue ?? [] }
        let audit = results.first { $0["policy"]?.stringValue == "no-latest-cel" && $0["resources"]?.arrayValue?.first?["name"]?.stringValue == "annotated" }
        #expect(audit?["result"] == "fail")
        #expect(audit?["properties"]?["first-image"] == "nginx:latest")
        #expect(audit?["properties"]?["action"] == "Audit")
        #expect(results.contains { $0["policy"]?.stringValue == "warn-no-owner-cel" && $0["result"] == "warn" })
        await h.stop()
    }

    @Test func validatingPolicyDeniesBesideClusterPolicy() async throws {
        let h = try await ControllerHarness.start([Self.vpol, Self.auditVpol, TestPolicies.requireTeamLabel])
        defer { Task { await h.stop() } }
        var bad = AdmissionRequestBuilder()
        bad.name = "no-team"
        try await Self.expectDenied(h, bad, naming: ["require-team-cel", "label team is required (CEL)"])

        var good = AdmissionRequestBuilder()
        good.labels = ["team": "a"]
        good.images = ["nginx:latest"]
        let allowed = try await h.hook.review("/validate", good)
        #expect(allowed.response?["allowed"] == true)
        // the Audit ValidatingPolicy failure comes back as a warning
        let warnings = allowed.response?["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(warnings.contains { $0.contains("latest tag is discouraged") })
        await h.stop()
    }
}
