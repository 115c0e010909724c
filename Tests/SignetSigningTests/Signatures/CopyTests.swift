import Foundation
import SignetOCI
import SignetTestSupport
import Testing
@testable import SignetSigning

/// `signet copy` between two real registries (an air-gap mirror), then `signet verify` at the
/// destination; and the same move through `save`/`load`.
@Suite("signet copy")
struct CopyTests {
    static let keyFile = SignatureCLITests.keyFile
    static let pubFile = SignatureCLITests.pubFile
    static let env = ["COSIGN_PASSWORD": "hello", "COSIGN_REPOSITORY": ""]

    func signet(_ args: [String]) throws -> CommandResult {
        try runProgram(try signetBinary(), args, environment: Self.env)
    }

    /// A two-platform index `app:v1` (linux/amd64, linux/arm64) at `registry`; returns the index
    /// and the children's digest references.
    static func pushIndex(_ registry: RegistryServer, client: RegistryClient) async throws -> (index: Reference, amd64: Reference, arm64: Reference) {
        let repo = try Reference(parsing: "\(registry.host)/app")
        var children: [Descriptor] = []
        for arch in ["amd64", "arm64"] {
            let image = TestImage(layerCount: 1, layerSize: 128)
            try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: repo.withDigest(image.digest))
            children.append(Descriptor(mediaType: .ociManifest, digest: image.digest, size: Int64(image.manifestBytes.count),
                                       platform: Platform(architecture: arch, os: "linux")))
        }
        let index = ImageIndex(manifests: children).jsonData()
        try await client.putManifest(index, mediaType: .ociIndex, to: try repo.withTag("v1"))
        return (repo.withDigest(.sha256(index)), repo.withDigest(children[0].digest), repo.withDigest(children[1].digest))
    }

    @Test func copyAnIndexWithItsSignaturesAndVerifyAtTheDestination() async throws {
        let source = try RegistryServer()
        defer { source.stop() }
        let mirror = try RegistryServer()
        defer { mirror.stop() }
        let client = RegistryClient()
        let (index, _, arm64) = try await Self.pushIndex(source, client: client)
        // Classic signatures on the index and on one platform, a cosign v3 bundle on the index, an attestation tag.
        #expect(try signet(["sign", "--key", Self.keyFile, "\(index)"]).status == 0)
        #expect(try signet(["sign", "--key", Self.keyFile, "\(arm64)"]).status == 0)
        #expect(try signet(["sign", "--key", Self.keyFile, "--new-bundle-format", "\(index)"]).status == 0)
        let sigTag = try index.repositoryOnly.withTag(SignatureStore.tag(for: index.digest!))
        let sigManifest = try await client.getManifest(sigTag)
        try await client.putManifest(sigManifest.bytes, mediaType: sigManifest.mediaType,
                                     to: try index.repositoryOnly.withTag(SignatureStore.tag(for: index.digest!, kind: .attestation)))

        let copy = try signet(["copy", "\(source.host)/app:v1", "\(mirror.host)/mirror/app"])
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(copy.stdout == "\(mirror.host)/mirror/app@\(index.digest!)\n")
        #expect(copy.stderr.contains("Copied img"))
        let dst = try Reference(parsing: "\(mirror.host)/mirror/app")
        let tags = Set(try await client.listTags(dst))
        #expect(tags.isSuperset(of: ["v1", SignatureStore.tag(for: index.digest!), SignatureStore.tag(for: index.digest!, kind: .attestation),
                                     SignatureStore.tag(for: arm64.digest!), index.digest!.tagSafe]))
        // Byte for byte: the same digest, so the signatures verify there.
        #expect(try await client.resolve(try dst.withTag("v1")).digest == index.digest!)
        let verify = try signet(["verify", "--key", Self.pubFile, "\(mirror.host)/mirror/app:v1"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.split(separator: "\n").count == 1)
        #expect(try signet(["verify", "--key", Self.pubFile, "\(dst.withDigest(arm64.digest!))"]).status == 0)
        // The bundle referrer came along (in the fallback index: distribution 2.8 has no referrers API).
        let referrers = try await client.referrers(dst.withDigest(index.digest!))
        #expect(referrers.count == 1)
        #expect(referrers.first?.artifactType == .sigstoreBundle)

        // Again: nothing to do. A new signature at the source: refused without --force.
        let again = try signet(["copy", "\(source.host)/app:v1", "\(mirror.host)/mirror/app"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!again.stderr.contains("Copied"))
        let otherKey = try PrivateKey.generate()
        _ = try await ImageSigner(signer: otherKey).signAndUpload(image: index, store: SignatureStore(client: client))
        let refused = try signet(["copy", "\(source.host)/app:v1", "\(mirror.host)/mirror/app"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("already exists"))
        #expect(refused.stderr.contains("--force"))
        let forced = try signet(["copy", "--force", "\(source.host)/app:v1", "\(mirror.host)/mirror/app"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try await ImageSignatureVerifier().verify(image: dst.withDigest(index.digest!), verifier: otherKey.verifyingKey,
                                                          annotations: [:], signatureRepository: nil, client: client).kind == .verified)
    }

    /// A single image signed only as cosign v3 does (a Sigstore bundle referrer, no `.sig`), with
    /// an SBOM tag: the bundle alone makes it verify at the destination.
    @Test func aBundleOnlyImageVerifiesAtTheDestination() async throws {
        let source = try RegistryServer()
        defer { source.stop() }
        let mirror = try RegistryServer()
        defer { mirror.stop() }
        let client = RegistryClient()
        let image = TestImage(layerCount: 2, layerSize: 256)
        let tagged = try Reference(parsing: "\(source.host)/single/app:1.0")
        try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: tagged)
        let pinned = tagged.withDigest(image.digest)
        #expect(try signet(["sign", "--key", Self.keyFile, "--new-bundle-format", "\(pinned)"]).status == 0)
        let sbom = TestImage(layerCount: 1, layerSize: 32)
        try await client.pushImage(manifest: sbom.manifestBytes, blobs: sbom.blobs,
                                   to: try tagged.repositoryOnly.withTag(SignatureStore.tag(for: image.digest, kind: .sbom)))
        let copy = try signet(["copy", "\(tagged)", "\(mirror.host)/single/app"])
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(copy.stderr.contains("Copied sbom"))
        #expect(copy.stderr.contains("Copied sig"))
        let dst = try Reference(parsing: "\(mirror.host)/single/app")
        #expect(try await client.headManifest(try dst.withTag(SignatureStore.tag(for: image.digest))) == nil)  // no classic signature
        let verify = try signet(["verify", "--key", Self.pubFile, "\(mirror.host)/single/app:1.0"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(try await client.resolve(try dst.withTag(SignatureStore.tag(for: image.digest, kind: .sbom))).digest == sbom.digest)
    }

    @Test func platformAndOnly() async throws {
        let source = try RegistryServer()
        defer { source.stop() }
        let mirror = try RegistryServer()
        defer { mirror.stop() }
        let client = RegistryClient()
        let (index, _, arm64) = try await Self.pushIndex(source, client: client)
        #expect(try signet(["sign", "--key", Self.keyFile, "\(index)"]).status == 0)
        #expect(try signet(["sign", "--key", Self.keyFile, "\(arm64)"]).status == 0)

        // --platform: only that platform's manifest, under the tag, with its signatures.
        let one = try signet(["copy", "--platform", "linux/arm64", "\(source.host)/app:v1", "\(mirror.host)/one/app:v1"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdout == "\(mirror.host)/one/app@\(arm64.digest!)\n")
        let oneRepo = try Reference(parsing: "\(mirror.host)/one/app")
        #expect(try await client.resolve(try oneRepo.withTag("v1")).digest == arm64.digest!)
        #expect(try await client.headManifest(oneRepo.withDigest(index.digest!)) == nil)
        #expect(try signet(["verify", "--key", Self.pubFile, "\(mirror.host)/one/app:v1"]).status == 0)
        let missing = try signet(["copy", "--platform", "windows/amd64", "\(source.host)/app:v1", "\(mirror.host)/none/app"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("has no windows/amd64 image"))

        // --only sig: the signatures without the image.
        let sigs = try signet(["copy", "--only", "sig", "\(source.host)/app:v1", "\(mirror.host)/sigs/app"])
        #expect(sigs.status == 0, "\(sigs.stderr)")
        let sigTags = Set(try await client.listTags(try Reference(parsing: "\(mirror.host)/sigs/app")))
        #expect(sigTags == [SignatureStore.tag(for: index.digest!), SignatureStore.tag(for: arm64.digest!)])
        #expect(try signet(["copy", "--only", "img", "\(source.host)/app:v1", "\(mirror.host)/x/app"]).status != 0)
    }

    /// Signatures kept in another repository (`--signature-repository` / COSIGN_REPOSITORY) on both sides.
    @Test func separateSignatureRepositories() async throws {
        let source = try RegistryServer()
        defer { source.stop() }
        let mirror = try RegistryServer()
        defer { mirror.stop() }
        let client = RegistryClient()
        let (index, _, _) = try await Self.pushIndex(source, client: client)
        #expect(try signet(["sign", "--key", Self.keyFile, "--signature-repository", "\(source.host)/signatures", "\(index)"]).status == 0)
        let copy = try signet(["copy", "--signature-repository", "\(source.host)/signatures",
                               "--destination-signature-repository", "\(mirror.host)/mirror/signatures",
                               "\(source.host)/app:v1", "\(mirror.host)/mirror/app"])
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(try await client.listTags(try Reference(parsing: "\(mirror.host)/mirror/signatures")) == [SignatureStore.tag(for: index.digest!)])
        let verify = try signet(["verify", "--key", Self.pubFile, "--signature-repository", "\(mirror.host)/mirror/signatures",
                                 "\(mirror.host)/mirror/app:v1"])
        #expect(verify.status == 0, "\(verify.stderr)")
        // Without the destination repository the signatures go beside the image.
        let beside = try runProgram(try signetBinary(), ["copy", "\(source.host)/app:v1", "\(mirror.host)/beside/app"],
                                    environment: ["COSIGN_PASSWORD": "hello", "COSIGN_REPOSITORY": "\(source.host)/signatures"])
        #expect(beside.status == 0, "\(beside.stderr)")
        #expect(try signet(["verify", "--key", Self.pubFile, "\(mirror.host)/beside/app:v1"]).status == 0)
    }

    @Test func throughSaveAndLoad() async throws {
        let source = try RegistryServer()
        defer { source.stop() }
        let airGapped = try RegistryServer()
        defer { airGapped.stop() }
        let client = RegistryClient()
        let (index, _, _) = try await Self.pushIndex(source, client: client)
        #expect(try signet(["sign", "--key", Self.keyFile, "\(index)"]).status == 0)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let save = try signet(["save", "--dir", dir.path, "\(source.host)/app:v1"])
        #expect(save.status == 0, "\(save.stderr)")
        #expect(try signet(["verify", "--local-image", "--key", Self.pubFile, dir.path]).status == 0)
        let load = try signet(["load", "--dir", dir.path, "\(airGapped.host)/app:v1"])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(load.stdout == "\(airGapped.host)/app@\(index.digest!)\n")
        let verify = try signet(["verify", "--key", Self.pubFile, "\(airGapped.host)/app:v1"])
        #expect(verify.status == 0, "\(verify.stderr)")
    }
}
