import Foundation
import SignetPolicy
import SignetPrimitives
import Testing
@testable import SignetAdmission

/// `validate.podSecurity` through the webhook: the Pod Security Standards decide admission.
@Suite("podSecurity through the webhook", .serialized)
struct PodSecurityAdmissionTests {
    static let policy = """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata:
      name: psa
    spec:
      rules:
        - name: restricted
          match:
            any:
              - resources:
                  kinds: [Pod]
          validate:
            failureAction: Enforce
            podSecurity:
              level: restricted
              version: latest
              exclude:
                - controlName: Seccomp
                  images: ["nginx*"]
    """

    @Test func restrictedPodsAreDeniedWithTheChecks() async throws {
        let (hook, _) = try await TestWebhook.serving([Self.policy], verifier: nil)
        let denied = try await hook.review("/validate", AdmissionRequestBuilder())
        #expect(denied.response?["allowed"] == false, "\(denied.text)")
        let message = denied.response?["status"]?["message"]?.stringValue ?? ""
        #expect(message.contains("It violates PodSecurity \"restricted:latest\""), "\(message)")
        #expect(message.contains("runAsNonRoot != true"), "\(message)")
        #expect(!message.contains("seccompProfile"), "\(message)")
        await hook.stop()
    }
}
