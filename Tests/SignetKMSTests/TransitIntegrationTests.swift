import Foundation
import SignetKMS
import SignetSigning
import SignetTestSupport
import Testing

/// Signing and verification through a real OpenBao transit engine, with the seed's
/// least-privilege policy (FORMATS.md §3).
@Suite struct TransitIntegrationTests {
    @Test func signsWithLeastPrivilegeTokenAndVerifiesLocallyRemotelyAndWithPublicKey() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        let token = try await server.createToken(policies: ["cosign"])
        try await withClient(server, .token(VaultToken(token))) { client in
            let signer = TransitSigner(client: client, keyName: "cosign")
            let payload = samplePayload()
            let signature = try await signer.sign(payload)
            #expect(signer.lastKeyVersion == 1)
            // DER ECDSA: SEQUENCE of two INTEGERs.
            #expect(signature.first == 0x30)

            let local = TransitVerifier(client: client, keyName: "cosign")
            #expect(try await local.verify(signature: signature, payload: payload))
            #expect(try await local.verify(signature: signature, payload: samplePayload(1)) == false)
            #expect(try await local.verify(signature: Data("garbage".utf8), payload: payload) == false)

            let remote = TransitVerifier(client: client, keyName: "cosign", mode: .remote)
            #expect(try await remote.verify(signature: signature, payload: payload))
            #expect(try await remote.verify(signature: signature, payload: samplePayload(1)) == false)

            // The public key (signer and raw transit answer) verifies with SignetSigning alone.
            let publicKey = try await signer.publicKey()
            #expect(publicKey.algorithm == .ecdsaP256)
            #expect(publicKey.isValidSignature(signature, for: payload))
            let answer = try await server.api("GET", "transit/keys/cosign")
            let keys = try #require((answer["data"] as? [String: Any])?["keys"] as? [String: Any])
            let pem = try #require((keys["1"] as? [String: Any])?["public_key"] as? String)
            #expect(try PublicKey(pemRepresentation: pem).isValidSignature(signature, for: payload))
        }
    }

    @Test func signaturesSurviveRotationUntilMinDecryptionVersionRetiresThem() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        let token = try await server.createToken(policies: ["cosign"])
        try await withClient(server, .token(VaultToken(token))) { client in
            let signer = TransitSigner(client: client, keyName: "cosign")
            let payload = samplePayload(3)
            let old = try await signer.sign(payload)
            #expect(signer.lastKeyVersion == 1)

            try await server.rotateTransitKey("cosign")
            let new = try await signer.sign(payload)
            #expect(signer.lastKeyVersion == 2)
            // cosign/Kyverno only use the latest public key: the old signature fails there.
            let latest = try await signer.publicKey()
            #expect(latest.isValidSignature(old, for: payload) == false)
            #expect(latest.isValidSignature(new, for: payload))

            for mode in [TransitVerifier.Mode.local, .remote] {
                let verifier = TransitVerifier(client: client, keyName: "cosign", mode: mode, cacheTTL: .zero)
                #expect(try await verifier.verifyingVersion(signature: old, payload: payload) == 1, "mode \(mode)")
                #expect(try await verifier.verifyingVersion(signature: new, payload: payload) == 2, "mode \(mode)")
            }

            try await server.setMinDecryptionVersion("cosign", 2)
            for mode in [TransitVerifier.Mode.local, .remote] {
                let verifier = TransitVerifier(client: client, keyName: "cosign", mode: mode, cacheTTL: .zero)
                #expect(try await verifier.verify(signature: old, payload: payload) == false, "mode \(mode)")
                #expect(try await verifier.verify(signature: new, payload: payload), "mode \(mode)")
            }
        }
    }

    @Test func cachedVerifierPicksUpRotationWhenASignatureDoesNotVerify() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        try await withRootClient(server) { client in
            let verifier = TransitVerifier(client: client, keyName: "cosign", cacheTTL: .seconds(3600), refreshOnMissAfter: .zero)
            let signer = TransitSigner(client: client, keyName: "cosign")
            let first = try await signer.sign(samplePayload())
            #expect(try await verifier.verify(signature: first, payload: samplePayload()))
            try await server.rotateTransitKey("cosign")
            let second = try await signer.sign(samplePayload())
            #expect(signer.lastKeyVersion == 2)
            #expect(try await verifier.verify(signature: second, payload: samplePayload()))
        }
    }

    @Test func keyProviderCreatesSignsAndVerifiesForBothSchemes() async throws {
        let server = try await OpenBaoServer()
        defer { server.stop() }
        try await server.enableTransit()
        try await withRootClient(server) { client in
            let provider = HashiVaultKeyProvider(client: client)
            let registry = KeyProviderRegistry(providers: ["hashivault": provider, "openbao": provider])
            let created = try await registry.createKey(for: KeyReference(parsing: "hashivault://release-key"))
            #expect(created.algorithm == .ecdsaP256)
            let info = try await client.transitKey("release-key")
            #expect(info.type == "ecdsa-p256")
            // A second call keeps the existing key.
            #expect(try await registry.createKey(for: KeyReference(parsing: "openbao://release-key")) == created)

            let signer = try await registry.signer(for: "openbao://release-key")
            let signature = try await signer.sign(samplePayload())
            let verifier = try await registry.verifier(for: "hashivault://release-key")
            #expect(try await verifier.verify(signature: signature, payload: samplePayload()))
            #expect(created.isValidSignature(signature, for: samplePayload()))
        }
    }

    @Test(arguments: ["hashivault://", "hashivault://a/b", "hashivault://-x", "hashivault://x?y", "openbao://x y"])
    func rejectsMalformedKeyReferences(_ text: String) throws {
        // Each is refused, whether by the generic reference parser or by the provider's key-name rule.
        let error = #expect(throws: (any Error).self) { try HashiVaultKeyProvider.keyName(KeyReference(parsing: text)) }
        #expect(error is SignetKMSError || error is SignetSigningError, "\(text): unexpected error \(String(describing: error))")
    }

    @Test(arguments: ["ecdsa-p384", "ecdsa-p521", "ed25519", "rsa-2048"])
    func otherSigningKeyTypesVerifyWithSignetSigning(_ type: String) async throws {
        let server = try await OpenBaoServer()
        defer { server.stop() }
        try await server.enableTransit()
        try await server.createTransitKey("k", type: type)
        try await withRootClient(server) { client in
            let signer = TransitSigner(client: client, keyName: "k")
            let signature = try await signer.sign(samplePayload())
            #expect(try await signer.publicKey().isValidSignature(signature, for: samplePayload()))
            #expect(try await TransitVerifier(client: client, keyName: "k").verify(signature: signature, payload: samplePayload()))
            #expect(try await TransitVerifier(client: client, keyName: "k", mode: .remote).verify(signature: signature, payload: samplePayload()))
        }
    }
}
