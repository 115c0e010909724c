import Foundation
import Testing
@testable import SignetOCI

/// Digests, deterministic JSON, manifests, OCI layouts, auth challenges, Link headers, credentials.
struct FormatTests {
    @Test(arguments: [
        ("", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ])
    func sha256Digest(_ input: String, _ expected: String) throws {
        let d = Digest.sha256(Data(input.utf8))
        #expect(d.description == expected)
        #expect(try Digest(parsing: expected) == d)
        #expect(d.matches(Data(input.utf8)))
        #expect(!d.matches(Data("x".utf8)))
        #expect(d.tagSafe == expected.replacingOccurrences(of: ":", with: "-"))
    }

    @Test(arguments: ["sha256", "sha256:", "sha256:xyz", "SHA256:\(String(repeating: "a", count: 64))",
                      "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709", "sha256:\(String(repeating: "a", count: 63))",
                      ":abc", "sha512:\(String(repeating: "a", count: 64))"])
    func invalidDigests(_ text: String) {
        #expect(throws: SignetOCIError.self) { try Digest(parsing: text) }
    }

    @Test func orderedJSONEscapesLikeGo() {
        let v = OrderedJSON.object([("b", .string("<a&b>/\u{2028}\n\"")), ("a", .int(-3)), ("c", .array([.bool(true), .null]))])
        #expect(v.serialized == #"{"b":"\u003ca\u0026b\u003e/\u2028\n\"","a":-3,"c":[true,null]}"#)
        #expect(OrderedJSON.sortedObject(["z": "1", "a": "2", "B": "3"]).serialized == #"{"B":"3","a":"2","z":"1"}"#)
    }

    @Test func manifestEncodingIsDeterministicAndOrdered() throws {
        let config = Descriptor(mediaType: .ociConfig, content: Data("{}".utf8))
        let layer = Descriptor(mediaType: .cosignSimpleSigning, content: Data("payload".utf8),
                               annotations: ["dev.cosignproject.cosign/signature": "MEUC", "a": "b"])
        let subject = Descriptor(mediaType: .ociManifest, content: Data("x".utf8))
        let m = ImageManifest(artifactType: .sigstoreBundle, config: config, layers: [layer], subject: subject,
                              annotations: ["k": "v"])
        let text = String(decoding: m.jsonData(), as: UTF8.self)
        let keys = ["\"schemaVersion\"", "\"mediaType\"", "\"artifactType\"", "\"config\"", "\"layers\"", "\"subject\"", "\"annotations\":{\"k\""]
        let positions = keys.map { text.range(of: $0)!.lowerBound }
        #expect(positions == positions.sorted())
        #expect(text.hasPrefix(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"#))
        #expect(text.contains(#"{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":7,"digest":"sha256:"#))
        #expect(text.contains(#""annotations":{"a":"b","dev.cosignproject.cosign/signature":"MEUC"}"#))
        // Decoding gives the same value back, and encoding again the same bytes.
        let decoded = try ImageManifest(decoding: m.jsonData())
        #expect(decoded == m)
        #expect(decoded.jsonData() == m.jsonData())
    }

    @Test func cosignStyleSignatureManifestBytes() {
        // The shape cosign (go-containerregistry) writes for a .sig image.
        let config = Descriptor(mediaType: .ociConfig, digest: try! Digest(parsing: "sha256:" + String(repeating: "1", count: 64)), size: 233)
        let layer = Descriptor(mediaType: .cosignSimpleSigning, digest: try! Digest(parsing: "sha256:" + String(repeating: "2", count: 64)), size: 245,
                               annotations: ["dev.cosignproject.cosign/signature": "MEQ="])
        let m = ImageManifest(config: config, layers: [layer])
        let expected = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":245,"digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","annotations":{"dev.cosignproject.cosign/signature":"MEQ="}}]}"#
        #expect(String(decoding: m.jsonData(), as: UTF8.self) == expected)
    }

    @Test func decodesDockerManifestAndIndexWithPlatform() throws {
        let json = #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"sha256:\#(String(repeating: "c", count: 64))","platform":{"architecture":"arm64","os":"linux","variant":"v8","os.version":"1"}}]}"#
        let index = try ImageIndex(decoding: Data(json.utf8))
        #expect(index.mediaType == .dockerManifestList)
        #expect(index.manifests[0].platform?.description == "linux/arm64/v8")
        #expect(index.manifests[0].platform?.osVersion == "1")
        #expect(index.jsonData().count > 0)
    }

    @Test(arguments: [
        ("{", "not valid json"),
        (#"{"schemaVersion":2,"layers":[]}"#, "missing field \"config\""),
        (#"{"schemaVersion":1,"config":{"mediaType":"a","size":1,"digest":"sha256:\#(String(repeating: "c", count: 64))"},"layers":[]}"#, "schemaversion 1"),
        (#"{"schemaVersion":2,"config":{"mediaType":"a","size":1,"digest":"md5:x"},"layers":[]}"#, "unsupported algorithm"),
    ])
    func malformedManifests(_ json: String, _ reason: String) {
        do {
            _ = try ImageManifest(decoding: Data(json.utf8))
            Issue.record("accepted \(json)")
        } catch let e as SignetOCIError {
            #expect(e.code == .invalidFormat)
            #expect(e.message.lowercased().contains(reason), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }

    @Test func layoutRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-layout-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let layout = try OCILayout.create(at: dir)
        let blob = Data("hello".utf8)
        let d = try layout.writeBlob(blob)
        #expect(try layout.readBlob(d) == blob)
        let manifest = ImageManifest(config: Descriptor(mediaType: .ociConfig, content: blob), layers: [])
        try layout.writeBlob(manifest.jsonData())
        try layout.appendToIndex(manifest.descriptor(annotations: [OCILayout.kindAnnotation: OCILayout.imageKind]))
        let reopened = try OCILayout(opening: dir)
        #expect(try reopened.index().manifests.count == 1)
        #expect(try reopened.manifest(kind: OCILayout.imageKind)?.digest == .sha256(manifest.jsonData()))
        #expect(String(decoding: try Data(contentsOf: dir.appendingPathComponent("oci-layout")), as: UTF8.self) == #"{"imageLayoutVersion":"1.0.0"}"#)
        // A corrupted blob is detected.
        try Data("tampered".utf8).write(to: layout.blobURL(d))
        #expect(throws: SignetOCIError.self) { try reopened.readBlob(d) }
        // Not a layout.
        #expect(throws: SignetOCIError.self) { try OCILayout(opening: dir.appendingPathComponent("nope")) }
    }

    @Test(arguments: [
        (#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#,
         Challenge.bearer(realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:a/b:pull,push")),
        (#"bearer realm="http://127.0.0.1:1/token", service="s""#, Challenge.bearer(realm: "http://127.0.0.1:1/token", service: "s", scope: nil)),
        (#"Basic realm="Registry Realm""#, Challenge.basic(realm: "Registry Realm")),
        ("Negotiate", Challenge.none),
        ("", Challenge.none),
        (#"Bearer service="x""#, Challenge.none),
    ])
    func parsesChallenges(_ header: String, _ expected: Challenge) {
        #expect(Challenge(header: header) == expected)
    }

    @Test(arguments: [
        (#"</v2/a/tags/list?last=b&n=2>; rel="next""#, "/v2/a/tags/list?last=b&n=2"),
        (#"<https://r.io/v2/a/tags/list?n=1&last=x>;rel="next""#, "https://r.io/v2/a/tags/list?n=1&last=x"),
        (#"</x>; rel="prev", </y>; rel="next""#, "/y"),
        (#"</x>; rel="prev""#, nil),
    ] as [(String, String?)])
    func parsesLinkHeader(_ header: String, _ expected: String?) {
        #expect(RegistryClient.nextLink(header) == expected)
    }

    @Test func resolvesLocations() {
        #expect(RegistryClient.resolveLocation("/v2/a/blobs/uploads/1?x=y", base: "http://h:5/v2/a/blobs/uploads/") == "http://h:5/v2/a/blobs/uploads/1?x=y")
        #expect(RegistryClient.resolveLocation("https://s3/x", base: "http://h:5/v2/") == "https://s3/x")
        #expect(RegistryClient.hostOf("http://User:5000/x?y") == "user:5000")
    }

    @Test func retryAfterIsHonouredAndCapped() {
        #expect(RegistryClient.retryDelay("2", attempt: 1, cap: .seconds(10)) == .seconds(2))
        #expect(RegistryClient.retryDelay("3600", attempt: 1, cap: .seconds(10)) == .seconds(10))
        #expect(RegistryClient.retryDelay(nil, attempt: 1, cap: .seconds(10)) == .milliseconds(500))
    }

    @Test func credentialStoreReadsDockerConfigAndSecrets() async throws {
        let config = #"""
        {"auths":{"https://index.docker.io/v1/":{"auth":"\#(Data("hub:secret".utf8).base64EncodedString())"},
                  "localhost:5000":{"username":"u","password":"p"},
                  "http://reg.example.com/v2/":{"identitytoken":"refresh"}},
         "credHelpers":{"gcr.io":"gcloud"}, "credsStore":"desktop"}
        """#
        var store = try CredentialStore(dockerConfig: Data(config.utf8))
        store.helperRunner = { name, server in Credential(username: "helper-\(name)", password: server) }
        #expect(try await store.credential(for: "index.docker.io") == Credential(username: "hub", password: "secret"))
        #expect(try await store.credential(for: "localhost:5000") == Credential(username: "u", password: "p"))
        #expect(try await store.credential(for: "reg.example.com")?.identityToken == "refresh")
        #expect(try await store.credential(for: "gcr.io")?.username == "helper-gcloud")
        #expect(try await store.credential(for: "other.io") == Credential(username: "helper-desktop", password: "other.io"))
        // Secrets never appear in descriptions.
        #expect(!"\(Credential(username: "u", password: "topsecret"))".contains("topsecret"))

        let inner = #"{"auths":{"ghcr.io":{"auth":"\#(Data("g:h".utf8).base64EncodedString())"}}}"#
        let secret = #"{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/dockerconfigjson","data":{".dockerconfigjson":"\#(Data(inner.utf8).base64EncodedString())"}}"#
        let fromSecret = try CredentialStore(dockerConfig: Data(secret.utf8))
        #expect(try await fromSecret.credential(for: "ghcr.io") == Credential(username: "g", password: "h"))
        let merged = store.merging(fromSecret)
        #expect(try await merged.credential(for: "ghcr.io")?.username == "g")
        #expect(throws: SignetOCIError.self) { try CredentialStore(dockerConfig: Data("[1]".utf8)) }
        #expect(throws: SignetOCIError.self) { try CredentialStore(dockerConfig: Data(#"{"auths":{"x":{"auth":"!!"}}}"#.utf8)) }
    }

    @Test func missingCredentialHelperIsAClearError() async {
        let store = CredentialStore(credsStore: "signet-does-not-exist")
        do {
            _ = try await store.credential(for: "example.com")
            Issue.record("expected an error")
        } catch let e as SignetOCIError {
            #expect(e.code == .credentials)
            #expect(e.message.contains("docker-credential-signet-does-not-exist"))
        } catch { Issue.record("\(error)") }
    }
}
