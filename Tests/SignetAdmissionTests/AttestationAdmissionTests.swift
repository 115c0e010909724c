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

        // Attested with the provenance type.
        let attested = try await RealRegistryTests.push(setup, tag: "attested", sign: false)
        try await RealRegistryTests.attest(setup, attested)
        // Signed but not attested: a signature is not an attestation.
        let signedOnly = try await RealRegistryTests.push(setup, tag: "signed", sign: true)
        // Attested with another type only (CVE-2022-35929: must not count).
        let otherType = try await RealRegistryTests.push(setup, tag: "other", sign: false)
        try await RealRegistryTests.attest(setup, otherType, predicate: "{}", type: .openVEX)
        // Attested with another key.
        let otherKey = try await RealRegistryTests.push(setup, tag: "otherkey", sign: false)
        let stranger = ImageAttester(signer: try PrivateKey.generate())
        try await stranger.upload(try await stranger.attest(image: otherKey, digest: otherKey.digest!, predicate: Data("{}".utf8),
                                                            type: .slsaProvenance1), to: otherKey, store: SignatureStore(client: setup.client))

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

    /// `conditions` over the verified predicate, Kyverno semantics: the predicate's fields at the
    /// root of the variables, every any/all block must hold for every verified statement, the
    /// request's variables still visible; a failing condition fails the entry with Kyverno's
    /// message, an unverified attestation never reaches the conditions.
    struct ConditionCase: Sendable, CustomTestStringConvertible {
        var name: String
        var conditions: String
        var predicates: [String]
        var status: RuleStatus
        var message: String = ""
        var testDescription: String { name }
    }

    static let conditionCases: [ConditionCase] = [
        .init(name: "all holds", conditions: "- all:\n    - key: \"{{ builder }}\"\n      operator: Equals\n      value: ci",
              predicates: [#"{"builder":"ci"}"#], status: .pass),
        .init(name: "all fails with its message", conditions: "- all:\n    - key: \"{{ builder }}\"\n      operator: Equals\n      value: ci\n      message: \"built by {{ builder }}\"",
              predicates: [#"{"builder":"laptop"}"#], status: .fail,
              message: "attestation checks failed for r.local/app@sha256:\(String(repeating: "a", count: 64)) and predicate https://slsa.dev/provenance/v1: built by laptop"),
        .init(name: "any: one is enough", conditions: "- any:\n    - key: \"{{ builder }}\"\n      operator: Equals\n      value: ci\n    - key: \"{{ level }}\"\n      operator: GreaterThanOrEquals\n      value: 3",
              predicates: [#"{"builder":"laptop","level":3}"#], status: .pass),
        .init(name: "every block must hold", conditions: "- any:\n    - key: \"{{ builder }}\"\n      operator: Equals\n      value: ci\n- all:\n    - key: \"{{ level }}\"\n      operator: GreaterThanOrEquals\n      value: 3",
              predicates: [#"{"builder":"ci","level":1}"#], status: .fail, message: "attestation checks failed for"),
        .init(name: "every statement must hold", conditions: "- all:\n    - key: \"{{ builder }}\"\n      operator: Equals\n      value: ci",
              predicates: [#"{"builder":"ci"}"#, #"{"builder":"laptop"}"#], status: .fail, message: "attestation checks failed for"),
        .init(name: "nested fields and the request", conditions: "- all:\n    - key: \"{{ materials[0].uri }}\"\n      operator: Equals\n      value: \"git+https://{{ request.object.metadata.namespace }}.example\"",
              predicates: [#"{"materials":[{"uri":"git+https://default.example"}]}"#], status: .pass),
    ]

    @Test(arguments: conditionCases)
    func conditionsOverTheVerifiedPredicate(_ c: ConditionCase) throws {
        let conditions = c.conditions.split(separator: "\n", omittingEmptySubsequences: false).map { "                " + $0 }.joined(separator: "\n")
        let yaml = Self.policy(registry: "r.local") + "\n              conditions:\n" + conditions + "\n"
        let loaded = try PolicyLoader().load(yaml: yaml)
        let policy = try #require(loaded.policies.first)
        #expect(!policy.isInvalid && policy.rules.first?.unsupported.isEmpty == true, "\(policy.diagnostics)")
        let engine = PolicyEngine(policies: loaded.policies)
        let pod = RealRegistryTests.pod("r.local/app@sha256:" + String(repeating: "a", count: 64)).pod
        let admission = AdmissionInfo(operation: .create)
        var results: VerificationResults = [:]
        for request in engine.verificationPlan(pod, admission: admission).requests {
            var r = ImageVerificationResult.verified(digest: "sha256:" + String(repeating: "a", count: 64))
            r.predicates = try c.predicates.map { try JSONValue(json: Data($0.utf8)) }
            results[request] = r
        }
        #expect(!results.isEmpty)
        let rule = try #require(engine.evaluate(pod, admission: admission, verifications: results, secondPass: .asSubmitted).policies.first?.rules.first)
        #expect(rule.status == c.status, "\(rule.message)")
        #expect(c.message.isEmpty || rule.message.contains(c.message), "\(rule.message)")
        // An attestation that did not verify is a failure before any condition is read.
        let unverified = VerificationResults(results.stored.mapValues { _ in ImageVerificationResult.notVerified("no matching attestations: no attestations found") })
        let denied = try #require(engine.evaluate(pod, admission: admission, verifications: unverified, secondPass: .asSubmitted).policies.first?.rules.first)
        #expect(denied.status == .fail && !denied.message.contains("attestation checks failed"), "\(denied.message)")
    }

    /// The real registry: the attested image passes the condition on its verified predicate, an
    /// image attested by the same key with another builder is denied by the webhook.
    @Test func conditionsDecideOverTheRealRegistry() async throws {
        let setup = try await RealRegistryTests.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let (hook, _) = try await TestWebhook.serving([Self.policy(registry: setup.registry.host, conditions: true)],
                                                      verifier: CosignImageVerifier(client: setup.client, keyProviders: setup.keys))
        let ci = try await RealRegistryTests.push(setup, tag: "ci", sign: false)
        try await RealRegistryTests.attest(setup, ci, predicate: #"{"builder":"ci"}"#)
        let laptop = try await RealRegistryTests.push(setup, tag: "laptop", sign: false)
        try await RealRegistryTests.attest(setup, laptop, predicate: #"{"builder":"laptop"}"#)
        let ok = try await hook.review("/validate", RealRegistryTests.pod("\(ci)"))
        #expect(ok.response?["allowed"] == true, "\(ok.text)")
        let denied = try await hook.review("/validate", RealRegistryTests.pod("\(laptop)"))
        #expect(denied.response?["allowed"] == false, "\(denied.text)")
        let message = denied.response?["status"]?["message"]?.stringValue ?? ""
        #expect(message.contains("attestation checks failed for \(laptop) and predicate \(Self.provenance)"), "\(message)")
        await hook.stop()
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
