import Foundation
import SignetKMS
import SignetOCI
import SignetPolicy
import SignetVerification
import SignetSigning
import SignetTestSupport
import Testing
@testable import SignetAdmission
import SignetPrimitives

/// ImageValidatingPolicies end to end: a real docker-registry, cosign signatures and attestations
/// made with an OpenBao transit key, verified by the real `CosignImageVerifier` through the one
/// pipeline (plan → verify → evaluate → decide).
@Suite("ImageValidatingPolicy against a real registry and OpenBao", .serialized)
struct ImageValidatingPolicyAdmissionTests {
    static let provenance = "https://slsa.dev/provenance/v1"

    static func policy(registry: String, validations: String, failurePolicy: String = "Fail") -> String {
        """
        apiVersion: policies.kyverno.io/v1
        kind: ImageValidatingPolicy
        metadata:
          name: check-images
        spec:
          failurePolicy: \(failurePolicy)
          validationActions: [Deny]
          validationConfigurations:
            mutateDigest: false
            verifyDigest: false
          matchConstraints:
            resourceRules:
              - apiGroups: [""]
                apiVersions: [v1]
                operations: [CREATE]
                resources: [pods]
          matchImageReferences:
            - glob: "\(registry)/*"
          attestors:
            - name: vault
              cosign:
                key:
                  kms: hashivault://cosign
                ctlog:
                  insecureIgnoreTlog: true
          attestations:
            - name: provenance
              intoto:
                type: \(provenance)
          validations:
            - expression: >-
                \(validations)
              message: image is not trusted
        """
    }

    static let signatures = "images.containers.all(i, verifyImageSignatures(i, [attestors.vault]) > 0)"
    static let attestations = "images.containers.all(i, verifyAttestationSignatures(i, attestations.provenance, [attestors.vault]) > 0)"

    static func engine(_ setup: RealRegistryTests.Setup, validations: String, failurePolicy: String = "Fail",
                       client: RegistryClient? = nil) throws -> PolicyEngine {
        let loaded = try PolicyLoader().load(yaml: policy(registry: setup.registry.host, validations: validations, failurePolicy: failurePolicy))
        let p = try #require(loaded.imageValidatingPolicies.first)
        #expect(!p.isInvalid, "\(p.diagnostics)")
        let cel = CELPolicyEngine(policies: [], imagePolicies: [p])
        #expect(cel.diagnostics.isEmpty, "\(cel.diagnostics)")
        return PolicyEngine(policies: [], verifier: CosignImageVerifier(client: client ?? setup.client, keyProviders: setup.keys), celEngine: cel)
    }

    @Test func signedAllowedUnsignedAndOtherKeyDenied() async throws {
        let setup = try await RealRegistryTests.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let engine = try Self.engine(setup, validations: Self.signatures)

        let signed = try await RealRegistryTests.push(setup, tag: "signed", sign: true)
        let unsigned = try await RealRegistryTests.push(setup, tag: "unsigned", sign: false)
        let otherKey = try await RealRegistryTests.push(setup, tag: "otherkey", sign: false)
        _ = try await ImageSigner(signer: try PrivateKey.generate()).signAndUpload(image: otherKey, store: SignatureStore(client: setup.client))

        let ok = await engine.evaluate(RealRegistryTests.pod("\(signed)").pod, admission: AdmissionInfo(operation: .create))
        #expect(!ok.blocked, "\(ok.blockMessage)")
        #expect(ok.policies.first?.rules.first?.status == .pass)
        for image in [unsigned, otherKey] {
            let denied = await engine.evaluate(RealRegistryTests.pod("\(image)").pod, admission: AdmissionInfo(operation: .create))
            #expect(denied.blocked)
            #expect(denied.policies.first?.rules.first?.status == .fail)
            #expect(denied.blockMessage.contains("image is not trusted"), "\(denied.blockMessage)")
        }
        // An image outside matchImageReferences is not verified (count 0, as Kyverno) and not planned.
        let plan = engine.verificationPlan(RealRegistryTests.pod("elsewhere.io/app:1").pod, admission: AdmissionInfo(operation: .create))
        #expect(plan.isEmpty)
    }

