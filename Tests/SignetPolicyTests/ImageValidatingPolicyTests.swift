import Foundation
import Testing
import SignetOCI
@testable import SignetPolicy
import SignetPrimitives

/// An ImageValidatingPolicy document: `spec` lines are appended to a Pod policy matching `ghcr.io/*`.
func ivpol(_ specTail: String, kind: String = "ImageValidatingPolicy", version: String = "v1beta1", name: String = "ivpol",
           validations: String = "images.containers.map(i, verifyImageSignatures(i, [attestors.a])).all(n, n > 0)") -> String {
    """
    apiVersion: policies.kyverno.io/\(version)
    kind: \(kind)
    metadata: {name: \(name), namespace: default}
    spec:
      matchConstraints:
        resourceRules:
        - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
      matchImageReferences:
      - glob: ghcr.io/*
      validations:
      - expression: "\(validations)"
        message: image not verified
    \(specTail)
    """
}

/// A key attestor `a` with KEY-A that skips the transparency log.
let keyAttestorA = """
  attestors:
  - name: a
    cosign:
      key:
        data: |
          -----BEGIN PUBLIC KEY-----
          KEY-A
          -----END PUBLIC KEY-----
      ctlog: {insecureIgnoreTlog: true}
"""

func pod(_ images: [String], name: String = "p", labels: [String: String] = [:]) -> JSONValue {
    let labelLines = labels.map { "    \($0.key): \"\($0.value)\"" }.joined(separator: "\n")
    let yaml = """
    apiVersion: v1
    kind: Pod
    metadata:
      name: \(name)
      namespace: default
      labels:
    \(labelLines.isEmpty ? "    x: y" : labelLines)
    spec:
      containers:
    \(images.enumerated().map { "  - {name: c\($0.offset), image: '\($0.element)'}" }.joined(separator: "\n"))
    """
    return (try? YAMLDocuments.parse(yaml).first) ?? .null
}

func loadIV(_ yaml: String, strict: Bool = false) throws -> (ImageValidatingPolicy, PolicyLoader.Result) {
    let r = try PolicyLoader(strict: strict).load(yaml: yaml)
    let p = try #require(r.imageValidatingPolicies.first)
    return (p, r)
}

let digestA = "sha256:" + String(repeating: "a", count: 64)

@Suite struct ImageValidatingPolicyTests {
    // MARK: - Loading

    @Test(arguments: ["v1", "v1beta1", "v1alpha1"])
    func loadsEveryVersion(version: String) throws {
        let (p, r) = try loadIV(ivpol(keyAttestorA, version: version))
        #expect(p.kind == .imageValidatingPolicy)
        #expect(p.name == "ivpol")
        #expect(p.namespace == nil)
        #expect(p.attestors.count == 1)
        #expect(p.matchImageReferences == [.glob("ghcr.io/*")])
        #expect(p.validationConfiguration == ImageValidationConfiguration())
        #expect(p.failurePolicy == .fail)
        #expect(p.validationActions == [.deny])
        #expect(!p.isInvalid, "\(p.diagnostics)")
        #expect(r.diagnostics.isEmpty, "no 'not supported kind' diagnostic: \(r.diagnostics)")
    }

