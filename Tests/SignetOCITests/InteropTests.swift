import Foundation
import SignetTestSupport
import Testing
@testable import SignetOCI

/// Interop with a peer client (skopeo) through a real registry.
@Suite(.serialized)
struct InteropTests {
    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("signet-interop-\(UUID().uuidString)")
    }

    @Test func imagePushedBySkopeoIsReadWithTheSameDigest() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = TestImage()
        try image.writeLayout(to: dir)
        let copy = try CommandRunner.run("skopeo", ["copy", "--dest-tls-verify=false", "oci:\(dir.path)",
                                                    "docker://\(registry.host)/skopeo/pushed:1"])
        #expect(copy.status == 0, "skopeo copy failed: \(copy.stderr)")
        let inspect = try CommandRunner.run("skopeo", ["inspect", "--tls-verify=false", "--raw", "docker://\(registry.host)/skopeo/pushed:1"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let skopeoDigest = Digest.sha256(Data(inspect.stdout.utf8))

        let client = RegistryClient()
        let fetched = try await client.getManifest(try Reference(parsing: "\(registry.host)/skopeo/pushed:1"))
        #expect(fetched.digest == skopeoDigest)
        let manifest = try fetched.imageManifest()
        for layer in manifest.layers {
            _ = try await client.getBlob(try Reference(parsing: "\(registry.host)/skopeo/pushed"), digest: layer.digest)
        }
    }

    @Test func imageLoadedBySignetIsReadBySkopeoWithTheSameDigest() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = TestImage()
        try image.writeLayout(to: dir)
        let load = try CommandRunner.signet(["load", "--dir", dir.path, "\(registry.host)/signet/loaded:v1"])
        #expect(load.status == 0, "signet load failed: \(load.stderr)")
        #expect(load.stdout.contains(image.digest.description))
        let inspect = try CommandRunner.run("skopeo", ["inspect", "--tls-verify=false", "--raw", "docker://\(registry.host)/signet/loaded:v1"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(Digest.sha256(Data(inspect.stdout.utf8)) == image.digest)
        let digest = try CommandRunner.signet(["digest", "\(registry.host)/signet/loaded:v1"])
        #expect(digest.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == image.digest.description)

        // And a layout written by skopeo loads with signet (any OCI layout with one image).
        let skopeoLayout = dir.appendingPathComponent("from-skopeo")
        let pull = try CommandRunner.run("skopeo", ["copy", "--src-tls-verify=false", "docker://\(registry.host)/signet/loaded:v1", "oci:\(skopeoLayout.path)"])
        #expect(pull.status == 0, "\(pull.stderr)")
        let reload = try CommandRunner.signet(["load", "--dir", skopeoLayout.path, "\(registry.host)/signet/reloaded:v2"])
        #expect(reload.status == 0, "\(reload.stderr)")
        // skopeo may rewrite the manifest when writing a layout (e.g. compressing layers): compare
        // with what its layout holds.
        let layoutDigest = try OCILayout(opening: skopeoLayout).index().manifests[0].digest
        let again = try await RegistryClient().getManifest(try Reference(parsing: "\(registry.host)/signet/reloaded:v2"))
        #expect(again.digest == layoutDigest)
    }
}
