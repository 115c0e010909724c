import Foundation
import SignetOCI
import SignetPolicy
import SignetPrimitives
import SignetVerification
import Testing
@testable import SignetAdmission

/// verifyImages with custom `imageExtractors` through the webhook, against a real registry with
/// cosign signatures (the shape of Kyverno's test/cli/test/images/verify-signature, offline).
@Suite("imageExtractors against a real registry", .serialized)
struct ImageExtractorsAdmissionTests {
    static func policy(registry: String) -> String {
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: check-data-volume-image
        spec:
          validationFailureAction: Enforce
          webhookTimeoutSeconds: 10
          rules:
            - name: verify-signature
              imageExtractors:
                DataVolume:
                  - path: /spec/source/registry/url
                    jmesPath: "trim_prefix(@, 'docker://')"
              match:
                any:
                  - resources:
                      kinds: [DataVolume]
              verifyImages:
                - imageReferences: ["\(registry)/*"]
                  mutateDigest: false
                  verifyDigest: false
                  attestors:
                    - entries:
                        - keys:
                            kms: hashivault://cosign
                            rekor:
                              ignoreTlog: true
        """
    }

    static func review(_ url: String) -> Data {
        let object: JSONValue = ["apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                                 "metadata": ["name": "dv", "namespace": "default"],
                                 "spec": ["source": ["registry": ["url": .string(url)]]]]
        let review: JSONValue = [
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": [
                "uid": .string(UUID().uuidString),
                "kind": ["group": "cdi.kubevirt.io", "version": "v1beta1", "kind": "DataVolume"],
                "resource": ["group": "cdi.kubevirt.io", "version": "v1beta1", "resource": "datavolumes"],
                "name": "dv", "namespace": "default", "operation": "CREATE",
                "userInfo": ["username": "alice", "groups": ["system:authenticated"]],
                "object": object, "dryRun": false,
            ],
        ]
        return Data(review.jsonString.utf8)
    }

    /// The webhooks cover the extractor's kind through the rule's `match` (as Kyverno's webhook
    /// controller does): mutate (verification) and validate (`required`) for DataVolumes.
    @Test func webhookRulesCoverTheExtractorKind() throws {
        var options = WebhookConfigurationBuilder.Options()
        options.extraResources["DataVolume"] = try .init(parsing: "cdi.kubevirt.io/v1beta1/datavolumes:Namespaced")
        let result = try WebhookConfigurationBuilder(options: options).build(try WebhookConfigurationTests.load([Self.policy(registry: "r.local")]))
        #expect(WebhookConfigurationTests.summary(result.mutating).contains("cdi.kubevirt.io/v1beta1 Namespaced CREATE,UPDATE datavolumes"))
        #expect(WebhookConfigurationTests.summary(result.validating).contains("cdi.kubevirt.io/v1beta1 Namespaced CREATE,UPDATE,DELETE,CONNECT datavolumes"))
    }

    @Test func signedAndUnsignedDataVolumeImages() async throws {
        let setup = try await RealRegistryTests.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let (hook, _) = try await TestWebhook.serving(
            [Self.policy(registry: setup.registry.host)],
            verifier: CosignImageVerifier(client: setup.client, keyProviders: setup.keys))
        let signed = try await RealRegistryTests.push(setup, tag: "signed", sign: true)
        let unsigned = try await RealRegistryTests.push(setup, tag: "unsigned", sign: false)

        let ok = try await hook.send(.POST, "/mutate", body: Self.review("docker://\(signed.description)"))
        #expect(ok.response?["allowed"] == true, "\(ok.text)")
        let denied = try await hook.send(.POST, "/mutate", body: Self.review("docker://\(unsigned.description)"))
        #expect(denied.response?["allowed"] == false, "\(denied.text)")
        // an image outside imageReferences is not this rule's business
        let other = try await hook.send(.POST, "/mutate", body: Self.review("docker://elsewhere.io/app:1"))
        #expect(other.response?["allowed"] == true, "\(other.text)")
        await hook.stop()
    }
}
