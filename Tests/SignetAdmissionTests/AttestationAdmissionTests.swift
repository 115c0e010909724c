import Foundation
import Logging
import SignetKMS
import SignetOCI
import SignetPolicy
import SignetVerification
import SignetSigning
import SignetTestSupport
import Testing
@testable import SignetAdmission
import SignetPrimitives

/// ClusterPolicy `verifyImages.attestations` through the webhook: a real registry, attestations
/// signed with an OpenBao transit key, verified by the same plan → verify → evaluate pipeline.
@Suite("verifyImages.attestations against a real registry and OpenBao", .serialized)
struct AttestationAdmissionTests {
    static let provenance = "https://slsa.dev/provenance/v1"

    static func policy(registry: String, conditions: Bool = false) -> String {
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: check-provenance
        spec:
          validationFailureAction: Enforce
          webhookTimeoutSeconds: 10
          rules:
            - name: check-provenance
              match:
                any:
                  - resources:
                      kinds: [Pod]
              verifyImages:
                - imageReferences: ["\(registry)/*"]
                  mutateDigest: false
                  verifyDigest: false
                  attestations:
                    - type: \(provenance)
                      attestors:
                        - entries:
                            - keys:
                                kms: hashivault://cosign
                                rekor:
                                  ignoreTlog: true
        """ + (conditions ? "\n              conditions:\n                - all:\n                    - key: \"{{ builder }}\"\n                      operator: Equals\n                      value: ci\n" : "")
    }

    @Test func attestedUnattestedOtherTypeAndSignedOnly() async throws {
        let setup = try await RealRegistryTests.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let (hook, _) = try await TestWebhook.serving([Self.policy(registry: setup.registry.host)],
                                                      verifier: CosignImageVerifier(client: setup.client, keyProviders: setup.keys))

        let attester = ImageAttester(signer: try await setup.keys.signer(for: "hashivault://cosign"))
        let store = SignatureStore(client: setup.client)
        // Attested with the provenance type.
        let attested = try await RealRegistryTests.push(setup, tag: "attested", sign: false)
        try await attester.upload(try await attester.attest(image: attested, digest: attested.digest!, predicate: Data(#"{"builder":"ci"}"#.utf8),
                                                            type: .slsaProvenance1), to: attested, store: store)
        // Signed but not attested: a signature is not an attestation.
        let signedOnly = try await RealRegistryTests.push(setup, tag: "signed", sign: true)
        // Attested with another type only (CVE-2022-35929: must not count).
        let otherType = try await RealRegistryTests.push(setup, tag: "other", sign: false)
        try await attester.upload(try await attester.attest(image: otherType, digest: otherType.digest!, predicate: Data("{}".utf8),
                                                            type: .openVEX), to: otherType, store: store)
        // Attested with another key.
        let otherKey = try await RealRegistryTests.push(setup, tag: "otherkey", sign: false)
        let stranger = ImageAttester(signer: try PrivateKey.generate())
        try await stranger.upload(try await stranger.attest(image: otherKey, digest: otherKey.digest!, predicate: Data("{}".utf8),
                                                            type: .slsaProvenance1), to: otherKey, store: store)

        let ok = try await hook.review("/validate", RealRegistryTests.pod("\(attested)"))
        #expect(ok.response?["allowed"] == true, "\(ok.text)")
        for (image, reason) in [(signedOnly, "no attestations found"), (otherType, "none of the attestations matched the predicate type"),
                                (otherKey, "invalid signature")] {
            let denied = try await hook.review("/validate", RealRegistryTests.pod("\(image)"))
            #expect(denied.response?["allowed"] == false, "\(denied.text)")
            let message = denied.response?["status"]?["message"]?.stringValue ?? ""
            #expect(message.contains(".attestations[0].attestors[0].entries[0].keys: no matching attestations"), "\(message)")
            #expect(message.contains(reason), "\(message)")
        }
        await hook.stop()
    }

    @Test func conditionsAreNamedAsUnsupported() throws {
        let loaded = try PolicyLoader().load(yaml: Self.policy(registry: "r.local", conditions: true))
        let diagnostics = loaded.policies.flatMap(\.diagnostics).map(\.description).joined(separator: "\n")
        #expect(loaded.policies.first?.rules.first?.unsupported.isEmpty == false)
        #expect(diagnostics.contains("attestations[0].conditions"), "\(diagnostics)")
    }

    @Test func planAsksForTheAttestationNotTheSignature() throws {
        let loaded = try PolicyLoader().load(yaml: Self.policy(registry: "r.local"))
        #expect(loaded.policies.first?.isInvalid == false, "\(loaded.policies.first?.diagnostics ?? [])")
        let engine = PolicyEngine(policies: loaded.policies)
        let plan = engine.verificationPlan(RealRegistryTests.pod("r.local/app@sha256:" + String(repeating: "a", count: 64)).pod)
        #expect(plan.requests.map(\.predicateType) == [Self.provenance])
        #expect(plan.requests.first?.key == .kms("hashivault://cosign"))
    }
}
