import Foundation
import SignetTestSupport
import Testing
@testable import SignetOCI

/// Against a real `docker-registry` (CNCF distribution 2.8) on a free loopback port.
@Suite(.serialized)
struct RegistryIntegrationTests {
    @Test func pushReadBackAndDelete() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let client = RegistryClient()
        let image = TestImage()
        let ref = try Reference(parsing: "\(registry.host)/signet/app:v1")
        let digest = try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
        #expect(digest == image.digest)

        let resolved = try await client.resolve(ref)
        #expect(resolved.digest == image.digest)
        #expect(resolved.mediaType == .ociManifest)
        #expect(resolved.size == Int64(image.manifestBytes.count))

        let fetched = try await client.getManifest(ref)
        #expect(fetched.bytes == image.manifestBytes)
        #expect(try fetched.imageManifest() == image.manifest)
        let byDigest = try await client.getManifest(ref.withDigest(digest))
        #expect(byDigest.digest == digest)

        for (blob, descriptor) in zip(image.blobs, [image.manifest.config] + image.manifest.layers) {
            #expect(try await client.blobExists(ref, digest: descriptor.digest))
            #expect(try await client.getBlob(ref, digest: descriptor.digest) == blob)
        }
        #expect(try await client.blobExists(ref, digest: .sha256(Data("absent".utf8))) == false)

        // Pushing again skips the blobs (HEAD says they exist).
        let before = client.roundTrips
        try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
        #expect(client.roundTrips - before == image.blobs.count + 1)

        #expect(try await client.deleteManifest(ref))
        #expect(try await client.headManifest(ref.withDigest(digest)) == nil)
        await #expect(throws: SignetOCIError.self) { try await client.getManifest(ref.withDigest(digest)) }
        do { _ = try await client.resolve(ref) } catch let e as SignetOCIError { #expect(e.code == .notFound) }
    }