    @Test func namespacedKindKeepsItsNamespace() throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA, kind: "NamespacedImageValidatingPolicy"))
        #expect(p.kind == .namespacedImageValidatingPolicy)
        #expect(p.namespace == "default")
    }

    @Test func parsesEveryField() throws {
        let (p, _) = try loadIV(ivpol("""
          failurePolicy: Ignore
          validationActions: [Audit]
          validationConfigurations: {mutateDigest: false, verifyDigest: false, required: false}
          images:
          - {name: custom, expression: "[object.metadata.annotations['img']]"}
          attestors:
          - name: a
            cosign:
              key: {kms: "hashivault://cosign", hashAlgorithm: sha512}
              source: {repository: "registry.local/sigs"}
              ctlog: {insecureIgnoreTlog: true}
              annotations: {team: blue}
          - name: e
            cosign:
              key: {expression: "object.metadata.annotations['key']"}
              ctlog: {insecureIgnoreTlog: true}
          attestations:
          - name: sbom
            intoto: {type: "https://cyclonedx.org/bom"}
          webhookConfiguration: {timeoutSeconds: 15}
          evaluation: {admission: {enabled: true}, background: {enabled: false}}
          autogen: {podControllers: {controllers: [deployments]}}
        """))
        #expect(p.failurePolicy == .ignore)
        #expect(p.validationActions == [.audit])
        #expect(p.validationConfiguration == ImageValidationConfiguration(mutateDigest: false, verifyDigest: false, required: false))
        #expect(p.imageExtractors == [ImageExtractor(name: "custom", expression: "[object.metadata.annotations['img']]")])
        let a = CosignKeyAttestor(key: .kms("hashivault://cosign"), hashAlgorithm: "sha512", signatureRepository: "registry.local/sigs",
                                  insecureIgnoreTlog: true, annotations: ["team": "blue"])
        #expect(p.attestors.first == ImageAttestor(name: "a", kind: .cosignKey(a)))
        #expect(p.attestors.last?.name == "e")
        #expect(p.attestations == [ImageAttestationSpec(name: "sbom", format: .intoto, type: "https://cyclonedx.org/bom")])
        #expect(p.base.webhookTimeoutSeconds == 15)
        #expect(p.base.background == false)
        #expect(p.base.autogenControllers == ["Deployment"])
        #expect(!p.isInvalid, "\(p.diagnostics)")
    }

    /// Fields Signet does not implement are named in a diagnostic (never dropped silently).
    @Test(arguments: [
        ("  attestors:\n  - name: nv\n    notary: {certs: {value: x}}", "notary attestors are not supported"),
        ("  attestors:\n  - name: k\n    cosign:\n      keyless: {identities: [{subject: s}]}", "keyless"),
        ("  attestors:\n  - name: c\n    cosign:\n      certificate: {cert: {value: x}}", "certificate attestors"),
        ("  attestors:\n  - name: a\n    cosign:\n      key: {data: x}", "transparency log"),
        ("  attestors:\n  - name: a\n    cosign:\n      key: {data: x}\n      ctlog: {insecureIgnoreTlog: true}\n      source: {tagPrefix: p}", "tag prefix"),
        ("  attestors:\n  - name: a\n    cosign:\n      key: {data: x, kms: kk}", "exactly one of data, kms or expression"),
        ("  attestors:\n  - name: a\n    cosign:\n      key: {data: x, hashAlgorithm: md5}", "must be sha224"),
        // `secrets` are used (docs/image-validating-policy.md, "Registry credentials"); providers are not
        ("  credentials: {secrets: [regcred], providers: [amazon]}", "credential providers are not used"),
        ("  credentials: {secrets: [Not_A_Name]}", "is not a valid secret name"),
        ("  attestations:\n  - name: s\n    referrer: {type: sbom/cyclone-dx}", "OCI referrer attestations"),
        ("  attestations:\n  - name: s", "exactly one of intoto or referrer"),
        ("  matchImageReferences:\n  - {glob: a, expression: b}", "exactly one of glob or expression"),
        ("  unknownField: 1", "unknown field"),
        ("  images:\n  - {name: x}", "an expression is required"),
        ("  evaluation: {mode: JSON}", "evaluated on Kubernetes objects only"),
    ])
    func diagnostics(tail: String, expected: String) throws {
        let yaml = ivpol(tail).replacingOccurrences(of: "  matchImageReferences:\n  - glob: ghcr.io/*\n", with: tail.contains("matchImageReferences") ? "" : "  matchImageReferences:\n  - glob: ghcr.io/*\n")
        let (p, _) = try loadIV(yaml)
        #expect(p.diagnostics.contains { $0.message.contains(expected) && $0.path.hasPrefix("ImageValidatingPolicy/ivpol") }, "\(p.diagnostics)")
    }

    @Test func compileErrorsMakeThePolicyInvalid() throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA, validations: "verifyImageSignatures("))
        let engine = CELPolicyEngine(policies: [], imagePolicies: [p])
        #expect(engine.diagnostics.contains { $0.severity == .error && $0.path.hasPrefix("ImageValidatingPolicy/ivpol") })
        let r = engine.evaluateImagePolicies(pod(["ghcr.io/a/b:1"]), admission: AdmissionInfo(), verifications: [:], secondPass: .afterMutation)
        #expect(r.first?.invalidReason != nil)
    }

    // MARK: - Plan

    @Test func planListsEveryMatchedImageKeyAndAttestation() throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA + """

          attestations:
          - name: sbom
            intoto: {type: "https://cyclonedx.org/bom"}
        """))
        let engine = CELPolicyEngine(policies: [], imagePolicies: [p])
        let plan = engine.imageVerificationPlan(pod(["ghcr.io/a/b:1", "docker.io/other:2", "ghcr.io/a/c@\(digestA)"]), admission: AdmissionInfo())
        #expect(plan.count == 4)  // 2 matched images × (signature + 1 attestation)
        #expect(Set(plan.map(\.image)) == ["ghcr.io/a/b:1", "ghcr.io/a/c@\(digestA)"])
        #expect(plan.filter { $0.predicateType == "https://cyclonedx.org/bom" }.count == 2)
        #expect(plan.allSatisfy { $0.key == .publicKey(pem("KEY-A")) && $0.ignoreTlog })
        // nothing for DELETE, for other kinds, or when match conditions leave the request out
        #expect(engine.imageVerificationPlan(pod(["ghcr.io/a/b:1"]), admission: AdmissionInfo(operation: .delete)).isEmpty)
        // PolicyEngine folds them into its one plan
        let pe = PolicyEngine(policies: [], celEngine: engine)
        #expect(pe.hasVerifyImages)
        #expect(pe.verificationPlan(pod(["ghcr.io/a/b:1"])).requests.count == 2)
    }

    @Test func planSkipsRequestsTheMatchConditionsExclude() throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA + """

          matchConditions:
          - {name: prod, expression: "object.metadata.labels.prod == 'true'"}
        """))
        let engine = CELPolicyEngine(policies: [], imagePolicies: [p])
        #expect(engine.imageVerificationPlan(pod(["ghcr.io/a/b:1"])).isEmpty)
        #expect(engine.imageVerificationPlan(pod(["ghcr.io/a/b:1"], labels: ["prod": "true"])).count == 1)
    }

    @Test func keyExpressionAndKMSKeys() throws {
        let (p, _) = try loadIV(ivpol("""
          attestors:
          - name: a
            cosign:
              key: {expression: "object.metadata.annotations.key"}
              ctlog: {insecureIgnoreTlog: true}
          - name: v
            cosign:
              key: {kms: "hashivault://cosign"}
              ctlog: {insecureIgnoreTlog: true}
        """))
        var resource = pod(["ghcr.io/a/b:1"])
        if case .object(var o) = resource, case .object(var md)? = o["metadata"] {
            md["annotations"] = ["key": .string(pem("KEY-A"))]
            o["metadata"] = .object(md)
            resource = .object(o)
        }
        let plan = CELPolicyEngine(policies: [], imagePolicies: [p]).imageVerificationPlan(resource)
        #expect(Set(plan.map(\.key)) == [.publicKey(pem("KEY-A")), .kms("hashivault://cosign")])
    }

    // MARK: - Evaluate (pure, over hand-made results)

    func evaluate(_ p: ImageValidatingPolicy, _ resource: JSONValue, _ answer: (ImageVerificationRequest) -> ImageVerificationResult?,
                  secondPass: SecondPassImages = .afterMutation) -> PolicyResult? {
        let engine = CELPolicyEngine(policies: [], imagePolicies: [p])
        var results: VerificationResults = [:]
        for r in engine.imageVerificationPlan(resource) { results[r] = answer(r) }
        return engine.evaluateImagePolicies(resource, admission: AdmissionInfo(), verifications: results, secondPass: secondPass).first
    }

    static let statuses: [(ImageVerificationResult, RuleStatus)] = [
        (.verified(digest: "sha256:" + String(repeating: "a", count: 64)), .pass),
        (.notVerified("no matching signatures"), .fail),
        (.error("registry unreachable"), .error),
    ]

    @Test(arguments: statuses)
    func typedResultsTravelUnchanged(result: ImageVerificationResult, expected: RuleStatus) throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA + "\n  validationConfigurations: {verifyDigest: false}"))
        let r = try #require(evaluate(p, pod(["ghcr.io/a/b:1"])) { _ in result })
        #expect(r.rules.map(\.status) == [expected], "\(r.rules)")
        #expect(r.kind == "ImageValidatingPolicy")
        if expected == .error { #expect(r.rules.first?.message.contains("registry unreachable") == true) }
    }

    @Test func unmatchedImagesCountZeroAndMissingResultsAreErrors() throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA, validations: "verifyImageSignatures('docker.io/x:1', [attestors.a]) == 0"))
        #expect(evaluate(p, pod(["docker.io/x:1"])) { _ in nil }?.rules.first?.status == .pass)
        // a matched image whose verification never ran is an error, never a pass
        let (q, _) = try loadIV(ivpol(keyAttestorA + "\n  validationConfigurations: {verifyDigest: false}"))
        let engine = CELPolicyEngine(policies: [], imagePolicies: [q])
        let r = engine.evaluateImagePolicies(pod(["ghcr.io/a/b:1"]), admission: AdmissionInfo(), verifications: [:], secondPass: .afterMutation)
        #expect(r.first?.rules.first?.status == .error)
    }

    @Test func attestationsAndPayloads() throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA + """

          validationConfigurations: {verifyDigest: false}
          attestations:
          - name: sbom
            intoto: {type: "https://cyclonedx.org/bom"}
        """, validations: "images.containers.all(i, verifyAttestationSignatures(i, attestations.sbom, [attestors.a]) > 0 && extractPayload(i, attestations.sbom).bomFormat == 'CycloneDX')"))
        let good = evaluate(p, pod(["ghcr.io/a/b:1"])) { r in
            r.predicateType == nil ? .verified(digest: digestA)
                : ImageVerificationResult(status: .verified, digest: digestA, message: "", payload: ["bomFormat": "CycloneDX"])
        }
        #expect(good?.rules.first?.status == .pass, "\(String(describing: good?.rules))")
        let wrongPayload = evaluate(p, pod(["ghcr.io/a/b:1"])) { _ in
            ImageVerificationResult(status: .verified, digest: digestA, message: "", payload: ["bomFormat": "SPDX"])
        }
        #expect(wrongPayload?.rules.first?.status == .fail)
        let unattested = evaluate(p, pod(["ghcr.io/a/b:1"])) { r in
            r.predicateType == nil ? .verified(digest: digestA) : .notVerified("no matching attestations")
        }
        #expect(unattested?.rules.first?.status == .fail)
    }

    @Test func extractPayloadOfAnUnverifiedAttestationIsAnError() throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA + """

          validationConfigurations: {verifyDigest: false, required: false}
          attestations:
          - name: sbom
            intoto: {type: "https://cyclonedx.org/bom"}
        """, validations: "images.containers.all(i, extractPayload(i, attestations.sbom).bomFormat == 'CycloneDX')"))
        let r = evaluate(p, pod(["ghcr.io/a/b:1"])) { _ in .notVerified("no matching attestations") }
        #expect(r?.rules.first?.status == .error)
        #expect(r?.rules.first?.message.contains("cannot be fetched before verifying") == true)
    }

    @Test func validationConfigurations() throws {
        // mutateDigest pins a verified tag: a patch, and verifyDigest passes after mutation
        let (p, _) = try loadIV(ivpol(keyAttestorA))
        let pinned = evaluate(p, pod(["ghcr.io/a/b:1"])) { _ in .verified(digest: digestA) }
        #expect(pinned?.rules.first?.status == .pass)
        #expect(pinned?.rules.first?.patches == [JSONPatchOperation(op: "replace", path: "/spec/containers/0/image", value: .string("ghcr.io/a/b:1@\(digestA)"))])
        // as submitted (the validating pass), a tag-only image has no digest
        let submitted = evaluate(p, pod(["ghcr.io/a/b:1"]), { _ in .verified(digest: digestA) }, secondPass: .asSubmitted)
        #expect(submitted?.rules.first?.status == .fail)
        #expect(submitted?.rules.first?.message == "missing digest for ghcr.io/a/b:1")
        // required: a matched image the validations never verified fails
        let (q, _) = try loadIV(ivpol(keyAttestorA + "\n  validationConfigurations: {verifyDigest: false}", validations: "true"))
        let unverified = evaluate(q, pod(["ghcr.io/a/b:1"])) { _ in .verified(digest: digestA) }
        #expect(unverified?.rules.first?.status == .fail)
        #expect(unverified?.rules.first?.message == "image ghcr.io/a/b:1 is not verified")
    }

    /// `required` counts the verifications of every policy of the request (as Kyverno).
    @Test func requiredUsesCrossPolicyEvidence() throws {
        let (verifying, _) = try loadIV(ivpol(keyAttestorA + "\n  validationConfigurations: {verifyDigest: false}", name: "verifying"))
        let (lazy, _) = try loadIV(ivpol(keyAttestorA + "\n  validationConfigurations: {verifyDigest: false}", name: "lazy", validations: "true"))
        let engine = CELPolicyEngine(policies: [], imagePolicies: [lazy, verifying])
        var results: VerificationResults = [:]
        for r in engine.imageVerificationPlan(pod(["ghcr.io/a/b:1"])) { results[r] = .verified(digest: digestA) }
        let out = engine.evaluateImagePolicies(pod(["ghcr.io/a/b:1"]), admission: AdmissionInfo(), verifications: results, secondPass: .afterMutation)
        #expect(out.map { $0.rules.first?.status } == [.pass, .pass])
        let alone = CELPolicyEngine(policies: [], imagePolicies: [lazy])
        let r = alone.evaluateImagePolicies(pod(["ghcr.io/a/b:1"]), admission: AdmissionInfo(), verifications: results, secondPass: .afterMutation)
        #expect(r.first?.rules.first?.status == .fail)
    }

    @Test func getImageDataFromResultsOrPrefetchedData() throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA + "\n  validationConfigurations: {verifyDigest: false}",
                                      validations: "images.containers.all(i, verifyImageSignatures(i, [attestors.a]) > 0 && getImageData(i).digest == '\(digestA)')"))
        #expect(evaluate(p, pod(["ghcr.io/a/b:1"])) { _ in .verified(digest: digestA) }?.rules.first?.status == .pass)
        let (q, _) = try loadIV(ivpol(keyAttestorA + "\n  validationConfigurations: {verifyDigest: false, required: false}",
                                      validations: "getImageData('ghcr.io/a/b:1').config.user == 'nobody'"))
        let engine = CELPolicyEngine(policies: [], imagePolicies: [q])
        var data = KyvernoCELData()
        data.images = ["ghcr.io/a/b:1": ["config": ["user": "nobody"]]]
        let context = CELRequestContext(data: data)
        let r = engine.evaluateImagePolicies(pod(["ghcr.io/a/b:1"]), admission: AdmissionInfo(), context: context, verifications: [:], secondPass: .afterMutation)
        #expect(r.first?.rules.first?.status == .pass, "\(r.first?.rules ?? [])")
    }

    @Test func unsupportedAttestorsErrorInsteadOfPassing() throws {
        let (p, _) = try loadIV(ivpol("  attestors:\n  - name: a\n    notary: {certs: {value: x}}\n  validationConfigurations: {verifyDigest: false}"))
        let r = evaluate(p, pod(["ghcr.io/a/b:1"])) { _ in nil }
        #expect(r?.rules.first?.status == .error)
        #expect(r?.rules.first?.message.contains("notary attestors are not supported") == true)
    }

    @Test func imagesVariableAndCustomExtractors() throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA + """

          validationConfigurations: {verifyDigest: false, required: false}
          images:
          - {name: custom, expression: "[object.metadata.name == 'p' ? 'ghcr.io/x/y:2' : 'docker.io/z:1']"}
        """, validations: "size(images.containers) == 1 && size(images.initContainers) == 0 && images.custom.all(i, verifyImageSignatures(i, [attestors.a]) == 1)"))
        let r = evaluate(p, pod(["ghcr.io/a/b:1"])) { r in r.image == "ghcr.io/x/y:2" ? .verified(digest: digestA) : .notVerified("no") }
        #expect(r?.rules.first?.status == .pass, "\(String(describing: r?.rules))")
    }

    /// Kyverno binds `images` to the images `matchImageReferences` selects: an image the policy
    /// does not govern (docker.io here) is not in `images.containers`, so `all(...)` passes on
    /// the governed one alone.
    @Test func imagesHoldsOnlyTheGovernedImages() throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA + "\n  validationConfigurations: {verifyDigest: false}",
                                      validations: "size(images.containers) == 1 && images.containers.all(i, verifyImageSignatures(i, [attestors.a]) > 0)"))
        let r = evaluate(p, pod(["ghcr.io/a/b:1", "docker.io/library/nginx:1"])) { _ in .verified(digest: digestA) }
        #expect(r?.rules.first?.status == .pass, "\(String(describing: r?.rules))")
    }

    @Test func nonMatchingResourcesAndExceptions() throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA))
        let deployment: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c", "namespace": "default"]]
        #expect(evaluate(p, deployment) { _ in nil }?.rules.isEmpty == true)
        let exc = try #require(ValidatingPolicyLoader.exception(from: [
            "apiVersion": "policies.kyverno.io/v1alpha1", "kind": "PolicyException", "metadata": ["name": "e", "namespace": "default"],
            "spec": ["policyRefs": [["name": "ivpol", "kind": "ImageValidatingPolicy"]],
                     "matchConditions": [["name": "n", "expression": "object.metadata.name == 'skipped'"]]],
        ]))
        let engine = CELPolicyEngine(policies: [], exceptions: [exc], imagePolicies: [p])
        #expect(engine.imageVerificationPlan(pod(["ghcr.io/a/b:1"], name: "skipped")).isEmpty)
        let r = engine.evaluateImagePolicies(pod(["ghcr.io/a/b:1"], name: "skipped"), admission: AdmissionInfo(), verifications: [:], secondPass: .afterMutation)
        #expect(r.first?.rules.first?.status == .skip)
    }

    @Test func autogenCoversPodControllers() throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA + "\n  validationConfigurations: {verifyDigest: false}"))
        let deployment: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d", "namespace": "default"],
                                     "spec": ["template": ["spec": ["containers": [["name": "c", "image": "ghcr.io/a/b:1"]]]]]]
        let engine = CELPolicyEngine(policies: [], imagePolicies: [p])
        #expect(engine.imageVerificationPlan(deployment).count == 1)
        let ok = evaluate(p, deployment) { _ in .verified(digest: digestA) }
        #expect(ok?.rules.first?.status == .pass)
        #expect(ok?.rules.first?.rule == "autogen-ivpol")
        #expect(evaluate(p, deployment) { _ in .notVerified("no") }?.rules.first?.status == .fail)
    }

    /// plan → verify → evaluate through `PolicyEngine.evaluate` with a verifier (what apply and test do).
    @Test func fullPipelineWithAVerifier() async throws {
        let (p, _) = try loadIV(ivpol(keyAttestorA + "\n  validationConfigurations: {verifyDigest: false}"))
        let verifier = FakeVerifier(signed: ["ghcr.io/a/signed:1": ["A"]])
        let engine = PolicyEngine(policies: [], verifier: verifier, celEngine: CELPolicyEngine(policies: [], imagePolicies: [p]))
        let signed = await engine.evaluate(pod(["ghcr.io/a/signed:1"]))
        #expect(!signed.blocked)
        let unsigned = await engine.evaluate(pod(["ghcr.io/a/unsigned:1"]))
        #expect(unsigned.blocked)
        #expect(unsigned.blockMessage.contains("image not verified"))
        #expect(verifier.calls.count == 2)
    }
}