    @Test func attestedAllowedSignedOnlyAndOtherTypeDenied() async throws {
        let setup = try await RealRegistryTests.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let engine = try Self.engine(setup, validations: Self.attestations)

        let attested = try await RealRegistryTests.push(setup, tag: "attested", sign: false)
        try await RealRegistryTests.attest(setup, attested)
        let signedOnly = try await RealRegistryTests.push(setup, tag: "signed", sign: true)
        let otherType = try await RealRegistryTests.push(setup, tag: "other", sign: false)
        try await RealRegistryTests.attest(setup, otherType, predicate: "{}", type: .openVEX)

        let ok = await engine.evaluate(RealRegistryTests.pod("\(attested)").pod, admission: AdmissionInfo(operation: .create))
        #expect(!ok.blocked, "\(ok.blockMessage)")
        for image in [signedOnly, otherType] {
            let denied = await engine.evaluate(RealRegistryTests.pod("\(image)").pod, admission: AdmissionInfo(operation: .create))
            #expect(denied.blocked, "\(image)")
            #expect(denied.policies.first?.rules.first?.status == .fail)
        }
    }

    /// `signet serve` (buildApplication) with an ImageValidatingPolicy: its requests join the
    /// webhook's one plan (grouping, limits, deadline) and cache, signed images are admitted with
    /// their digest pinned by /mutate, unsigned ones denied, and a verified digest is answered
    /// from the cache once the registry is gone.
    @Test func servedImageValidatingPolicyVerifiesPinsAndCaches() async throws {
        let setup = try await RealRegistryTests.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let yaml = Self.policy(registry: setup.registry.host, validations: Self.signatures)
            .replacingOccurrences(of: "mutateDigest: false", with: "mutateDigest: true")
        let (hook, application) = try await TestWebhook.serving([yaml],
                                                                 verifier: CosignImageVerifier(client: setup.client, keyProviders: setup.keys))
        let signed = try await RealRegistryTests.push(setup, tag: "signed", sign: true)
        let unsigned = try await RealRegistryTests.push(setup, tag: "unsigned", sign: false)
        let byTag = "\(setup.registry.host)/shop/app:signed"
        let mutated = try await hook.review("/mutate", RealRegistryTests.pod(byTag))
        #expect(mutated.response?["allowed"] == true, "\(mutated.text)")
        #expect(mutated.response?["patch"] != nil, "mutateDigest pins the tag: \(mutated.text)")
        let validated = try await hook.review("/validate", RealRegistryTests.pod("\(signed)"))
        #expect(validated.response?["allowed"] == true, "\(validated.text)")
        let denied = try await hook.review("/validate", RealRegistryTests.pod("\(unsigned)"))
        #expect(denied.response?["allowed"] == false, "\(denied.text)")
        #expect((application.controller.verification?.cache.count ?? 0) >= 1)
        // The verified digest is answered from the cache: the registry is no longer asked.
        setup.registry.stop()
        let cached = try await hook.review("/validate", RealRegistryTests.pod("\(signed)"))
        #expect(cached.response?["allowed"] == true, "\(cached.text)")
        await hook.stop()
    }

