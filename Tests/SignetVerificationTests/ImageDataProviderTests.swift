import Foundation
import SignetOCI
import SignetPolicy
import SignetPrimitives
import SignetTestSupport
import SignetVerification
import Testing

/// `RegistryImageDataProvider` against a real docker-registry, and the data it fetches driving
/// `image.GetMetadata` (ValidatingPolicy) and an `imageRegistry` context entry (ClusterPolicy).
@Suite(.serialized)
struct ImageDataProviderTests {
    static let vpol = """
    apiVersion: policies.kyverno.io/v1
    kind: ValidatingPolicy
    metadata:
      name: base-image
    spec:
      validationActions: [Deny]
      matchConstraints:
        resourceRules:
        - apiGroups: [""]
          apiVersions: [v1]
          operations: [CREATE]
          resources: [pods]
      validations:
      - expression: >-
          object.spec.containers.all(c,
            image.GetMetadata(c.image).manifest.?annotations.orValue({})['org.opencontainers.image.base.name'] == 'distroless'
            && image.GetMetadata(c.image).config.architecture == 'amd64')
        message: base image not allowed
    """

    static let clusterPolicy = """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata:
      name: image-arch
    spec:
      validationFailureAction: Enforce
      rules:
      - name: arch
        match:
          any:
          - resources:
              kinds: [Pod]
        context:
        - name: imageData
          imageRegistry:
            reference: "{{ request.object.spec.containers[0].image }}"
        validate:
          message: "wrong architecture {{ imageData.configData.architecture }}"
          deny:
            conditions:
              any:
              - key: "{{ imageData.configData.architecture }}"
                operator: NotEquals
                value: amd64
    """

    static func pod(_ image: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "namespace": "default"],
         "spec": ["containers": [["name": "c", "image": .string(image)]]]]
    }

    @Test func fetchesManifestConfigAndDigest() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let client = RegistryClient()
        let image = TestImage(layerCount: 1, annotations: ["org.opencontainers.image.base.name": "distroless"])
        let ref = try Reference(parsing: "\(registry.host)/shop/app:v1")
        let digest = try await client.pushImage(manifest: image.manifestBytes, blobs: image.blobs, to: ref)
        let provider = RegistryImageDataProvider(client: client)

        let data = try await provider.imageData(reference: ref.description)
        #expect(data.image == ref.description)
        #expect(data.registry == registry.host)
        #expect(data.repository == "shop/app")
        #expect(data.identifier == "v1")
        #expect(data.tag == "v1")
        #expect(data.digest == digest.description)
        #expect(data.resolvedImage == "\(registry.host)/shop/app:v1@\(digest)")
        #expect(data.manifest["annotations"]?["org.opencontainers.image.base.name"] == "distroless")
        #expect(data.config["architecture"] == "amd64")
        #expect(data.imageIndex == nil)
        #expect(data.celMetadata["tag"] == "v1")
        #expect(data.contextEntry["configData"]?["os"] == "linux")
        #expect(data.contextEntry["manifestList"] == .null)

        // by digest: no tag, the digest is the identifier
        let byDigest = try await provider.imageData(reference: ref.withDigest(digest).description)
        #expect(byDigest.tag == nil && byDigest.identifier == digest.description)
        #expect(byDigest.resolvedImage == "\(registry.host)/shop/app@\(digest)")
    }

    @Test func indexResolvesToTheLinuxAmd64Image() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let client = RegistryClient()
        let amd = TestImage(layerCount: 1, annotations: ["platform": "amd64"])
        let arm = TestImage(layerCount: 1, annotations: ["platform": "arm64"])
        let repo = try Reference(parsing: "\(registry.host)/multi/app:latest")
        var entries: [Descriptor] = []
        for (img, arch) in [(arm, "arm64"), (amd, "amd64")] {
            let d = try await client.pushImage(manifest: img.manifestBytes, blobs: img.blobs, to: repo.withDigest(img.digest))
            entries.append(Descriptor(mediaType: .ociManifest, digest: d, size: Int64(img.manifestBytes.count),
                                      platform: Platform(architecture: arch, os: "linux")))
        }
        let index = ImageIndex(manifests: entries).jsonData()
        let indexDigest = try await client.putManifest(index, mediaType: .ociIndex, to: repo)
        let data = try await RegistryImageDataProvider(client: client).imageData(reference: repo.description)
        #expect(data.manifest["annotations"]?["platform"] == "amd64")
        #expect(data.digest == indexDigest.description)
        #expect(data.imageIndex?["manifests"]?.arrayValue?.count == 2)
        #expect(data.contextEntry["manifestList"]?["manifests"]?.arrayValue?.count == 2)
    }

    @Test func missingImagesAndBadReferencesThrow() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let provider = RegistryImageDataProvider(client: RegistryClient())
        await #expect(throws: SignetPolicyError.self) { try await provider.imageData(reference: "\(registry.host)/nope/none:v1") }
        await #expect(throws: SignetPolicyError.self) { try await provider.imageData(reference: "UPPER CASE//bad") }
        // a prefetch records the failure instead of throwing
        let pre = await PrefetchedImageData.fetch(for: Self.pod("\(registry.host)/nope/none:v1"), provider: provider)
        #expect(pre.images.isEmpty && pre.failures.count == 1)
    }

    @Test func prefetchedDataDrivesGetMetadataAndImageRegistryContext() async throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let client = RegistryClient()
        let good = TestImage(layerCount: 1, annotations: ["org.opencontainers.image.base.name": "distroless"])
        let bad = TestImage(layerCount: 1, annotations: ["org.opencontainers.image.base.name": "ubuntu"])
        let goodRef = "\(registry.host)/shop/good:v1", badRef = "\(registry.host)/shop/bad:v1"
        _ = try await client.pushImage(manifest: good.manifestBytes, blobs: good.blobs, to: try Reference(parsing: goodRef))
        _ = try await client.pushImage(manifest: bad.manifestBytes, blobs: bad.blobs, to: try Reference(parsing: badRef))
        let provider = RegistryImageDataProvider(client: client)

        let loaded = try PolicyLoader().load(yaml: Self.vpol)
        let cel = CELPolicyEngine(policies: loaded.validatingPolicies)
        let cp = try PolicyLoader().load(yaml: Self.clusterPolicy)
        for (ref, expected) in [(goodRef, RuleStatus.pass), (badRef, .fail)] {
            let pod = Self.pod(ref)
            let pre = await PrefetchedImageData.fetch(for: pod, provider: provider)
            #expect(pre.failures.isEmpty, "\(pre.failures)")
            var data = KyvernoCELData()
            data.images = pre.celImages
            let results = cel.evaluate(pod, admission: AdmissionInfo(), context: CELRequestContext(data: data))
            #expect(results.first?.rules.first?.status == expected, "\(results)")

            var configuration = PolicyEngine.Configuration()
            configuration.variables.images = pre.contextImages
            let response = await PolicyEngine(policies: cp.policies, configuration: configuration).evaluate(pod)
            #expect(response.policies.first?.rules.first?.status == .pass, "\(response.policies)")
        }
        // without the data, GetMetadata is an error (never a pass)
        let none = cel.evaluate(Self.pod(goodRef), admission: AdmissionInfo())
        #expect(none.first?.rules.first?.status == .error, "\(none)")
    }
}
