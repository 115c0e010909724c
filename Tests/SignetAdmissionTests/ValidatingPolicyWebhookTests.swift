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
        """

    @Test func validatingPolicyDeniesBesideClusterPolicy() async throws {
        let h = try await ControllerHarness.start([Self.vpol, Self.auditVpol, TestPolicies.requireTeamLabel])
        defer { Task { await h.stop() } }
        var bad = AdmissionRequestBuilder()
        bad.name = "no-team"
        let denied = try await h.hook.review("/validate", bad)
        #expect(denied.status == 200)
        #expect(denied.response?["allowed"] == false)
        let message = denied.response?["status"]?["message"]?.stringValue ?? ""
        #expect(message.contains("require-team-cel"))
        #expect(message.contains("label team is required (CEL)"))

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
