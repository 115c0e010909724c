import Foundation
import SignetOCI
import SignetTestSupport
import Testing
@testable import SignetSigning

/// cosign v3 signatures: there is no cosign binary here, so the fixtures are built in the test by
/// signing a DSSE envelope over an in-toto statement with a test key.
@Suite("cosign v3 Sigstore bundles")
struct SigstoreBundleTests {
    @Test func paeIsTheDSSEEncoding() {
        let pae = DSSEEnvelope.preAuthenticationEncoding(payloadType: "http://example.com/HelloWorld", payload: Data("hello world".utf8))
        // The example in secure-systems-lab/dsse protocol.md.
        #expect(String(decoding: pae, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    }

    @Test func bundleRoundTrips() async throws {
        let key = try PrivateKey.generate()
        let image = try Reference(parsing: "r.example/app@sha256:\(String(repeating: "b", count: 64))")
        let data = try await ImageSigner(signer: key).bundle(image: image, digest: image.digest!)
        let bundle = try SigstoreBundle(parsing: data)
        #expect(bundle.mediaType == "application/vnd.dev.sigstore.bundle.v0.3+json")
        guard case .dsseEnvelope(let envelope) = bundle.content else { Issue.record("no dsse"); return }
        #expect(try await envelope.verify(with: key.verifyingKey))
        #expect(try await !envelope.verify(with: try PrivateKey.generate().verifyingKey))
        let statement = try InTotoStatement(parsing: try #require(envelope.payloadBytes))
        #expect(statement.predicateType == InTotoStatement.cosignSignPredicateType)
        #expect(statement.subjects.first?.digest == ["sha256": String(repeating: "b", count: 64)])
    }

    /// Writes `image` and a bundle referrer into a layout.
    func layoutWithBundle(_ bundle: Data, image: TestImage, subject: Digest? = nil) throws -> (OCILayout, URL) {
        let dir = try temporaryDirectory()
        let layout = try image.writeLayout(to: dir, annotations: [LayoutSignatureSource.kindAnnotation: LayoutSignatureSource.imageKind])
        let subjectDescriptor = Descriptor(mediaType: .ociManifest, digest: subject ?? image.digest, size: Int64(image.manifestBytes.count))
        let manifest = SigstoreBundle.referrerManifest(bundle: bundle, subject: subjectDescriptor,
                                                       predicateType: InTotoStatement.cosignSignPredicateType, created: "2026-01-01T00:00:00Z")
        try layout.writeBlob(Data("{}".utf8))
        try layout.writeBlob(bundle)
        let bytes = manifest.jsonData()
        try layout.writeBlob(bytes)
        try layout.appendToIndex(Descriptor(mediaType: .ociManifest, digest: .sha256(bytes), size: Int64(bytes.count), artifactType: .sigstoreBundle))
        return (layout, dir)
    }

    @Test func bundleInALayoutVerifies() async throws {
        let key = try PrivateKey.generate()
        let image = TestImage(layerCount: 1, layerSize: 32)
        let ref = try Reference(parsing: "r.example/app@\(image.digest)")
        let bundle = try await ImageSigner(signer: key).bundle(image: ref, digest: image.digest)
        let (layout, dir) = try layoutWithBundle(bundle, image: image)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try await ImageSignatureVerifier().verify(layout: layout, verifier: key.verifyingKey)
        #expect(outcome.kind == .verified)
        #expect(outcome.signatures.map(\.format) == [.sigstoreBundle])
        let other = try await ImageSignatureVerifier().verify(layout: layout, verifier: try PrivateKey.generate().verifyingKey)
        #expect(other.kind == .noMatchingSignatures)
    }

    @Test func bundleForAnotherDigestIsRejected() async throws {
        let key = try PrivateKey.generate()
        let image = TestImage(layerCount: 1, layerSize: 32)
        let otherDigest = Digest.sha256(Data("other".utf8))
        let ref = try Reference(parsing: "r.example/app@\(otherDigest)")
        // Statement names another digest, referrer subject is this image.
        let bundle = try await ImageSigner(signer: key).bundle(image: ref, digest: otherDigest)
        let (layout, dir) = try layoutWithBundle(bundle, image: image)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try await ImageSignatureVerifier().verify(layout: layout, verifier: key.verifyingKey)
        #expect(outcome.kind == .noMatchingSignatures)
        #expect(outcome.rejections.first?.reason.contains("subject") == true)
    }

    @Test func attestationOfAnotherPredicateIsNotASignature() async throws {
        let key = try PrivateKey.generate()
        let image = TestImage(layerCount: 1, layerSize: 32)
        let statement = InTotoStatement(subjects: [.init(name: "r.example/app", digest: ["sha256": image.digest.encoded])],
                                        predicateType: "https://slsa.dev/provenance/v1")
        let envelope = try await DSSEEnvelope.sign(payload: statement.encoded(), with: key)
        let bundle = SigstoreBundle(content: .dsseEnvelope(envelope)).encoded()
        let (layout, dir) = try layoutWithBundle(bundle, image: image)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try await ImageSignatureVerifier().verify(layout: layout, verifier: key.verifyingKey)
        #expect(outcome.kind == .noMatchingSignatures)
    }

    @Test func bundleAsReferrerInARegistryVerifiesBesideClassic() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, test) = try await reg.pushImage()
        let key = try PrivateKey.generate()
        let signer = ImageSigner(signer: key)
        // v3 only first: found through the referrers API or the sha256-HEX fallback index.
        let bundle = try await signer.bundle(image: image, digest: image.digest!)
        try await reg.store.attachBundle(bundle, to: image, subjectMediaType: .ociManifest, subjectSize: Int64(test.manifestBytes.count))
        let v3 = try await reg.verify(image, key: key.verifyingKey)
        #expect(v3.kind == .verified)
        #expect(v3.signatures.map(\.format) == [.sigstoreBundle])
        // Then a classic one too: both are reported with their format.
        _ = try await signer.signAndUpload(image: image, store: reg.store)
        let both = try await reg.verify(image, key: key.verifyingKey)
        #expect(both.signatures.map(\.format) == [.cosign, .sigstoreBundle])
        // Another key verifies neither.
        #expect(try await reg.verify(image, key: try PrivateKey.generate().verifyingKey).kind == .noMatchingSignatures)
    }
}
