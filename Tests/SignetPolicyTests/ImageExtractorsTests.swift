import Foundation
import Testing
@testable import SignetPolicy
import SignetPrimitives
import SignetOCI

/// ClusterPolicy `imageExtractors` (Kyverno pkg/utils/api/image.go).
@Suite struct ImageExtractorsTests {
    static let dataVolumePolicy = """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: check-data-volume-image}
    spec:
      validationFailureAction: Enforce
      rules:
      - name: verify-signature
        imageExtractors:
          DataVolume:
          - jmesPath: trim_prefix(@, 'docker://')
            path: /spec/source/registry/url
        match:
          any:
          - resources:
              kinds: [DataVolume]
        verifyImages:
        - imageReferences: ['trusted.io/*']
          mutateDigest: false
          verifyDigest: false
          attestors:
          - entries:
            - keys:
                publicKeys: |
                  -----BEGIN PUBLIC KEY-----
                  KEY-A
                  -----END PUBLIC KEY-----
                rekor: {ignoreTlog: true}
    """

    static func dataVolume(_ url: String) -> JSONValue {
        ["apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": ["name": "dv", "namespace": "default"],
         "spec": ["source": ["registry": ["url": .string(url)]]]]
    }

    @Test func loadsWithoutDiagnostics() throws {
        let p = try loadPolicy(Self.dataVolumePolicy)
        #expect(p.diagnostics.isEmpty)
        #expect(p.rules[0].unsupported.isEmpty)
        let c = try #require(p.rules[0].imageExtractors?["DataVolume"]?.first)
        #expect(c.fieldsAndValue.0 == ["spec", "source", "registry"])
        #expect(c.fieldsAndValue.1 == "url")
    }

    @Test(arguments: [("docker://trusted.io/app:1", RuleStatus.pass), ("docker://trusted.io/app:2", .fail)])
    func verifiesExtractedImages(_ url: String, _ want: RuleStatus) async throws {
        let v = FakeVerifier(signed: ["trusted.io/app:1": ["A"]])
        let engine = PolicyEngine(policies: [try loadPolicy(Self.dataVolumePolicy)], verifier: v)
        let plan = engine.verificationPlan(Self.dataVolume(url))
        #expect(plan.requests.map(\.image) == [url.replacingOccurrences(of: "docker://", with: "")])
        let r = await engine.evaluate(Self.dataVolume(url))
        #expect(r.policies[0].rules.map(\.status) == [want])
    }

    @Test func untrustedImagesAreNotVerified() async throws {
        let engine = PolicyEngine(policies: [try loadPolicy(Self.dataVolumePolicy)], verifier: FakeVerifier(signed: [:]))
        let r = await engine.evaluate(Self.dataVolume("docker://other.io/app:1"))
        #expect(r.policies[0].rules.isEmpty)
    }

    @Test func jmesPathWithMutateDigestIsInvalid() throws {
        let p = try loadPolicy(Self.dataVolumePolicy.replacingOccurrences(of: "mutateDigest: false", with: "mutateDigest: true"))
        #expect(p.diagnostics.contains { $0.severity == .error && $0.message.contains("jmespath may not be used") })
    }

    @Test func invalidExtractorsAreDiagnosed() throws {
        let bad = try loadPolicy(Self.dataVolumePolicy.replacingOccurrences(of: "trim_prefix(@, 'docker://')", with: "trim_prefix(@"))
        #expect(bad.isInvalid)
        let noPath = try loadPolicy(Self.dataVolumePolicy.replacingOccurrences(of: "path: /spec/source/registry/url", with: "name: x"))
        #expect(noPath.diagnostics.contains { $0.path.hasSuffix("imageExtractors.DataVolume[0].path") })
    }

    /// Wildcards over arrays and maps, `key`, `value` and `name` (Kyverno's extractor test shapes).
    @Test func wildcardKeyValueAndName() throws {
        let tekton: JSONValue = ["kind": "Task", "spec": ["steps": [["name": "build", "image": "ghcr.io/a/b:1"], ["name": "push", "image": "c:2"], ["name": "none"]],
                                                          "sidecars": ["s1": ["img": .string("d@sha256:" + String(repeating: "b", count: 64))]]]]
        let ex: [String: [ImageExtractorConfig]] = ["Task": [try ImageExtractorConfig(path: "/spec/steps/*", value: "image", name: "steps", key: "name"),
                                                             try ImageExtractorConfig(path: "/spec/sidecars/*/img")]]
        let found = try KyvernoImage.extract(from: tekton, kind: "Task", extractors: ex)
        #expect(found.map(\.group) == ["steps", "steps", "custom"])
        #expect(found.map(\.key) == ["build", "push", "/spec/sidecars/s1/img"])
        #expect(found.map(\.image.string) == ["ghcr.io/a/b:1", "docker.io/c:2", "docker.io/d@sha256:" + String(repeating: "b", count: 64)])
        #expect(found.map(\.image.pointer) == ["/spec/steps/0/image", "/spec/steps/1/image", "/spec/sidecars/s1/img"])
        let variable = KyvernoImage.imagesVariable(found)
        #expect(variable["steps"]?["build"]?["registry"] == "ghcr.io")
        #expect(variable["custom"]?["/spec/sidecars/s1/img"]?["path"] == "d")
        // other kinds keep the standard extractors
        let pod = pod(images: ["nginx:1"])
        #expect(try KyvernoImage.extract(from: pod, kind: "Pod", extractors: ex).map(\.group) == ["containers"])
    }

