import Foundation
import SignetOCI
import SignetTestSupport
import Testing
@testable import SignetSigning

@Suite("Signing and verifying against a real registry")
struct RegistrySignatureTests {
    @Test func signThenVerify() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let key = try PrivateKey.generate()
        let (signed, result) = try await ImageSigner(signer: key).signAndUpload(image: image, store: reg.store)
        guard case .added = result else { Issue.record("expected .added, got \(result)"); return }
        #expect(String(decoding: signed.payload, as: UTF8.self)
            == #"{"critical":{"identity":{"docker-reference":"\#(reg.server.host)/app"},"image":{"docker-manifest-digest":"\#(image.digest!)"},"type":"cosign container image signature"},"optional":null}"#)

        let outcome = try await reg.verify(image, key: key.verifyingKey)
        #expect(outcome.kind == .verified)
        #expect(outcome.signatures.count == 1)
        #expect(outcome.signatures.first?.format == .cosign)
        #expect(outcome.signatures.first?.payload == signed.payload)

        // By tag too (resolved to the same digest).
        let byTag = try await reg.verify(try image.repositoryOnly.withTag("v1"), key: key.verifyingKey)
        #expect(byTag.kind == .verified)

        // The stored layout is cosign's: OCI manifest, config with one history entry per layer.
        let fetched = try await reg.client.getManifest(try SignatureStore.signatureReference(image: image, digest: image.digest!))
        let manifest = try ImageManifest(decoding: fetched.bytes)
        #expect(manifest.mediaType == .ociManifest)
        #expect(manifest.config.mediaType == .ociConfig)
        #expect(manifest.layers.map(\.mediaType) == [.cosignSimpleSigning])
        #expect(manifest.layers[0].annotations?[SignatureLayer.signatureAnnotation] == signed.signatureBase64)
        let config = try await reg.client.getBlob(image.repositoryOnly, digest: manifest.config.digest)
        #expect(String(decoding: config, as: UTF8.self)
            == #"{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["\#(manifest.layers[0].digest)"]},"config":{}}"#)
    }

    @Test func signingAgainAppendsAndIdenticalIsNotAddedTwice() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let key = try PrivateKey.generate()
        let signer = ImageSigner(signer: key)
        let first = try await signer.sign(image: image, digest: image.digest!)
        #expect(try await reg.store.appendSignature(payload: first.payload, signature: first.signature, to: image) != .alreadyPresent)
        #expect(try await reg.store.appendSignature(payload: first.payload, signature: first.signature, to: image) == .alreadyPresent)
        _ = try await signer.signAndUpload(image: image, store: reg.store)  // ECDSA: a new signature
        let sigImage = try #require(try await reg.store.signatureImage(for: image))
        #expect(sigImage.layers.count == 2)
        let outcome = try await reg.verify(image, key: key.verifyingKey)
        #expect(outcome.signatures.count == 2)
        // Deterministic Ed25519 signs identically: still one layer for that key.
        let ed = try PrivateKey.generate(.ed25519)
        _ = try await ImageSigner(signer: ed).signAndUpload(image: image, store: reg.store)
        let (_, again) = try await ImageSigner(signer: ed).signAndUpload(image: image, store: reg.store)
        #expect(again == .alreadyPresent)
        #expect(try await reg.store.signatureImage(for: image)?.layers.count == 3)
    }

    @Test func missingThingsHaveCosignsExitCodes() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let key = try PrivateKey.generate()
        let unsigned = try await reg.verify(image, key: key.verifyingKey)
        #expect(unsigned.kind == .noSignatures)
        #expect(unsigned.exitCode == 10)
        let missing = try await reg.verify(try image.repositoryOnly.withTag("nope"), key: key.verifyingKey)
        #expect(missing.kind == .noSuchImage)
        #expect(missing.exitCode == 11)
        _ = try await ImageSigner(signer: try PrivateKey.generate()).signAndUpload(image: image, store: reg.store)
        let other = try await reg.verify(image, key: key.verifyingKey)
        #expect(other.kind == .noMatchingSignatures)
        #expect(other.exitCode == 12)
    }

    // MARK: tamper cases

    @Test func editedPayloadIsRejected() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let key = try PrivateKey.generate()
        let signed = try await ImageSigner(signer: key).sign(image: image, digest: image.digest!, annotations: ["env": "dev"])
        let edited = Data(String(decoding: signed.payload, as: UTF8.self).replacingOccurrences(of: "\"dev\"", with: "\"prd\"").utf8)
        #expect(edited != signed.payload)
        var sigImage = SignatureImage()
        sigImage.append(SignatureLayer(payload: edited, signature: signed.signature))
        try await reg.putSignatureImage(sigImage, blobs: [edited], for: image)
        let outcome = try await reg.verify(image, key: key.verifyingKey)
        #expect(outcome.kind == .noMatchingSignatures)
    }

    @Test func payloadNotMatchingItsLayerDigestIsRejected() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let key = try PrivateKey.generate()
        let signed = try await ImageSigner(signer: key).sign(image: image, digest: image.digest!)
        let other = Data("{\"x\":1}".utf8)
        // Layer claims the digest of `other`, whose blob is something else than the signed payload.
        var sigImage = SignatureImage()
        sigImage.append(SignatureLayer(mediaType: .cosignSimpleSigning, digest: .sha256(other), size: Int64(other.count),
                                       annotations: [SignatureLayer.signatureAnnotation: signed.signatureBase64]))
        try await reg.putSignatureImage(sigImage, blobs: [other], for: image)
        #expect(try await reg.verify(image, key: key.verifyingKey).kind == .noMatchingSignatures)
    }

    @Test func signatureByAnotherKeyIsRejected() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let mallory = try PrivateKey.generate()
        let alice = try PrivateKey.generate()
        _ = try await ImageSigner(signer: mallory).signAndUpload(image: image, store: reg.store)
        #expect(try await reg.verify(image, key: alice.verifyingKey).kind == .noMatchingSignatures)
        #expect(try await reg.verify(image, key: mallory.verifyingKey).kind == .verified)
    }

    @Test func payloadNamingAnotherDigestIsRejected() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage(tag: "a")
        let (otherImage, _) = try await reg.pushImage(tag: "b")
        let key = try PrivateKey.generate()
        // A genuine signature of the other image, copied under this image's signature tag.
        let signed = try await ImageSigner(signer: key).sign(image: otherImage, digest: otherImage.digest!)
        var sigImage = SignatureImage()
        sigImage.append(SignatureLayer(payload: signed.payload, signature: signed.signature))
        try await reg.putSignatureImage(sigImage, blobs: [signed.payload], for: image)
        let outcome = try await reg.verify(image, key: key.verifyingKey)
        #expect(outcome.kind == .noMatchingSignatures)
        #expect(outcome.rejections.first?.reason.contains("names image digest") == true)
    }

    @Test func layerOfAnotherMediaTypeIsNotASignature() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let key = try PrivateKey.generate()
        let signed = try await ImageSigner(signer: key).sign(image: image, digest: image.digest!)
        var layer = SignatureLayer(payload: signed.payload, signature: signed.signature)
        layer.mediaType = MediaType("application/vnd.oci.image.layer.v1.tar")
        try await reg.putSignatureImage(SignatureImage(layers: [layer]), blobs: [signed.payload], for: image)
        let outcome = try await reg.verify(image, key: key.verifyingKey)
        #expect(outcome.kind == .noMatchingSignatures)
        #expect(outcome.signatures.isEmpty)
    }

    @Test func tagMovedToAnotherImageAfterSigningIsRejected() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (signedImage, _) = try await reg.pushImage(tag: "release")
        let key = try PrivateKey.generate()
        _ = try await ImageSigner(signer: key).signAndUpload(image: signedImage, store: reg.store)
        let tag = try signedImage.repositoryOnly.withTag("release")
        #expect(try await reg.verify(tag, key: key.verifyingKey).kind == .verified)
        // Move the tag to an unsigned image.
        let (moved, _) = try await reg.pushImage(tag: "release")
        #expect(moved.digest != signedImage.digest)
        let outcome = try await reg.verify(tag, key: key.verifyingKey)
        #expect(outcome.kind == .noSignatures)
        #expect(outcome.imageDigest == moved.digest)
        // The original digest still verifies.
        #expect(try await reg.verify(signedImage, key: key.verifyingKey).kind == .verified)
    }

    // MARK: caps

    @Test func moreThanOneHundredLayersIsAnErrorNamingTheCap() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let key = try PrivateKey.generate()
        let signed = try await ImageSigner(signer: key).sign(image: image, digest: image.digest!)
        var sigImage = SignatureImage()
        for i in 0..<101 {
            sigImage.layers.append(SignatureLayer(payload: signed.payload, signature: signed.signature, extraAnnotations: ["n": "\(i)"]))
        }
        try await reg.putSignatureImage(sigImage, blobs: [signed.payload], for: image)
        let error = await #expect(throws: SignetSigningError.self) { try await reg.verify(image, key: key.verifyingKey) }
        #expect(error?.code == .limitExceeded)
        #expect(error?.message.contains("cap of 100 signature layers") == true)
    }

    @Test func payloadOverOneMebibyteIsAnErrorNamingTheCap() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let key = try PrivateKey.generate()
        var big = Data(#"{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"\#(image.digest!)"},"type":"cosign container image signature"},"optional":{"pad":""#.utf8)
        big.append(Data(repeating: UInt8(ascii: "a"), count: (1 << 20) + 10))
        big.append(Data("\"}}".utf8))
        let signature = try await key.sign(big)
        try await reg.putSignatureImage(SignatureImage(layers: [SignatureLayer(payload: big, signature: signature)]), blobs: [big], for: image)
        let error = await #expect(throws: SignetSigningError.self) { try await reg.verify(image, key: key.verifyingKey) }
        #expect(error?.message.contains("cap of 1048576 bytes per payload") == true)
        // A layer that lies about its size is caught by the download cap.
        var lying = SignatureLayer(payload: big, signature: signature)
        lying.size = 100
        try await reg.putSignatureImage(SignatureImage(layers: [lying]), blobs: [], for: image)
        await #expect(throws: (any Error).self) { try await reg.verify(image, key: key.verifyingKey) }
    }

    // MARK: concurrency, annotations, signature repository

    @Test func concurrentSignersAllSurvive() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let keys = try (0..<8).map { _ in try PrivateKey.generate() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in keys {
                group.addTask {
                    // Each signer with its own client, as separate processes would be.
                    let store = SignatureStore(client: RegistryClient(), settleDelay: .milliseconds(40))
                    _ = try await ImageSigner(signer: key).signAndUpload(image: image, store: store)
                }
            }
            try await group.waitForAll()
        }
        let sigImage = try #require(try await reg.store.signatureImage(for: image))
        #expect(sigImage.layers.count == keys.count)
        for key in keys {
            #expect(try await reg.verify(image, key: key.verifyingKey).kind == .verified)
        }
    }

    @Test func annotationsMustMatch() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let key = try PrivateKey.generate()
        let (signed, _) = try await ImageSigner(signer: key).signAndUpload(image: image, annotations: ["env": "prod", "team": "a&b"], store: reg.store)
        #expect(String(decoding: signed.payload, as: UTF8.self).hasSuffix(#""optional":{"env":"prod","team":"a\u0026b"}}"#))
        #expect(try await reg.verify(image, key: key.verifyingKey, annotations: ["env": "prod"]).kind == .verified)
        #expect(try await reg.verify(image, key: key.verifyingKey, annotations: ["env": "prod", "team": "a&b"]).kind == .verified)
        #expect(try await reg.verify(image, key: key.verifyingKey, annotations: ["env": "dev"]).kind == .noMatchingSignatures)
        #expect(try await reg.verify(image, key: key.verifyingKey, annotations: ["missing": "x"]).kind == .noMatchingSignatures)
    }

    @Test func signatureRepositoryHoldsTheSignatures() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let sigRepo = try SignatureRepository(parsing: "\(reg.server.host)/signatures")
        let key = try PrivateKey.generate()
        let (signed, _) = try await ImageSigner(signer: key).signAndUpload(image: image, signatureRepository: sigRepo, store: reg.store)
        // The payload still names the image repository.
        #expect(try SimpleSigningPayload(parsing: signed.payload).dockerReference == "\(reg.server.host)/app")
        #expect(try await reg.verify(image, key: key.verifyingKey, signatureRepository: sigRepo).kind == .verified)
        #expect(try await reg.verify(image, key: key.verifyingKey).kind == .noSignatures)
        let tags = try await reg.client.listTags(sigRepo.repository)
        #expect(tags == [SignatureStore.tag(for: image.digest!)])
    }

    // MARK: clean and prune

    @Test func cleanRemovesTheSignatures() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (image, _) = try await reg.pushImage()
        let key = try PrivateKey.generate()
        _ = try await ImageSigner(signer: key).signAndUpload(image: image, store: reg.store)
        #expect(try await reg.store.clean(image: image, kind: .signature))
        #expect(try await reg.verify(image, key: key.verifyingKey).kind == .noSignatures)
        #expect(try await reg.store.clean(image: image, kind: .signature) == false)
    }

    @Test func pruneRemovesOnlySignaturesOfDeletedImages() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let key = try PrivateKey.generate()
        var images: [Reference] = []
        for i in 0..<4 {
            let (image, _) = try await reg.pushImage(tag: "t\(i)")
            _ = try await ImageSigner(signer: key).signAndUpload(image: image, store: reg.store)
            images.append(image)
        }
        #expect(try await reg.client.deleteManifest(images[1]))
        #expect(try await reg.client.deleteManifest(images[3]))
        let repo = images[0].repositoryOnly
        let dry = try await reg.store.prune(imageRepository: repo)
        #expect(Set(dry.orphans.map(\.imageDigest)) == [images[1].digest!, images[3].digest!])
        #expect(dry.kept.count == 2)
        #expect(dry.deleted.isEmpty)
        #expect(try await reg.verify(images[0], key: key.verifyingKey).kind == .verified)

        let real = try await reg.store.prune(imageRepository: repo, delete: true)
        #expect(real.deleted.count == 2)
        let tags = Set(try await reg.client.listTags(repo))
        #expect(tags.contains(SignatureStore.tag(for: images[0].digest!)))
        #expect(tags.contains(SignatureStore.tag(for: images[2].digest!)))
        #expect(try await reg.verify(images[0], key: key.verifyingKey).kind == .verified)
        #expect(try await reg.verify(images[2], key: key.verifyingKey).kind == .verified)
        let again = try await reg.store.prune(imageRepository: repo)
        #expect(again.orphans.isEmpty)
    }

    @Test(arguments: ["sha256-\(String(repeating: "a", count: 64)).sig", "sha256-\(String(repeating: "0", count: 64)).att",
                      "sha256-\(String(repeating: "f", count: 64)).sbom"])
    func signatureTagsParse(_ tag: String) throws {
        let parsed = try #require(SignatureTag(tag: tag))
        #expect(parsed.tag == tag)
    }

    @Test(arguments: ["latest", "sha256-abc.sig", "sha256-\(String(repeating: "A", count: 64)).sig",
                      "sha256-\(String(repeating: "a", count: 64))", "sha256-\(String(repeating: "a", count: 64)).png"])
    func otherTagsAreNotSignatureTags(_ tag: String) {
        #expect(SignatureTag(tag: tag) == nil)
    }
}
