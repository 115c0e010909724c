import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import SignetKMS
import SignetOCI
import SignetPolicy
import SignetVerification
import SignetSigning
import SignetTestSupport
import Testing
@testable import SignetAdmission

/// Issue 10: what an attacker sends ends in a clear decision and the process stays up. Each test
/// runs against the real HTTPS server (and the real registry / OpenBao where it applies).
@Suite("Hostile input against the real webhook", .serialized)
struct HostileInputTests {
    static let quantityPolicy = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: memory-limit
        spec:
          validationFailureAction: Enforce
          rules:
            - name: memory-at-most-1gi
              match:
                any:
                  - resources:
                      kinds: [Pod]
              validate:
                message: "memory must be at most 1Gi"
                pattern:
                  spec:
                    containers:
                      - resources:
                          limits:
                            memory: "<=1Gi"
        """

    static func alive(_ hook: TestWebhook) async throws -> Bool {
        try await hook.send(.GET, "/healthz", contentType: nil).status == 200
    }

    // 1-3: one request used to kill the process.
    @Test func requestsThatUsedToTrapGetAnAnswer() async throws {
        let h = try await ControllerHarness.start([Self.quantityPolicy])
        // 1. A high surrogate followed by a \u escape below DC00.
        let surrogate = Data(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"\ud800\u0041","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE","userInfo":{},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}"#.utf8)
        let reply = try await h.hook.send(.POST, "/validate", body: surrogate)
        #expect(reply.status == 200 || reply.status == 400, "\(reply.status) \(reply.text)")
        #expect(try await Self.alive(h.hook))
        // 2. A timeout no Duration can hold: clamped, answered.
        let huge = try await h.hook.send(.POST, "/validate?timeout=1000000000000000000000s", body: AdmissionRequestBuilder().reviewData)
        #expect(huge.status == 200)
        #expect(try await Self.alive(h.hook))
        // 3. A quantity with the most negative exponent against a quantity comparison.
        var pod = AdmissionRequestBuilder().review
        if case .object(var review) = pod, case .object(var request)? = review["request"], case .object(var object)? = request["object"],
           case .object(var spec)? = object["spec"] {
            spec["containers"] = [["name": "c", "image": "nginx", "resources": ["limits": ["memory": "1e-9223372036854775808"]]]]
            object["spec"] = .object(spec)
            request["object"] = .object(object)
            review["request"] = .object(request)
            pod = .object(review)
        }
        let quantity = try await h.hook.send(.POST, "/validate", body: Data(pod.jsonString.utf8))
        #expect(quantity.status == 200, "\(quantity.text)")
        #expect(quantity.response?["allowed"] != nil)
        #expect(try await Self.alive(h.hook))
        await h.stop()
    }

    @Test(arguments: ["0s", "-5s", "junk", "1000000000000000000000s", "100h"])
    func timeoutParameterIsClamped(timeout: String) async throws {
        let server = AdmissionServer(configuration: .init(), tls: try Self.dummyTLS(), reviewer: FakeReviewer { r, _ in
            AdmissionResponse(uid: r.uid, allowed: true)
        }, metrics: AdmissionMetrics(), violations: ViolationStore(), logger: Logger(label: "t"))
        let budget = server.budget(forTimeoutParameter: timeout)
        #expect(budget >= .milliseconds(500) && budget <= .seconds(30), "\(budget)")
    }

    static func dummyTLS() throws -> ReloadingTLSIdentity {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-tls-\(UUID().uuidString)")
        try WebhookCertificates.generate(dnsNames: ["localhost"]).write(to: dir)
        return try ReloadingTLSIdentity(certificatePath: dir.appendingPathComponent("tls.crt").path,
                                        keyPath: dir.appendingPathComponent("tls.key").path)
    }

    // 4: too many images.
    @Test(arguments: ["Fail", "Ignore"])
    func tooManyImagesAreDeniedUnderAnyFailurePolicy(failurePolicy: String) async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages(failurePolicy: failurePolicy)],
                                                  limits: .init(maxImagesPerRequest: 64))
        var pod = AdmissionRequestBuilder()
        pod.images = (0..<65).map { "registry.example.com/team/app:\($0)" }
        let reply = try await h.hook.review("/mutate", pod)
        #expect(reply.response?["allowed"] == false)
        let message = reply.response?["status"]?["message"]?.stringValue ?? ""
        #expect(message.contains("65 distinct images") && message.contains("limit of 64"), "\(message)")
        #expect(h.registry.verifies == 0 && h.registry.resolves == 0)
        // 64 is within the limit: verified (and here denied, as nothing is signed).
        pod.images = (0..<64).map { "registry.example.com/team/app:\($0)" }
        let within = try await h.hook.review("/mutate", pod)
        let withinMessage = within.response?["status"]?["message"]?.stringValue ?? ""
        #expect(!withinMessage.contains("--max-images-per-request"), "\(withinMessage)")
        #expect(h.registry.resolves > 0)
        #expect(try await Self.alive(h.hook))
        await h.stop()
    }

    // 8: matching on the normalized reference.
    @Test(arguments: [
        ("localhost:5000/*", "LOCALHOST:5000/app:1"),
        ("localhost:5000/*", "LocalHost:5000/app:1"),
        ("docker.io/library/*", "nginx:1"),
        ("docker.io/library/*", "index.docker.io/library/nginx:1"),
        ("docker.io/library/*", "DOCKER.IO/library/nginx"),
        ("index.docker.io/*", "nginx:1"),
        ("registry.example.com/*", "registry.example.com:443/team/app:1"),
    ])
    func everySpellingOfAProtectedImageIsVerified(glob: String, image: String) async throws {
        let policy = TestPolicies.verifyImages().replacingOccurrences(of: #"["registry.example.com/*"]"#, with: "[\"\(glob)\"]")
        let h = try await ControllerHarness.start([policy])
        var pod = AdmissionRequestBuilder()
        pod.images = [image]
        let reply = try await h.hook.review("/mutate", pod)
        #expect(reply.response?["allowed"] == false, "\(image) was admitted unverified: \(reply.text)")
        #expect(h.registry.resolves + h.registry.verifies > 0, "\(image) never reached the verifier")
        await h.stop()
    }

    // 9: /validate never trusts a tag.
    @Test func validateDeniesATagOnlyImageWhenVerifyDigestIsSet() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages()])
        let image = "registry.example.com/team/app:1.0"
        let digest = "sha256:" + String(repeating: "a", count: 64)
        h.registry.tag(image, digest)
        h.registry.sign(digest)
        // /mutate pins it; a /validate call for the tag (the mutating call was skipped) is denied.
        var pod = AdmissionRequestBuilder()
        pod.images = [image]
        #expect(try await h.hook.review("/mutate", pod).response?["allowed"] == true)
        let reply = try await h.hook.review("/validate", pod)
        #expect(reply.response?["allowed"] == false)
        let message = reply.response?["status"]?["message"]?.stringValue ?? ""
        #expect(message.contains("missing digest for registry.example.com/team/app:1.0"), "\(message)")
        // The pinned form is admitted.
        pod.images = ["\(image)@\(digest)"]
        #expect(try await h.hook.review("/validate", pod).response?["allowed"] == true)
        await h.stop()
    }

    // 10: exposure.
    @Test func metricsAndReportsAreNotOnTheWebhookPort() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages()])
        #expect(try await h.hook.send(.GET, "/metrics", contentType: nil).status == 404)
        #expect(try await h.hook.send(.GET, "/reports", contentType: nil).status == 404)
        #expect(try await h.hook.metrics("/metrics").status == 200)
        #expect(try await h.hook.metrics("/reports").status == 200)
        #expect(try await h.hook.metrics("/healthz").status == 200)
        await h.stop()
    }

    // 5: connections that never finish.
    @Test func unfinishedConnectionsAreClosedAndDoNotLockOutRealClients() async throws {
        var config = AdmissionServer.Configuration()
        config.connections = ConnectionLimits(maxConnections: 64, requestReadTimeout: .seconds(1), idleTimeout: .seconds(2))
        let h = try await ControllerHarness.start([TestPolicies.verifyImages()], configuration: config)
        let group = MultiThreadedEventLoopGroup.singleton
        var channels: [any Channel] = []
        // Idle TCP connections (no TLS handshake), and connections that send half a TLS hello.
        for i in 0..<150 {
            let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: h.hook.port).get()
            if i % 2 == 0 { try await channel.writeAndFlush(ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01])).get() }
            channels.append(channel)
        }
        // A real client still gets through, quickly.
        let start = ContinuousClock.now
        #expect(try await Self.alive(h.hook))
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .seconds(1), "healthz took \(elapsed) under the flood")
        // The server closes every unfinished connection after the read timeout.
        try await Task.sleep(for: .seconds(3))
        let open = channels.filter { $0.isActive }.count
        #expect(open == 0, "\(open) unfinished connections still open")
        for c in channels { try? await c.close().get() }
        #expect(try await Self.alive(h.hook))
        await h.stop()
    }
}

/// The real registry and OpenBao: junk signature artifacts and many keys.
@Suite("Hostile registry content against the real webhook", .serialized)
struct HostileRegistryTests {
    static func policy(registry: String, failurePolicy: String, keys: [String]) -> String {
        let entries = keys.map { pem in
            "                - keys:\n                    publicKeys: |-\n" + pem.split(separator: "\n").map { "                      \($0)" }.joined(separator: "\n")
                + "\n                    rekor:\n                      ignoreTlog: true"
        }.joined(separator: "\n")
        return """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: many-keys
        spec:
          validationFailureAction: Enforce
          failurePolicy: \(failurePolicy)
          rules:
            - name: signed
              match:
                any:
                  - resources:
                      kinds: [Pod]
              verifyImages:
                - imageReferences: ["\(registry)/*"]
                  attestors:
                    - count: 1
                      entries:
        \(entries)
        """
    }

    static func harness(registry: RegistryServer, client: RegistryClient, policy: String) async throws -> TestWebhook {
        try await TestWebhook.serving([policy], verifier: CosignImageVerifier(client: client, keyProviders: KeyProviderRegistry(providers: [:]))).0
    }

    static func pod(_ image: String) -> AdmissionRequestBuilder {
        var b = AdmissionRequestBuilder()
        b.images = [image]
        return b
    }

    // 7 (and issue 11): twenty keys, signed by the last, any number of entries.
    @Test(arguments: ["Fail", "Ignore"])
    func twentyKeysSignedByTheLastVerifyInOneRegistryPass(failurePolicy: String) async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let client = RegistryClient()
        let keys = try (0..<20).map { _ in try PrivateKey.generate() }
        var pems: [String] = []
        for k in keys { pems.append(try await k.publicKey().pemRepresentation) }
        let signed = try await Self.push(client, registry, tag: "signed")
        _ = try await ImageSigner(signer: keys[19]).signAndUpload(image: signed, store: SignatureStore(client: client))
        let unsigned = try await Self.push(client, registry, tag: "unsigned")
        let hook = try await Self.harness(registry: registry, client: client,
                                          policy: Self.policy(registry: registry.host, failurePolicy: failurePolicy, keys: pems))
        let before = client.roundTrips
        let ok = try await hook.review("/mutate", Self.pod("\(registry.host)/shop/app:signed"))
        #expect(ok.response?["allowed"] == true, "\(ok.text)")
        let passes = client.roundTrips - before
        // One pass: resolve the tag, the signature manifest, its layer, the referrers (+ fallback tag).
        #expect(passes <= 6, "\(passes) registry round trips for 20 keys")
        let denied = try await hook.review("/mutate", Self.pod(unsigned.description))
        #expect(denied.response?["allowed"] == false, "unsigned image admitted under \(failurePolicy): \(denied.text)")
        await hook.stop()
    }

    // 6: junk in the signature tag is a verification failure, never an error that Ignore lets through.
    @Test(arguments: [101, 1])
    func junkSignatureArtifactsAreFailuresUnderIgnore(layers: Int) async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let client = RegistryClient()
        let key = try PrivateKey.generate()
        let image = try await Self.push(client, registry, tag: "junk\(layers)")
        let junk = Data("junk".utf8)
        let repo = try Reference(parsing: "\(registry.host)/shop/app")
        let blob = try await client.pushBlob(junk, to: repo)
        _ = blob
        let junkDigest = SignetOCI.Digest.sha256(junk)
        let config = Data("{}".utf8)
        let configDigest = try await client.pushBlob(config, to: repo)
        _ = configDigest
        // 101 junk layers, or one layer claiming 2 MiB.
        let size = layers == 1 ? 2 * 1024 * 1024 : junk.count
        let layerJSON = (0..<layers).map { _ in
            #"{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"\#(junkDigest)","size":\#(size),"annotations":{"dev.cosignproject.cosign/signature":"AAAA"}}"#
        }.joined(separator: ",")
        let manifest = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(SignetOCI.Digest.sha256(config))","size":\#(config.count)},"layers":[\#(layerJSON)]}"#
        let hex = image.digest?.encoded ?? ""
        _ = try await client.putManifest(Data(manifest.utf8), mediaType: .ociManifest,
                                         to: try Reference(parsing: "\(registry.host)/shop/app:sha256-\(hex).sig"))
        let hook = try await Self.harness(registry: registry, client: client,
                                          policy: HostileRegistryTests.policy(registry: registry.host, failurePolicy: "Ignore",
                                                                              keys: [try await key.publicKey().pemRepresentation]))
        let reply = try await hook.review("/mutate", Self.pod(image.description))
        #expect(reply.response?["allowed"] == false, "junk signatures let the image through under Ignore: \(reply.text)")
        await hook.stop()
    }

    static func push(_ client: RegistryClient, _ registry: RegistryServer, tag: String) async throws -> Reference {
        let image = TestImage(layerCount: 1)
        let ref = try Reference(parsing: "\(registry.host)/shop/app:\(tag)")
        let digest = try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
        return ref.withDigest(digest)
    }
}
