import Foundation
import Testing
import SignetOCI
@testable import SignetPolicy
import SignetPrimitives

/// A verifier that knows which (image, key) pairs are signed, and records its calls.
final class FakeVerifier: ImageVerifier, @unchecked Sendable {
    let signed: [String: Set<String>]   // image (Kyverno name) -> keys that signed it
    let digests: [String: String]
    let throwing: Bool
    private let lock = NSLock()
    private var _calls: [ImageVerificationRequest] = []
    var calls: [ImageVerificationRequest] { lock.withLock { _calls } }

    init(signed: [String: Set<String>], digests: [String: String] = [:], throwing: Bool = false) {
        self.signed = signed
        self.digests = digests
        self.throwing = throwing
    }

    func verify(_ request: ImageVerificationRequest) async throws -> ImageVerificationResult {
        lock.withLock { _calls.append(request) }
        if throwing { throw SignetPolicyError(.io, "registry unreachable") }
        let key: String
        switch request.key {
        case .publicKey(let pem): key = pem.contains("KEY-A") ? "A" : pem.contains("KEY-B") ? "B" : pem.contains("KEY-C") ? "C" : "?"
        case .kms(let uri): key = uri
        }
        let digest = digests[request.image] ?? "sha256:" + String(repeating: "a", count: 64)
        if signed[request.image]?.contains(key) == true { return .verified(digest: digest) }
        return .notVerified("no matching signatures", digest: digest)
    }
}

func pem(_ tag: String) -> String { "-----BEGIN PUBLIC KEY-----\n\(tag)\n-----END PUBLIC KEY-----\n" }

func imagePolicy(refs: String = "['trusted.io/*']", attestors: String, extra: String = "", action: String = "Enforce", rekor: String = "rekor: {ignoreTlog: true}") -> String {
    """
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: check-images}
    spec:
      validationFailureAction: \(action)
      webhookTimeoutSeconds: 30
      rules:
      - name: verify
        match:
          resources:
            kinds: [Pod]
        verifyImages:
        - imageReferences: \(refs)
    \(extra)      attestors:
    \(attestors.replacingOccurrences(of: "REKOR", with: rekor))
    """
}

let oneKey = """
          - entries:
            - keys:
                publicKeys: |-
                  -----BEGIN PUBLIC KEY-----
                  KEY-A
                  -----END PUBLIC KEY-----
                REKOR
"""

let threeKeysCount = """
          - count: COUNT
            entries:
            - keys:
                publicKeys: |-
                  -----BEGIN PUBLIC KEY-----
                  KEY-A
                  -----END PUBLIC KEY-----
                  -----BEGIN PUBLIC KEY-----
                  KEY-B
                  -----END PUBLIC KEY-----
                REKOR
            - keys:
                kms: hashivault://cosign
                REKOR
"""

@Suite struct VerifyImagesTests {
    @Test(arguments: [
        ("trusted.io/*", "trusted.io/app:1", true),
        ("trusted.io/*", "evil.io/x.trusted.io/app:1", false),
        ("*.trusted.io/*", "evil.com/x.trusted.io/app:1", false),
        ("*.trusted.io/*", "eu.trusted.io/team/app:1", true),
        ("*", "nginx", true),
        ("docker.io/nginx*", "nginx:1.25", true),
        ("ghcr.io/org/*", "ghcr.io/other/app:1", false),
        // Every spelling of a host: case, the HTTPS default port, Docker Hub's aliases.
        ("trusted.io/*", "Trusted.IO:443/app:1", true),
        ("docker.io/library/*", "index.docker.io/library/nginx:1", true),
        ("docker.io/library/*", "registry-1.docker.io/nginx:1", true),
        ("docker.io/library/*", "evil.docker.io/nginx:1", false),
        ("registry.example.com:5000/*", "registry.example.com:5000/bench/app:v1@sha256:ab", true),
        ("registry.example.com:5000/*", "registry.example.com:5001/bench/app:v1", false),
    ])
    func referenceGlobsMatchHostAndPathSeparately(_ glob: String, _ image: String, _ expected: Bool) {
        #expect(KyvernoImage(parsing: image).matches(glob) == expected)
    }

