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

/// The webhook with the real `CosignImageVerifier`: a real docker-registry, cosign signatures made
/// with an OpenBao transit key (`kms: hashivault://cosign`), everything over loopback.
@Suite("Webhook against a real registry and OpenBao", .serialized)
struct RealRegistryTests {
    static func policy(registry: String, failurePolicy: String = "Fail") -> String {
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: check-image
        spec:
          validationFailureAction: Enforce
          failurePolicy: \(failurePolicy)
          webhookTimeoutSeconds: 10
          rules:
            - name: check-image
              match:
                any:
                  - resources:
                      kinds: [Pod]
              verifyImages:
                - imageReferences: ["\(registry)/*"]
                  attestors:
                    - count: 1
                      entries:
                        - keys:
                            kms: hashivault://cosign
                            rekor:
                              ignoreTlog: true
        """
    }

    struct Setup {
        let registry: RegistryServer
        let bao: OpenBaoServer
        let client: RegistryClient
        let keys: KeyProviderRegistry
        let signer: ImageSigner
    }

    /// The registry (open, or with `auth`: then `client` logs in, so pushes and signing work), an
    /// OpenBao with the transit key `cosign`, and a signer over it. Shared by the real-registry
    /// suites (ClusterPolicy, attestations, image validating policies, registry credentials).
    static func setUp(auth: RegistryServer.Auth = .open) async throws -> Setup {
        let registry = try RegistryServer(auth: auth)
        let bao = try await OpenBaoServer()
        try await bao.enableTransit()
        try await bao.createTransitKey("cosign")
        let vault = try VaultClient(configuration: try VaultConfiguration(address: bao.address),
                                    credential: .token(VaultToken(bao.rootToken)))
        let provider = HashiVaultKeyProvider(client: vault)
        let keys = KeyProviderRegistry(providers: ["hashivault": provider])
        let signer = ImageSigner(signer: try await keys.signer(for: "hashivault://cosign"))
        var client = RegistryClient()
        if case .basic(let username, let password) = auth {
            client = RegistryClient(credentials: CredentialStore(auths: [registry.host: Credential(username: username, password: password)]))
        }
        return Setup(registry: registry, bao: bao, client: client, keys: keys, signer: signer)
    }

    /// Pushes a fresh image to `tag` and returns its digest reference.
    static func push(_ setup: Setup, tag: String, sign: Bool) async throws -> Reference {
        let image = TestImage(layerCount: 1)
        let ref = try Reference(parsing: "\(setup.registry.host)/shop/app:\(tag)")
        let digest = try await setup.client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
        let pinned = ref.withDigest(digest)
        if sign {
            _ = try await setup.signer.signAndUpload(image: pinned, store: SignatureStore(client: setup.client))
        }
        return pinned
    }

    static func harness(_ setup: Setup, failurePolicy: String = "Fail") async throws -> (TestWebhook, AdmissionController) {
        let (hook, application) = try await TestWebhook.serving(
            [policy(registry: setup.registry.host, failurePolicy: failurePolicy)],
            verifier: CosignImageVerifier(client: setup.client, keyProviders: setup.keys))
        return (hook, application.controller)
    }

    /// Attests `image` (digest-pinned) with the OpenBao key: an in-toto statement of `type`
    /// in the `.att` tag.
    static func attest(_ setup: Setup, _ image: Reference, predicate: String = #"{"builder":"ci"}"#,
                       type: AttestationPredicateType = .slsaProvenance1) async throws {
        let attester = ImageAttester(signer: try await setup.keys.signer(for: "hashivault://cosign"))
        let digest = try #require(image.digest)
        try await attester.upload(try await attester.attest(image: image, digest: digest, predicate: Data(predicate.utf8), type: type),
                                  to: image, store: SignatureStore(client: setup.client))
    }

    static func pod(_ image: String) -> AdmissionRequestBuilder {
        var b = AdmissionRequestBuilder()
        b.images = [image]
        return b
    }

    @Test func tagMovedToAnUnsignedImageAfterTheSignedOneWasAdmittedAndCached() async throws {
        let setup = try await Self.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let (hook, controller) = try await Self.harness(setup)
        let signed = try await Self.push(setup, tag: "v1", sign: true)
        let tagged = "\(setup.registry.host)/shop/app:v1"

        // Admitted, pinned to the signed digest, and cached.
        let first = try await hook.review("/mutate", Self.pod(tagged))
        #expect(first.response?["allowed"] == true, "\(first.text)")
        let patch = first.response?["patch"]?.stringValue.flatMap { Data(base64Encoded: $0) }.flatMap { try? JSONValue(json: $0) }
        #expect(patch?.arrayValue?.first?["value"] == .string("\(tagged)@\(signed.digest!)"))
        #expect(controller.verification?.cache.count == 1)

        // The tag now names an unsigned image: the cached success must not apply.
        let unsigned = try await Self.push(setup, tag: "v1", sign: false)
        #expect(unsigned.digest != signed.digest)
        let second = try await hook.review("/mutate", Self.pod(tagged))
        #expect(second.response?["allowed"] == false)
        let message = second.response?["status"]?["message"]?.stringValue ?? ""
        #expect(message.contains("failed to verify image \(tagged): .attestors[0].entries[0].keys: no signatures found"), "\(message)")
        // The signed digest itself is still admitted (cache hit).
        #expect(try await hook.review("/validate", Self.pod("\(tagged)@\(signed.digest!)")).response?["allowed"] == true)
        await hook.stop()
    }

    @Test func vaultAndRegistryOutagesAreHandledByFailurePolicy() async throws {
        let setup = try await Self.setUp()
        defer { setup.registry.stop(); setup.bao.stop() }
        let (hook, _) = try await Self.harness(setup, failurePolicy: "Fail")
        let (ignoring, _) = try await Self.harness(setup, failurePolicy: "Ignore")
        _ = try await Self.push(setup, tag: "v2", sign: true)
        let tagged = "\(setup.registry.host)/shop/app:v2"

        // Vault down: the verifier for hashivault://cosign cannot be made.
        setup.bao.stop()
        let denied = try await hook.review("/mutate", Self.pod(tagged))
        #expect(denied.response?["allowed"] == false)
        let message = denied.response?["status"]?["message"]?.stringValue ?? ""
        #expect(message.contains("failed to verify image \(tagged): .attestors[0].entries[0].keys:"), "\(message)")
        let allowed = try await ignoring.review("/mutate", Self.pod(tagged))
        #expect(allowed.response?["allowed"] == true)
        #expect(allowed.response?["warnings"]?.arrayValue?.isEmpty == false)

        // Registry down.
        setup.registry.stop()
        let deniedRegistry = try await hook.review("/mutate", Self.pod("\(setup.registry.host)/shop/app:v3"))
        #expect(deniedRegistry.response?["allowed"] == false)
        #expect(try await ignoring.review("/mutate", Self.pod("\(setup.registry.host)/shop/app:v3")).response?["allowed"] == true)
        await hook.stop()
        await ignoring.stop()
    }
}