    @Test(arguments: [
        ("/spec/x/*/image", ["spec": ["x": 3]] as JSONValue, "invalid type"),
        ("/spec/x/image", ["spec": ["x": [1]]] as JSONValue, "invalid image config"),
    ])
    func malformedDataIsAnError(_ path: String, _ spec: JSONValue, _ message: String) throws {
        var resource = spec
        if case .object(var o) = resource { o["kind"] = "Thing"; resource = .object(o) }
        let ex = ["Thing": [try ImageExtractorConfig(path: path)]]
        #expect(throws: SignetPolicyError.self) { try KyvernoImage.extract(from: resource, kind: "Thing", extractors: ex) }
        do { _ = try KyvernoImage.extract(from: resource, kind: "Thing", extractors: ex) } catch { #expect(error.message == message) }
    }

    @Test func nonStringJMESPathResultIsARuleError() async throws {
        let yaml = Self.dataVolumePolicy.replacingOccurrences(of: "trim_prefix(@, 'docker://')", with: "length(@)")
        let engine = PolicyEngine(policies: [try loadPolicy(yaml)], verifier: FakeVerifier(signed: [:]))
        let r = await engine.evaluate(Self.dataVolume("docker://trusted.io/app:1"))
        #expect(r.policies[0].rules.first?.status == .error)
        #expect(r.policies[0].rules.first?.message.hasPrefix("failed to extract images: jmespath length(@) must produce a string") == true)
    }

    /// `KyvernoImage.count` finds what the standard extraction finds, without parsing (the warm
    /// path's bound on the images a request can ask to verify).
    @Test(arguments: [
        (#"{"kind":"Pod","spec":{"containers":[{"image":"a:1"},{"image":" "}],"initContainers":[{"image":"b"}],"ephemeralContainers":[{"name":"x"}]}}"#, "Pod"),
        (#"{"kind":"Deployment","spec":{"template":{"spec":{"containers":[{"image":"a"},{"image":"a"}]}}}}"#, "Deployment"),
        (#"{"kind":"CronJob","spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"image":"c"}]}}}}}}"#, "CronJob"),
        (#"{"kind":"ConfigMap","data":{"image":"a"}}"#, "ConfigMap"),
        (#"{"kind":"Pod","spec":{"containers":"not a list"}}"#, "Pod"),
    ])
    func countMatchesTheStandardExtraction(_ json: String, _ kind: String) throws {
        let resource = try JSONValue(json: Data(json.utf8))
        #expect(KyvernoImage.count(in: resource, kind: kind) == KyvernoImage.extract(from: resource, kind: kind).count)
    }

    /// Results held win; a source answers what they do not hold; neither reads as missing.
    @Test func verificationResultsReadTheirSourceForWhatTheyDoNotHold() throws {
        struct Source: VerificationResultSource {
            let answer: ImageVerificationRequest
            func result(for request: ImageVerificationRequest) -> ImageVerificationResult? {
                request == answer ? .verified(digest: "sha256:source") : nil
            }
        }
        func request(_ image: String) throws -> ImageVerificationRequest {
            ImageVerificationRequest(image: image, reference: try #require(Reference.parsedIfValid(image)), key: .publicKey("pem"))
        }
        let held = try request("r.io/held:1"), asked = try request("r.io/asked:1"), neither = try request("r.io/neither:1")
        var results = VerificationResults(source: Source(answer: asked))
        results[held] = .notVerified("held")
        #expect(results[held]?.status == .notVerified)
        #expect(results[asked]?.digest == "sha256:source")
        #expect(results[neither] == nil)
        #expect(!results.isEmpty && results.stored.count == 1)
        let literal: VerificationResults = [held: .verified(digest: "sha256:held")]
        #expect(literal[held]?.digest == "sha256:held" && literal.source == nil)
    }
}