    @Test func listsMoreThanAHundredTagsAcrossPages() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let client = RegistryClient()
        let image = TestImage(layerCount: 1, layerSize: 64)
        let repo = try Reference(parsing: "\(registry.host)/many/tags")
        try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: try repo.withTag("t000"))
        let names = (0..<120).map { String(format: "t%03d", $0) }
        for name in names.dropFirst() {
            try await client.putManifest(image.manifestBytes, mediaType: .ociManifest, to: try repo.withTag(name))
        }
        // distribution 2.8 ignores `n=` on tags/list (Link pagination of tags came in v3; see
        // FakeRegistryTests for it) but pages its catalog, so both paths are exercised here.
        let tags = try await client.listTags(repo, pageSize: 25)
        #expect(tags.sorted() == names)
        #expect(try await client.listTags(repo).count == 120)
        #expect(try await client.listTags(try Reference(parsing: "\(registry.host)/no/such")).isEmpty)
        for i in 0..<7 {
            try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: try Reference(parsing: "\(registry.host)/repo\(i)/x:1"))
        }
        let before = client.roundTrips
        let repositories = try await client.catalog(registry: registry.host, pageSize: 2)
        #expect(repositories.count == 8)
        #expect(client.roundTrips - before >= 4, "8 repositories at 2 per page take at least 4 pages")
    }

    @Test func chunkedUploadAndCrossRepositoryMount() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        var configuration = RegistryClient.Configuration()
        configuration.monolithicUploadLimit = 1000
        configuration.chunkSize = 700
        let client = RegistryClient(configuration: configuration)
        let image = TestImage(layerCount: 2, layerSize: 3000)
        let source = try Reference(parsing: "\(registry.host)/src/app:1")
        try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: source)
        let layer = image.manifest.layers[0].digest
        #expect(try await client.getBlob(source, digest: layer) == image.layers[0])

        let target = try Reference(parsing: "\(registry.host)/dst/app")
        #expect(try await client.mountBlob(layer, from: source, to: target))
        #expect(try await client.blobExists(target, digest: layer))
        try await client.pushBlob(image.layers[1], to: target, mountFrom: source)
        #expect(try await client.getBlob(target, digest: image.manifest.layers[1].digest) == image.layers[1])
    }

    @Test func referrersFallBackToTagSchema() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let client = RegistryClient()
        let image = TestImage(layerCount: 1)
        let ref = try Reference(parsing: "\(registry.host)/ref/app:1")
        let digest = try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
        let subject = ref.withDigest(digest)
        #expect(try await client.referrers(subject).isEmpty)

        let empty = Data("{}".utf8)
        try await client.pushBlob(empty, to: ref)
        let bundle = Data(#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#.utf8)
        try await client.pushBlob(bundle, to: ref)
        let artifact = ImageManifest(artifactType: .sigstoreBundle,
                                     config: Descriptor(mediaType: .ociEmpty, content: empty),
                                     layers: [Descriptor(mediaType: .sigstoreBundle, content: bundle)],
                                     subject: Descriptor(mediaType: .ociManifest, digest: digest, size: Int64(image.manifestBytes.count)))
        let pushed = try await client.pushReferrer(artifact.jsonData(), mediaType: .ociManifest, artifactType: .sigstoreBundle, subject: subject)
        let found = try await client.referrers(subject)
        #expect(found.map(\.digest) == [pushed.digest])
        #expect(try await client.referrers(subject, artifactType: .sigstoreBundle).count == 1)
        #expect(try await client.referrers(subject, artifactType: .inTotoDSSE).isEmpty)
        // The fallback index lives at tag sha256-HEX.
        #expect(try await client.headManifest(try ref.withTag(digest.tagSafe)) != nil)
    }

    @Test func basicAuthRegistry() async throws {
        let registry = try RegistryServer(auth: .basic(username: "alice", password: "wonderland"))
        defer { registry.stop() }
        let image = TestImage(layerCount: 1)
        let ref = try Reference(parsing: "\(registry.host)/basic/app:1")

        let anonymous = RegistryClient()
        do {
            _ = try await anonymous.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
            Issue.record("anonymous push should fail")
        } catch let e as SignetOCIError {
            #expect(e.code == .unauthorized)
            #expect(e.message.contains("401"))
            #expect(e.message.contains("no usable credentials"))
        }

        let wrong = RegistryClient(credentials: CredentialStore(auths: [registry.host: Credential(username: "alice", password: "nope")]))
        do {
            _ = try await wrong.getManifest(ref)
            Issue.record("wrong password should fail")
        } catch let e as SignetOCIError {
            #expect(e.code == .unauthorized)
            #expect(!e.message.contains("nope"))
        }

        let config = #"{"auths":{"http://\#(registry.host)":{"auth":"\#(Data("alice:wonderland".utf8).base64EncodedString())"}}}"#
        let client = RegistryClient(credentials: try CredentialStore(dockerConfig: Data(config.utf8)))
        let digest = try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
        #expect(try await client.getManifest(ref).digest == digest)
        #expect(try await client.listTags(ref) == ["1"])
    }

    @Test(arguments: [false, true])
    func tokenAuthRegistry(useAccessTokenField: Bool) async throws {
        let issuer = try TokenIssuer(username: "bob", password: "builder", expiresIn: 300, useAccessTokenField: useAccessTokenField)
        defer { issuer.stop() }
        let registry = try RegistryServer(auth: .token(issuer))
        defer { registry.stop() }
        let image = TestImage(layerCount: 1)
        let ref = try Reference(parsing: "\(registry.host)/token/app:1")

        do {
            _ = try await RegistryClient().getManifest(ref)
            Issue.record("anonymous read should fail")
        } catch let e as SignetOCIError {
            #expect(e.code == .unauthorized)
            #expect(e.message.contains("no credentials"))
        }

        let client = RegistryClient(credentials: CredentialStore(auths: [registry.host: Credential(username: "bob", password: "builder")]))
        let digest = try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
        #expect(try await client.getManifest(ref).digest == digest)
        #expect(try await client.getBlob(ref, digest: image.manifest.layers[0].digest) == image.layers[0])
        #expect(issuer.requestedScopes.flatMap { $0 }.contains("repository:token/app:pull,push"))

        // Tokens are cached per scope: more reads need no new token.
        let issued = issuer.tokensIssued
        _ = try await client.getManifest(ref)
        _ = try await client.resolve(ref)
        #expect(issuer.tokensIssued == issued)

        // Delete asks for the delete action through the 401 challenge.
        #expect(try await client.deleteManifest(ref))
    }

    @Test func expiredTokensAreRefreshed() async throws {
        let issuer = try TokenIssuer(expiresIn: 1)
        defer { issuer.stop() }
        let registry = try RegistryServer(auth: .token(issuer))
        defer { registry.stop() }
        let client = RegistryClient()
        let image = TestImage(layerCount: 1)
        let ref = try Reference(parsing: "\(registry.host)/short/lived:1")
        try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
        let issued = issuer.tokensIssued
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await client.getManifest(ref).digest == image.digest)
        #expect(issuer.tokensIssued > issued)
    }

    @Test func layoutCopyAndPushRoundTrip() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let client = RegistryClient()
        let image = TestImage()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-layout-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let layout = try image.writeLayout(to: dir)
        let ref = try Reference(parsing: "\(registry.host)/layout/app:1")
        let digest = try await client.push(try layout.index().manifests[0], from: layout, to: ref)
        #expect(digest == image.digest)

        let outDir = dir.appendingPathComponent("out")
        let out = try OCILayout.create(at: outDir)
        let d = try await client.copy(ref, to: out, annotations: [OCILayout.kindAnnotation: OCILayout.imageKind])
        #expect(d.digest == digest)
        #expect(try out.manifest(kind: OCILayout.imageKind)?.digest == digest)
        for blob in image.blobs { #expect(try out.readBlob(.sha256(blob)) == blob) }
    }
}