    /// `serve` reads image data for the policies that ask for it (`image.GetMetadata`), from the
    /// real registry, before the pure evaluation: an amd64 image is admitted, an image the
    /// registry does not have is an error that failurePolicy Fail turns into a denial.
    @Test func servedPoliciesReadImageMetadataFromTheRegistry() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let client = RegistryClient()
        let image = TestImage(layerCount: 1)
        let ref = try Reference(parsing: "\(registry.host)/shop/app:1.0")
        _ = try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
        let policy = """
            apiVersion: policies.kyverno.io/v1
            kind: ValidatingPolicy
            metadata:
              name: amd64-only
            spec:
              validationActions: [Deny]
              failurePolicy: Fail
              matchConstraints:
                resourceRules:
                  - apiGroups: [""]
                    apiVersions: [v1]
                    operations: [CREATE]
                    resources: [pods]
              validations:
                - expression: "object.spec.containers.all(c, image.GetMetadata(c.image).config.architecture == 'amd64')"
                  message: only amd64 images
            """
        let (hook, _) = try await TestWebhook.serving([policy], verifier: nil, imageData: RegistryImageDataProvider(client: client))
        let allowed = try await hook.review("/validate", RealRegistryTests.pod("\(registry.host)/shop/app:1.0"))
        #expect(allowed.response?["allowed"] == true, "\(allowed.text)")
        let missing = try await hook.review("/validate", RealRegistryTests.pod("\(registry.host)/shop/none:1.0"))
        #expect(missing.response?["allowed"] == false, "\(missing.text)")
        await hook.stop()
    }

    /// The seed's ClusterPolicy and its migration decide alike over the real registry (signed,
    /// unsigned, signed with another key, another registry), verified by the real verifier.
    @Test func migratedSeedDecidesLikeTheClusterPolicy() async throws {
        let setup = try await RealRegistryTests.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let seed = try String(contentsOf: RepositoryPaths.root.appendingPathComponent("examples/seed/container-image-policy.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "REGISTRY", with: setup.registry.host)
        let original = try #require(try PolicyLoader().load(yaml: seed).policies.first)
        let out = PolicyMigration.migrate(original)
        let yaml = out.documents.map { $0.jsonString(sortedKeys: true, escapeHTML: false) }.joined(separator: "\n---\n")
        let migrated = try PolicyLoader().load(yaml: yaml)
        #expect(out.isComplete, "\(out.diagnostics)")
        #expect(migrated.imageValidatingPolicies.count == 1 && migrated.validatingPolicies.count == 1)
        _ = try await RealRegistryTests.push(setup, tag: "signed", sign: true)
        _ = try await RealRegistryTests.push(setup, tag: "unsigned", sign: false)
        let otherKey = try await RealRegistryTests.push(setup, tag: "otherkey", sign: false)
        _ = try await ImageSigner(signer: try PrivateKey.generate()).signAndUpload(image: otherKey, store: SignatureStore(client: setup.client))
        // tags, so that mutateDigest patches are compared too
        let pods = ["signed", "unsigned", "otherkey"].map { RealRegistryTests.pod("\(setup.registry.host)/shop/app:\($0)").pod }
            + [RealRegistryTests.pod("docker.io/library/ubuntu:22.04").pod]
        let verifier = CosignImageVerifier(client: setup.client, keyProviders: setup.keys)
        let differences = await PolicyMigration.check(original, migrated: migrated, convertedRules: out.convertedRules, resources: pods,
                                                      admission: AdmissionInfo(operation: .create), verifier: verifier)
        #expect(differences.isEmpty, "\(differences)")
        let engine = PolicyEngine(policies: [], verifier: verifier,
                                  celEngine: CELPolicyEngine(policies: migrated.validatingPolicies, imagePolicies: migrated.imageValidatingPolicies))
        #expect(await engine.evaluate(pods[0], admission: AdmissionInfo(operation: .create)).blocked == false)
        #expect(await engine.evaluate(pods[1], admission: AdmissionInfo(operation: .create)).blocked)
        #expect(await engine.evaluate(pods[2], admission: AdmissionInfo(operation: .create)).blocked)
    }

    /// An unreachable registry is a transport error: failurePolicy decides, never a pass.
    @Test(arguments: [("Fail", true), ("Ignore", false)])
    func unreachableRegistryIsAnError(failurePolicy: String, blocked: Bool) async throws {
        let setup = try await RealRegistryTests.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let signed = try await RealRegistryTests.push(setup, tag: "signed", sign: true)
        let engine = try Self.engine(setup, validations: Self.signatures, failurePolicy: failurePolicy)
        setup.registry.stop()
        let r = await engine.evaluate(RealRegistryTests.pod("\(signed)").pod, admission: AdmissionInfo(operation: .create))
        #expect(r.policies.first?.rules.first?.status == .error, "\(r.policies.first?.rules ?? [])")
        #expect(r.blocked == blocked)
    }

    // MARK: - Where Kyverno's users are hurting (issue 14)

    /// The served image validating policy with digest pinning (`mutateDigest`, `verifyDigest`),
    /// signatures read from `signatureRepository` when given (`cosign.source.repository`).
    static func servedPolicy(_ setup: RealRegistryTests.Setup, failurePolicy: String = "Fail", signatureRepository: String? = nil,
                             pin: Bool = false) -> String {
        var yaml = policy(registry: setup.registry.host, validations: signatures, failurePolicy: failurePolicy)
        if pin {
            yaml = yaml.replacingOccurrences(of: "mutateDigest: false", with: "mutateDigest: true")
                .replacingOccurrences(of: "verifyDigest: false", with: "verifyDigest: true")
        }
        if let signatureRepository {
            yaml = yaml.replacingOccurrences(of: "\n        ctlog:", with: "\n        source:\n          repository: \(signatureRepository)\n        ctlog:")
        }
        return yaml
    }

    /// Pushes an unsigned image and attaches a cosign v3 bundle signed with the OpenBao key as an
    /// OCI 1.1 referrer, in the image's repository or in `bundleRepository`: no `.sig` tag at all.
    static func pushBundleOnly(_ setup: RealRegistryTests.Setup, tag: String, bundleRepository: String? = nil) async throws -> Reference {
        let image = TestImage(layerCount: 1)
        let ref = try Reference(parsing: "\(setup.registry.host)/shop/app:\(tag)")
        let pinned = ref.withDigest(try await setup.client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref))
        let digest = try #require(pinned.digest)
        let bundle = try await setup.signer.bundle(image: pinned, digest: digest)
        let target = try bundleRepository.map { try Reference(parsing: $0).withDigest(digest) } ?? pinned
        _ = try await SignatureStore(client: setup.client).attachBundle(bundle, to: target, subjectMediaType: .ociManifest,
                                                                        subjectSize: Int64(image.manifestBytes.count))
        return pinned
    }

    /// Kyverno #17363 / #15950: signatures stored only as cosign v3 bundles (referrers, no `.sig`
    /// tag) verify, also when the bundle lives in another repository named by `cosign.source`;
    /// without `source` that image has no signature where the policy looks.
    @Test func bundleOnlySignaturesVerifyAlsoInAnotherRepository() async throws {
        let setup = try await RealRegistryTests.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let signatureRepository = "\(setup.registry.host)/shop/signatures"
        let here = try await Self.pushBundleOnly(setup, tag: "bundle-here")
        let elsewhere = try await Self.pushBundleOnly(setup, tag: "bundle-elsewhere", bundleRepository: signatureRepository)
        let sigTag = try SignatureStore.signatureReference(image: here, digest: try #require(here.digest), kind: .signature, signatureRepository: nil)
        #expect(try await setup.client.headManifest(sigTag) == nil, "no .sig tag: the bundle is the only signature")
        let verifier = CosignImageVerifier(client: setup.client, keyProviders: setup.keys)

        let (hook, _) = try await TestWebhook.serving([Self.servedPolicy(setup)], verifier: verifier)
        let ok = try await hook.review("/validate", RealRegistryTests.pod("\(here)"))
        #expect(ok.response?["allowed"] == true, "\(ok.text)")
        let notThere = try await hook.review("/validate", RealRegistryTests.pod("\(elsewhere)"))
        #expect(notThere.response?["allowed"] == false, "\(notThere.text)")
        await hook.stop()

        let (sourced, _) = try await TestWebhook.serving([Self.servedPolicy(setup, signatureRepository: signatureRepository)], verifier: verifier)
        let fromSource = try await sourced.review("/validate", RealRegistryTests.pod("\(elsewhere)"))
        #expect(fromSource.response?["allowed"] == true, "\(fromSource.text)")
        await sourced.stop()
    }

    /// The tag is moved to an unsigned image after the signed one was admitted and cached:
    /// `/mutate` pinned the signed digest; the tag now resolves to the unsigned image, which is
    /// denied (the cache is keyed by digest, never by tag); the pinned digest is still admitted by
    /// `/validate`, which verifies exactly the digest it is given; a tag-only image is denied there
    /// (`verifyDigest`: the mutating call may have been skipped).
    @Test func tagMovedAfterAdmissionIsDecidedByDigest() async throws {
        let setup = try await RealRegistryTests.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let (hook, _) = try await TestWebhook.serving([Self.servedPolicy(setup, pin: true)],
                                                      verifier: CosignImageVerifier(client: setup.client, keyProviders: setup.keys))
        let signed = try await RealRegistryTests.push(setup, tag: "v1", sign: true)
        let byTag = "\(setup.registry.host)/shop/app:v1"
        let first = try await hook.review("/mutate", RealRegistryTests.pod(byTag))
        #expect(first.response?["allowed"] == true, "\(first.text)")
        let patch = first.response?["patch"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
        #expect(patch.contains("\(try #require(signed.digest))"), "the patch pins the verified digest: \(patch)")

        let moved = try await RealRegistryTests.push(setup, tag: "v1", sign: false)
        #expect(moved.digest != signed.digest)
        let afterMove = try await hook.review("/mutate", RealRegistryTests.pod(byTag))
        #expect(afterMove.response?["allowed"] == false, "the moved tag names an unsigned image: \(afterMove.text)")
        let pinned = try await hook.review("/validate", RealRegistryTests.pod("\(signed)"))
        #expect(pinned.response?["allowed"] == true, "\(pinned.text)")
        let movedPinned = try await hook.review("/validate", RealRegistryTests.pod("\(moved)"))
        #expect(movedPinned.response?["allowed"] == false, "\(movedPinned.text)")
        let tagOnly = try await hook.review("/validate", RealRegistryTests.pod(byTag))
        #expect(tagOnly.response?["allowed"] == false, "\(tagOnly.text)")
        await hook.stop()
    }

    /// Kyverno #16336: a client-written annotation claiming the images were verified
    /// (`kyverno.io/image-verification-outcomes`, `kyverno.io/verify-images`) is never read: the
    /// validating pass verifies for itself, so an unsigned image is denied when the mutating call
    /// was skipped, under either failurePolicy and for both policy forms.
    @Test(arguments: ["ImageValidatingPolicy", "ClusterPolicy"], ["Fail", "Ignore"])
    func forgedOutcomeAnnotationsAreNeverTrusted(form: String, failurePolicy: String) async throws {
        let setup = try await RealRegistryTests.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let policy = form == "ClusterPolicy"
            ? RealRegistryTests.policy(registry: setup.registry.host, failurePolicy: failurePolicy)
            : Self.servedPolicy(setup, failurePolicy: failurePolicy)
        let (hook, _) = try await TestWebhook.serving([policy], verifier: CosignImageVerifier(client: setup.client, keyProviders: setup.keys))
        let unsigned = try await RealRegistryTests.push(setup, tag: "unsigned", sign: false)
        var pod = RealRegistryTests.pod("\(unsigned)")
        pod.annotations = [
            "kyverno.io/image-verification-outcomes": #"{"check-images":{"\#(unsigned)":{"status":"pass"}}}"#,
            "kyverno.io/verify-images": #"{"\#(unsigned)":"pass"}"#,
        ]
        let denied = try await hook.review("/validate", pod)
        #expect(denied.response?["allowed"] == false, "\(denied.text)")
        await hook.stop()
    }
}
