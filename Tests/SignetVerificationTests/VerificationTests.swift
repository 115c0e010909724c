import Foundation
import SignetKMS
import SignetOCI
import SignetPolicy
import SignetSigning
import SignetTestSupport
import SignetVerification
import Testing

/// The classification table (README, "Errors and failures"): only transport is an error.
struct VerificationErrorsTests {
    static let image = (try? Reference(parsing: "registry.example/shop/app:v1"))

    static let cases: [(String, any Error & Sendable, ImageVerificationResult.Status)] = [
        ("registry unreachable", SignetOCIError(.transport, "connection refused"), .error),
        ("401: the registry refuses access (Kyverno: a failure)", SignetOCIError(.unauthorized, "unauthorized"), .notVerified),
        ("429", SignetOCIError(.tooManyRequests, "slow down"), .error),
        ("missing credentials", SignetOCIError(.credentials, "no helper"), .error),
        ("500", SignetOCIError(.registryError, "internal", status: 500), .error),
        ("400", SignetOCIError(.registryError, "bad request", status: 400), .notVerified),
        ("404", SignetOCIError(.notFound, "manifest unknown"), .notVerified),
        ("junk manifest", SignetOCIError(.invalidFormat, "not json"), .notVerified),
        ("digest mismatch", SignetOCIError(.digestMismatch, "lying registry"), .notVerified),
        ("vault down", SignetKMSError(.unreachable, "connection refused"), .error),
        ("vault sealed", SignetKMSError(.sealed, "sealed"), .error),
        ("vault login", SignetKMSError(.loginFailed, "bad role"), .error),
        ("vault key missing", SignetKMSError(.keyNotFound, "no key"), .notVerified),
        ("bad signature", SignetSigningError(.invalidSignature, "bad"), .notVerified),
        ("too many layers", SignetSigningError(.limitExceeded, "101 layers"), .notVerified),
        ("registry through signing", SignetSigningError(.registry, "wrapped", underlying: SignetOCIError(.transport, "reset")), .error),
        ("junk through signing", SignetSigningError(.registry, "wrapped", underlying: SignetOCIError(.invalidFormat, "junk")), .notVerified),
        ("anything else", CancellationError(), .error),
    ]

    @Test(arguments: 0..<cases.count)
    func classification(index: Int) throws {
        let (name, error, status) = Self.cases[index]
        let image = try #require(Self.image)
        #expect(VerificationErrors.result(for: error, image: image).status == status, "\(name)")
    }

    @Test func layersAreLabelsWithoutMessages() {
        #expect(VerificationErrors.layer(of: SignetOCIError(.transport, "secret-host")) == "registry")
        #expect(VerificationErrors.layer(of: SignetKMSError(.server, "x")) == "kms")
        #expect(VerificationErrors.layer(of: SignetSigningError(.invalidKey, "x")) == "signing")
        #expect(VerificationErrors.layer(of: CancellationError()) == "other")
    }
}

/// `CosignImageVerifier` against a real docker-registry: the layer `apply`, `test` and `serve`
/// share, without the webhook around it.
@Suite(.serialized)
struct CosignImageVerifierTests {
    @Test func signedUnsignedAndOtherKey() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let client = RegistryClient()
        let key = try PrivateKey.generate()
        let other = try PrivateKey.generate()
        let pem = try await key.publicKey().pemRepresentation
        let otherPEM = try await other.publicKey().pemRepresentation
        func push(_ tag: String) async throws -> Reference {
            let image = TestImage(layerCount: 1)
            let ref = try Reference(parsing: "\(registry.host)/shop/app:\(tag)")
            return ref.withDigest(try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref))
        }
        let signed = try await push("signed")
        _ = try await ImageSigner(signer: key).signAndUpload(image: signed, store: SignatureStore(client: client))
        let unsigned = try await push("unsigned")
        let verifier = CosignImageVerifier(client: client, keyProviders: KeyProviderRegistry(providers: [:]))
        func request(_ ref: Reference, _ pem: String) -> ImageVerificationRequest {
            ImageVerificationRequest(image: ref.description, reference: ref, key: .publicKey(pem))
        }
        let ok = try await verifier.verify(request(signed, pem))
        #expect(ok.status == .verified && ok.digest == signed.digest?.description)
        let wrongKey = try await verifier.verify(request(signed, otherPEM))
        #expect(wrongKey.status == .notVerified && wrongKey.message.hasPrefix("no matching signatures"), "\(wrongKey)")
        let none = try await verifier.verify(request(unsigned, pem))
        #expect(none.status == .notVerified && none.message == "no signatures found", "\(none)")
        // Tags resolve by re-hashing the manifest the registry serves.
        let tag = try Reference(parsing: "\(registry.host)/shop/app:signed")
        #expect(try await verifier.resolveDigest(tag) == signed.digest)
        let missing = try await verifier.verify(request(try Reference(parsing: "\(registry.host)/shop/none:v1"), pem))
        #expect(missing.status == .notVerified, "\(missing)")
        // A registry that cannot be reached is an error (failurePolicy decides), not a failure.
        registry.stop()
        let down = try await verifier.verify(request(signed, pem))
        #expect(down.status == .error, "\(down)")
    }
}
