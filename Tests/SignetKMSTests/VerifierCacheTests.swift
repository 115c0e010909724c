import Foundation
import SignetKMS
import SignetSigning
import SignetTestSupport
import Testing

/// The HashiVault/OpenBao provider keeps one verifier (one key cache) per key, against a real OpenBao.
@Suite struct VerifierCacheTests {
    /// Two verifications through the registry (as the admission verifier does, once per image) read
    /// the key once, for both schemes of the same key.
    @Test func twoVerificationsReadTheKeyOnce() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        try await withRootClient(server) { client in
            let provider = HashiVaultKeyProvider(client: client)
            let registry = KeyProviderRegistry(providers: ["hashivault": provider, "openbao": provider])
            let signature = try await TransitSigner(client: client, keyName: "cosign").sign(samplePayload())
            let first = try await registry.verifier(for: "hashivault://cosign")
            let second = try await registry.verifier(for: "openbao://cosign")
            #expect(try await first.verify(signature: signature, payload: samplePayload()))
            #expect(try await second.verify(signature: signature, payload: samplePayload()))
            let verifier = try provider.transitVerifier(for: KeyReference(parsing: "hashivault://cosign"))
            #expect(verifier === (first as? TransitVerifier) && verifier === (second as? TransitVerifier))
            #expect(verifier.keyReads == 1)
        }
    }

    /// A signature of a version made after the key was cached verifies once the TTL has passed.
    @Test func rotationIsSeenAfterTheTTL() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        try await withRootClient(server) { client in
            let provider = HashiVaultKeyProvider(client: client, options: .init(cacheTTL: .seconds(2)))
            let reference = try KeyReference(parsing: "hashivault://cosign")
            let signer = TransitSigner(client: client, keyName: "cosign")
            let v1 = try await signer.sign(samplePayload(1))
            #expect(try await provider.verifier(for: reference).verify(signature: v1, payload: samplePayload(1)))

            try await server.rotateTransitKey("cosign")
            let v2 = try await signer.sign(samplePayload(2))
            #expect(signer.lastKeyVersion == 2)
            // Within the TTL the cached key (version 1 only) is used: no read, no match yet.
            #expect(try await provider.verifier(for: reference).verify(signature: v2, payload: samplePayload(2)) == false)
            #expect(try provider.transitVerifier(for: reference).keyReads == 1)

            try await Task.sleep(for: .milliseconds(2200))
            #expect(try await provider.verifier(for: reference).verify(signature: v2, payload: samplePayload(2)))
            #expect(try await provider.verifier(for: reference).verify(signature: v1, payload: samplePayload(1)))
            #expect(try provider.transitVerifier(for: reference).keyReads == 2)
        }
    }
}