    @Test(arguments: [("nginx", "docker.io/nginx:latest"), ("library/nginx:1", "docker.io/library/nginx:1"), ("localhost:5000/a@sha256:ab", "localhost:5000/a@sha256:ab"),
                      ("ghcr.io/a/b:1@sha256:cd", "ghcr.io/a/b@sha256:cd")])
    func kyvernoImageNames(_ raw: String, _ expected: String) {
        #expect(KyvernoImage(parsing: raw).string == expected)
    }

    /// Requests that differ only in what the policy fixes (key, options) stay distinct keys,
    /// though their hash leaves those fields out.
    @Test func requestsDifferingOnlyInPolicyFieldsStayDistinct() throws {
        let reference = try Reference(parsing: "r.io/app:1")
        let base = ImageVerificationRequest(image: "r.io/app:1", reference: reference, key: .kms("hashivault://a"))
        var variants = [base, ImageVerificationRequest(image: "r.io/app:1", reference: reference, key: .kms("hashivault://b")),
                        ImageVerificationRequest(image: "r.io/app:1", reference: reference, key: .publicKey("PEM"))]
        var options = base
        options.signatureAlgorithm = "sha512"
        variants.append(options)
        options = base
        options.annotations = ["env": "prod"]
        variants.append(options)
        var table: [ImageVerificationRequest: Int] = [:]
        for (i, r) in variants.enumerated() { table[r] = i }
        #expect(table.count == variants.count)
        for (i, r) in variants.enumerated() { #expect(table[r] == i) }
    }

    /// Image pointers name the field each image sits in, for every kind with a Pod spec.
    @Test(arguments: ["Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"])
    func imagePointersFollowTheKindsPodSpec(kind: String) throws {
        let path = try #require(KyvernoImage.podSpecPath(ofKind: kind))
        var spec: JSONValue = ["initContainers": [["image": "a"]], "containers": [["image": "b"], ["image": "c"]]]
        for key in path.reversed() { spec = .object([key: spec]) }
        let pointers = KyvernoImage.extract(from: spec, kind: kind).map(\.pointer)
        let base = "/" + path.joined(separator: "/")
        #expect(pointers == [base + "/initContainers/0/image", base + "/containers/0/image", base + "/containers/1/image"])
    }

    @Test func signedImagePassesAndDigestIsMutated() async throws {
        let p = try loadPolicy(imagePolicy(attestors: oneKey))
        #expect(!p.isInvalid, "\(p.diagnostics)")
        let digest = "sha256:" + String(repeating: "b", count: 64)
        let v = FakeVerifier(signed: ["trusted.io/app:1": ["A"]], digests: ["trusted.io/app:1": digest])
        let engine = PolicyEngine(policies: [p], verifier: v)
        let r = await engine.evaluate(pod(images: ["trusted.io/app:1"]))
        let rules = r.policies[0].rules
        #expect(rules.map(\.status) == [.pass])
        #expect(rules[0].message == "verified image signatures for trusted.io/app:1")
        #expect(r.patches == [JSONPatchOperation(op: "replace", path: "/spec/containers/0/image", value: .string("trusted.io/app:1@" + digest))])
        #expect(JSONPatchOperation.document(r.patches) == "[{\"op\":\"replace\",\"path\":\"/spec/containers/0/image\",\"value\":\"trusted.io/app:1@\(digest)\"}]")
        #expect(!r.blocked)
        #expect(v.calls.first?.ignoreTlog == true)
        #expect(v.calls.first?.reference.registry == "trusted.io")
    }

    @Test func unsignedImageFailsWithKyvernosMessage() async throws {
        let engine = PolicyEngine(policies: [try loadPolicy(imagePolicy(attestors: oneKey))], verifier: FakeVerifier(signed: [:]))
        let r = await engine.evaluate(pod(name: "web", images: ["trusted.io/app:1"]))
        #expect(r.policies[0].rules.map(\.message) == ["failed to verify image trusted.io/app:1: .attestors[0].entries[0].keys: no matching signatures"])
        #expect(r.blocked)
        #expect(r.blockMessage.contains("check-images:\n  verify: 'failed to verify image trusted.io/app:1: .attestors[0].entries[0].keys: no matching signatures'"))
    }

    @Test func imagesOutsideTheReferencesAreNotChecked() async throws {
        let v = FakeVerifier(signed: [:])
        let engine = PolicyEngine(policies: [try loadPolicy(imagePolicy(attestors: oneKey))], verifier: v)
        let r = await engine.evaluate(pod(images: ["evil.io/x.trusted.io/app:1"]))
        #expect(r.policies[0].rules.isEmpty)
        #expect(v.calls.isEmpty)
    }

    @Test func skipImageReferences() async throws {
        let yaml = imagePolicy(attestors: oneKey, extra: "      skipImageReferences: ['trusted.io/base/*']\n")
        let engine = PolicyEngine(policies: [try loadPolicy(yaml)], verifier: FakeVerifier(signed: [:]))
        let r = await engine.evaluate(pod(images: ["trusted.io/base/x:1"]))
        #expect(r.policies[0].rules.first?.status == .skip)
        #expect(r.policies[0].rules.first?.message == "skipping image reference image trusted.io/base/x:1, policy check-images ruleName verify")
    }

    /// count unset: every entry (a multi-PEM publicKeys is one entry per key) must verify.
    @Test(arguments: [
        ("", Set(["A", "B", "hashivault://cosign"]), RuleStatus.pass),
        ("", Set(["A", "B"]), .fail),
        ("1", Set(["B"]), .pass),
        ("2", Set(["A", "hashivault://cosign"]), .pass),
        ("2", Set(["A"]), .fail),
    ])
    func countSemantics(_ count: String, _ keys: Set<String>, _ expected: RuleStatus) async throws {
        var att = threeKeysCount
        if count.isEmpty { att = att.replacingOccurrences(of: "          - count: COUNT\n            entries:", with: "          - entries:") }
        else { att = att.replacingOccurrences(of: "COUNT", with: count) }
        let p = try loadPolicy(imagePolicy(attestors: att))
        #expect(p.effectiveRules[0].verifyImages[0].attestors[0].entries.count == 3)
        let engine = PolicyEngine(policies: [p], verifier: FakeVerifier(signed: ["trusted.io/app:1": keys]))
        let r = await engine.evaluate(pod(images: ["trusted.io/app:1"]))
        #expect(r.policies[0].rules.first?.status == expected, "\(r.policies[0].rules)")
    }

    @Test func transparencyLogIsNeverConsulted() async throws {
        let v = FakeVerifier(signed: ["trusted.io/app:1": ["A"]])
        let engine = PolicyEngine(policies: [try loadPolicy(imagePolicy(attestors: oneKey, rekor: "rekor: {url: https://rekor.sigstore.dev}"))], verifier: v)
        let r = await engine.evaluate(pod(images: ["trusted.io/app:1"]))
        #expect(r.policies[0].rules.first?.status == .fail)
        #expect(r.policies[0].rules.first?.message.contains("does not consult a public transparency log") == true)
        #expect(v.calls.isEmpty)
    }

    @Test func auditWithMutateDigestIsInvalid() throws {
        let p = try loadPolicy(imagePolicy(attestors: oneKey, action: "Audit"))
        #expect(p.isInvalid)
        #expect(p.diagnostics.contains { $0.path.hasSuffix("verifyImages[0].mutateDigest") && $0.message.contains("Audit") })
        let ok = try loadPolicy(imagePolicy(attestors: oneKey, extra: "      mutateDigest: false\n      verifyDigest: false\n", action: "Audit"))
        #expect(!ok.isInvalid, "\(ok.diagnostics)")
    }

    @Test func verifyDigestWithoutMutationFails() async throws {
        let p = try loadPolicy(imagePolicy(attestors: oneKey, extra: "      mutateDigest: false\n"))
        let engine = PolicyEngine(policies: [p], verifier: FakeVerifier(signed: ["trusted.io/app:1": ["A"]]))
        let r = await engine.evaluate(pod(images: ["trusted.io/app:1"]))
        #expect(r.policies[0].rules.map(\.message) == ["verified image signatures for trusted.io/app:1", "missing digest for trusted.io/app:1"])
        #expect(r.blocked)
    }

    @Test func repositoryAndAnnotationsReachTheVerifier() async throws {
        let p = try loadPolicy(imagePolicy(attestors: oneKey, extra: "      repository: sigs.io/signatures\n      annotations: {env: prod}\n"))
        let v = FakeVerifier(signed: ["trusted.io/app:1": ["A"]])
        _ = await PolicyEngine(policies: [p], verifier: v).evaluate(pod(images: ["trusted.io/app:1"]))
        #expect(v.calls.first?.signatureRepository == "sigs.io/signatures")
        #expect(v.calls.first?.annotations == ["env": "prod"])
    }

    @Test func verifierErrorsAreRuleErrors() async throws {
        let engine = PolicyEngine(policies: [try loadPolicy(imagePolicy(attestors: oneKey))], verifier: FakeVerifier(signed: [:], throwing: true))
        let r = await engine.evaluate(pod(images: ["trusted.io/app:1"]))
        #expect(r.policies[0].rules.first?.status == .error)
        #expect(r.blocked)  // failurePolicy Fail
    }

    @Test func noVerifierConfigured() async throws {
        let engine = PolicyEngine(policies: [try loadPolicy(imagePolicy(attestors: oneKey))])
        let r = await engine.evaluate(pod(images: ["trusted.io/app:1"]))
        #expect(r.policies[0].rules.first?.message == "failed to verify image trusted.io/app:1: .attestors[0].entries[0].keys: no image verifier is configured")
    }

    @Test func secretKeysComeFromConfiguration() async throws {
        let att = """
                  - entries:
                    - keys:
                        secret: {name: cosign-pub, namespace: kyverno}
                        REKOR
        """
        let p = try loadPolicy(imagePolicy(attestors: att))
        let v = FakeVerifier(signed: ["trusted.io/app:1": ["B"]])
        let engine = PolicyEngine(policies: [p], verifier: v, configuration: .init(secretKeys: ["kyverno/cosign-pub": pem("KEY-A") + pem("KEY-B")]))
        let r = await engine.evaluate(pod(images: ["trusted.io/app:1"]))
        #expect(r.policies[0].rules.first?.status == .pass)
    }

    @Test func autogenAppliesToControllers() async throws {
        let p = try loadPolicy(imagePolicy(attestors: oneKey))
        #expect(p.effectiveRules.map(\.name) == ["verify", "autogen-verify", "autogen-cronjob-verify"])
        let deploy: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d", "namespace": "default"],
                                 "spec": ["template": ["spec": ["initContainers": [["image": "trusted.io/init:1"]], "containers": [["image": "trusted.io/app:1"]]]]]]
        let engine = PolicyEngine(policies: [p], verifier: FakeVerifier(signed: ["trusted.io/app:1": ["A"], "trusted.io/init:1": ["A"]]))
        let r = await engine.evaluate(deploy)
        #expect(r.policies[0].rules.map(\.rule) == ["autogen-verify", "autogen-verify"])
        #expect(r.patches.map(\.path) == ["/spec/template/spec/initContainers/0/image", "/spec/template/spec/containers/0/image"])
    }
}
