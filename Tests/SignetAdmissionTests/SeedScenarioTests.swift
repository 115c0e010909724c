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

/// The seed scenario end to end, as `scripts/demo` replays it: the seed's ClusterPolicy file
/// (examples/seed, registry host substituted), the seed's least-privilege Vault token, a signature
/// made by the `signet sign` binary with `hashivault://cosign`, and the seed's three Pods through
/// the HTTPS webhook with the real verifier.
@Suite("Seed scenario end to end", .serialized)
struct SeedScenarioTests {
    @Test func theSeedsThreePodsGiveTheSeedsThreeOutcomes() async throws {
        let registry = try RegistryServer()
        let bao = try await OpenBaoServer()
        defer { registry.stop(); bao.stop() }
        try await bao.enableTransit()
        try await bao.createTransitKey("cosign")
        try await bao.writePolicy("cosign", OpenBaoServer.cosignPolicy)
        let token = try await bao.createToken(policies: ["cosign"])

        // Two images in the trusted registry; only one is signed, by the CLI as CI does it.
        let client = RegistryClient()
        var digests: [String: Digest] = [:]
        for name in ["signed", "unsigned"] {
            let image = TestImage(layerCount: 1)
            let ref = try Reference(parsing: "\(registry.host)/demo/\(name):1.0")
            digests[name] = try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
        }
        let environment = ["VAULT_ADDR": bao.address, "VAULT_TOKEN": token, "HOME": NSTemporaryDirectory()]
        let sign = try CommandRunner.signet(["sign", "--key", "hashivault://cosign", "--tlog-upload=false",
                                             "\(registry.host)/demo/signed@\(digests["signed"]!)"], environment: environment)
        #expect(sign.status == 0, "\(sign.stderr)")

        // The webhook with the seed's policy file, verifying through the same least-privilege token.
        let yaml = try String(contentsOf: RepositoryPaths.root.appendingPathComponent("examples/seed/container-image-policy.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "REGISTRY", with: registry.host)
        let vault = try VaultClient(configuration: try VaultConfiguration(address: bao.address), credential: .token(VaultToken(token)))
        let keys = KeyProviderRegistry(providers: ["hashivault": HashiVaultKeyProvider(client: vault)])
        let (hook, _) = try await TestWebhook.serving([yaml], verifier: CosignImageVerifier(client: client, keyProviders: keys))

        func pod(_ name: String, _ image: String) -> AdmissionRequestBuilder {
            var b = AdmissionRequestBuilder()
            b.name = name
            b.images = [image]
            return b
        }

        // 1. ubuntu: not from the trusted registry -> denied by the validate rule.
        let ubuntu = try await hook.review("/validate", pod("ubuntu", "ubuntu"))
        #expect(ubuntu.response?["allowed"] == false)
        let ubuntuMessage = ubuntu.response?["status"]?["message"]?.stringValue ?? ""
        #expect(ubuntuMessage.contains("resource Pod/default/ubuntu was blocked due to the following policies"), "\(ubuntuMessage)")
        #expect(ubuntuMessage.contains("check-registry: 'validation error: Unknown image registry. rule check-registry failed at path /spec/containers/0/image/'"), "\(ubuntuMessage)")

        // 2. unsigned image from the trusted registry -> denied by verifyImages.
        let unsignedImage = "\(registry.host)/demo/unsigned:1.0"
        let unsigned = try await hook.review("/mutate", pod("unsigned", unsignedImage))
        #expect(unsigned.response?["allowed"] == false)
        let unsignedMessage = unsigned.response?["status"]?["message"]?.stringValue ?? ""
        #expect(unsignedMessage.contains("check-image-signature: 'failed to verify image \(unsignedImage): .attestors[0].entries[0].keys: no signatures found'"), "\(unsignedMessage)")

        // 3. signed image -> allowed, the tag pinned to exactly the verified digest, then validated.
        let signedImage = "\(registry.host)/demo/signed:1.0"
        let signed = try await hook.review("/mutate", pod("signed", signedImage))
        #expect(signed.response?["allowed"] == true, "\(signed.text)")
        let patch = signed.response?["patch"]?.stringValue.flatMap { Data(base64Encoded: $0) }.flatMap { try? JSONValue(json: $0) }
        let pinned = "\(signedImage)@\(digests["signed"]!)"
        #expect(patch?.arrayValue?.first?["value"] == .string(pinned))
        let validated = try await hook.review("/validate", pod("signed", pinned))
        #expect(validated.response?["allowed"] == true, "\(validated.text)")
        await hook.stop()
        try await vault.shutdown()
    }
}
