import Foundation
import SignetTestSupport
import Testing
@testable import SignetOCI

/// `signet digest`, `save`, `load` run as the built binary (`CommandRunner.signetBinary`: `$SIGNET_BIN` or `.build/debug/signet`).
@Suite(.serialized)
struct CLITests {
    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("signet-cli-\(UUID().uuidString)")
    }

    /// A cosign-shaped `.sig` manifest for `image` pushed beside it.
    func pushSignature(for digest: Digest, repository: Reference, client: RegistryClient) async throws -> Digest {
        let payload = Data(#"{"critical":{"identity":{"docker-reference":"\#(repository.repositoryName)"},"image":{"docker-manifest-digest":"\#(digest)"},"type":"cosign container image signature"},"optional":null}"#.utf8)
        let config = Data(#"{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["\#(Digest.sha256(payload))"]},"config":{}}"#.utf8)
        let manifest = ImageManifest(config: Descriptor(mediaType: .ociConfig, content: config),
                                     layers: [Descriptor(mediaType: .cosignSimpleSigning, content: payload,
                                                         annotations: ["dev.cosignproject.cosign/signature": "MEUCIQ=="])])
        return try await client.pushImage(manifest: manifest.jsonData(), blobs: [config, payload],
                                          to: try repository.withTag("\(digest.tagSafe).sig"))
    }

    @Test func digestSaveAndLoadRoundTrip() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let client = RegistryClient()
        let image = TestImage()
        let ref = try Reference(parsing: "\(registry.host)/cli/app:1.0")
        try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
        let sigDigest = try await pushSignature(for: image.digest, repository: ref.repositoryOnly, client: client)

        let digest = try CommandRunner.signet(["digest", ref.description])
        #expect(digest.status == 0, "\(digest.stderr)")
        #expect(digest.stdout == image.digest.description + "\n")

        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let save = try CommandRunner.signet(["save", "--dir", dir.path, ref.description])
        #expect(save.status == 0, "\(save.stderr)")
        let layout = try OCILayout(opening: dir)
        #expect(try layout.manifest(kind: OCILayout.imageKind)?.digest == image.digest)
        #expect(try layout.manifest(kind: OCILayout.signaturesKind)?.digest == sigDigest)
        #expect(try layout.manifest(kind: OCILayout.attestationsKind) == nil)

        let target = "\(registry.host)/cli/copy:2.0"
        let load = try CommandRunner.signet(["load", "--dir", dir.path, target])
        #expect(load.status == 0, "\(load.stderr)")
        let copied = try await client.getManifest(try Reference(parsing: target))
        #expect(copied.digest == image.digest)
        let sig = try await client.getManifest(try Reference(parsing: "\(registry.host)/cli/copy:\(image.digest.tagSafe).sig"))
        #expect(sig.digest == sigDigest)
    }

    @Test func registryConfigFlagGivesCredentials() async throws {
        let registry = try RegistryServer(auth: .basic(username: "carol", password: "s3cret-pass"))
        defer { registry.stop() }
        let image = TestImage(layerCount: 1)
        let ref = try Reference(parsing: "\(registry.host)/auth/app:1")
        let client = RegistryClient(credentials: CredentialStore(auths: [registry.host: Credential(username: "carol", password: "s3cret-pass")]))
        try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)

        let dir = temporaryDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let emptyDockerConfig = ["DOCKER_CONFIG": dir.path]
        let denied = try CommandRunner.signet(["digest", ref.description], environment: emptyDockerConfig)
        #expect(denied.status != 0)
        #expect(denied.stderr.hasPrefix("Error: "), "\(denied.stderr)")
        #expect(denied.stderr.contains("401"))

        let inner = #"{"auths":{"\#(registry.host)":{"auth":"\#(Data("carol:s3cret-pass".utf8).base64EncodedString())"}}}"#
        let secret = #"{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/dockerconfigjson","data":{".dockerconfigjson":"\#(Data(inner.utf8).base64EncodedString())"}}"#
        let secretFile = dir.appendingPathComponent("pull-secret.json")
        try Data(secret.utf8).write(to: secretFile)
        let ok = try CommandRunner.signet(["digest", "--registry-config", secretFile.path, ref.description], environment: emptyDockerConfig)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains(image.digest.description))

        // The same login through $DOCKER_CONFIG/config.json.
        try Data(inner.utf8).write(to: dir.appendingPathComponent("config.json"))
        let viaEnv = try CommandRunner.signet(["digest", ref.description], environment: emptyDockerConfig)
        #expect(viaEnv.status == 0, "\(viaEnv.stderr)")

        let wrong = #"{"auths":{"\#(registry.host)":{"username":"carol","password":"wrong-pass"}}}"#
        try Data(wrong.utf8).write(to: secretFile)
        let refused = try CommandRunner.signet(["digest", "--registry-config", secretFile.path, ref.description], environment: emptyDockerConfig)
        #expect(refused.status != 0)
        #expect(!refused.stderr.contains("wrong-pass") && !refused.stderr.contains("s3cret"))
    }

    @Test func credentialHelperFromDockerConfig() async throws {
        let registry = try RegistryServer(auth: .basic(username: "dave", password: "helper-pass"))
        defer { registry.stop() }
        let image = TestImage(layerCount: 1)
        let ref = try Reference(parsing: "\(registry.host)/helper/app:1")
        let client = RegistryClient(credentials: CredentialStore(auths: [registry.host: Credential(username: "dave", password: "helper-pass")]))
        try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)

        let dir = temporaryDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // docker-credential-helpers protocol: `get`, server URL on stdin, JSON on stdout.
        let helper = dir.appendingPathComponent("docker-credential-signettest")
        try Data("""
        #!/bin/sh
        read server
        if [ "$1" = get ] && [ "$server" = "\(registry.host)" ]; then
          echo '{"ServerURL":"'"$server"'","Username":"dave","Secret":"helper-pass"}'
        else
          echo "credentials not found in native keychain"; exit 1
        fi
        """.utf8).write(to: helper)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: helper.path)
        try Data(#"{"credHelpers":{"\#(registry.host)":"signettest"}}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        let env = ["DOCKER_CONFIG": dir.path, "PATH": dir.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
        let result = try CommandRunner.signet(["digest", ref.description], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(image.digest.description))

        try Data(#"{"credsStore":"signettest"}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        let viaStore = try CommandRunner.signet(["digest", ref.description], environment: env)
        #expect(viaStore.status == 0, "\(viaStore.stderr)")
    }

    struct BadInput: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        let message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let badInputs: [BadInput] = [
        .init(arguments: ["digest", "UPPER/Case"], message: "must be lowercase"),
        .init(arguments: ["digest", "alpine@sha256:123"], message: "bad digest"),
        .init(arguments: ["digest", "a//b"], message: "empty path component"),
        .init(arguments: ["digest", "alpine:\(String(repeating: "x", count: 129))"], message: "longer than 128"),
        .init(arguments: ["digest", ""], message: "empty"),
        .init(arguments: ["digest", "--timeout", "soon", "alpine"], message: "invalid --timeout"),
        .init(arguments: ["digest", "--registry-config", "/nonexistent/config.json", "localhost:1/a"], message: "does not exist"),
        .init(arguments: ["load", "--dir", "/nonexistent/layout", "localhost:1/a"], message: "not an oci image layout"),
        .init(arguments: ["save", "--dir", "/tmp/x", "Not A Ref"], message: "invalid image reference"),
    ]

    @Test(arguments: badInputs)
    func badInputIsAClearErrorWithNonZeroExit(_ c: BadInput) throws {
        let result = try CommandRunner.signet(c.arguments, timeout: 60)
        #expect(result.status != 0)
        #expect(result.stderr.contains("Error: "), "\(result.stderr)")
        #expect(result.stderr.contains(c.message), "\(result.stderr)")
    }

    @Test func refusedConnectionFailsFast() throws {
        let port = try ManagedProcess.freeLoopbackPort()
        let start = Date()
        let result = try CommandRunner.signet(["digest", "127.0.0.1:\(port)/a/b:c"], timeout: 60)
        #expect(result.status != 0)
        #expect(result.stderr.contains("Error: cannot reach registry 127.0.0.1:\(port): connection refused"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func digestOfMissingTagIsAClearError() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let result = try CommandRunner.signet(["digest", "--verbose", "\(registry.host)/no/such:tag"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("Error: cannot get manifest"), "\(result.stderr)")
        #expect(result.stderr.contains("404"))
        // --verbose logs each request (method, URL, status) to stderr.
        #expect(result.stderr.contains("GET http://\(registry.host)/v2/no/such/manifests/tag -> 404"), "\(result.stderr)")
    }

    @Test func loadRejectsLayoutWithSeveralUnmarkedImages() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try TestImage(layerCount: 1).writeLayout(to: dir)
        try TestImage(layerCount: 1).writeLayout(to: dir)
        let result = try CommandRunner.signet(["load", "--dir", dir.path, "localhost:1/a"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("holds 2 manifests"), "\(result.stderr)")
    }
}
