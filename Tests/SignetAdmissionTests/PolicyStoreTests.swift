import Foundation
import Logging
import SignetPolicy
import Testing
@testable import SignetAdmission

@Suite("Policy reload")
struct PolicyStoreTests {
    static let invalid = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: broken
        spec:
          validationFailureAction: Audit
          rules:
            - name: r
              match:
                any:
                  - resources:
                      kinds: [Pod]
              verifyImages:
                - imageReferences: ["*"]
                  mutateDigest: true
                  attestors:
                    - entries:
                        - keys:
                            kms: hashivault://cosign
        """

    @Test func aBadPolicyFileIsReportedAndTheLastGoodSetKeepsServing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-policies-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try TestPolicies.verifyImages().write(to: dir.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        let metrics = AdmissionMetrics()
        let store = PolicyStore(directory: dir.path, logger: Logger(label: "t"), metrics: metrics)
        try store.load()
        #expect(store.current?.policies.map(\.policy.name) == ["require-signed"])
        let firstVersion = store.current?.policies.first?.version

        // An invalid policy (mutateDigest under Audit) and a file that is not YAML.
        try Self.invalid.write(to: dir.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        store.reloadIfChanged()
        #expect(store.current?.policies.map(\.policy.name) == ["require-signed"])
        #expect(store.lastError?.contains("broken") == true)
        #expect(String(decoding: metrics.exposition(), as: UTF8.self).contains("signet_policy_reload_errors_total 1"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("b.yaml"))
        try "rules: [unclosed".write(to: dir.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        store.reloadIfChanged()
        #expect(store.current?.policies.count == 1)
        #expect(store.lastError != nil)

        // Fixed: a new good set (and an edit changes the version the cache is keyed by).
        try FileManager.default.removeItem(at: dir.appendingPathComponent("c.yaml"))
        try TestPolicies.verifyImages(action: "Enforce", failurePolicy: "Ignore")
            .write(to: dir.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try TestPolicies.requireTeamLabel.write(to: dir.appendingPathComponent("z.yml"), atomically: true, encoding: .utf8)
        store.reloadIfChanged()
        #expect(store.lastError == nil)
        #expect(store.current?.policies.map(\.policy.name) == ["require-signed", "require-team"])
        #expect(store.current?.policies.first?.version != firstVersion)
        #expect(store.current?.policies.first?.policy.failurePolicy == .ignore)
    }

    @Test func hiddenConfigMapFoldersAreNotReadTwice() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-cm-\(UUID().uuidString)")
        let data = dir.appendingPathComponent("..2026_11_28")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try TestPolicies.verifyImages().write(to: data.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("..data").path, withDestinationPath: "..2026_11_28")
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("p.yaml").path, withDestinationPath: "..data/p.yaml")
        let store = PolicyStore(directory: dir.path, logger: Logger(label: "t"))
        try store.load()
        #expect(store.current?.policies.count == 1)
    }

    @Test func aMissingDirectoryIsAnError() {
        let store = PolicyStore(directory: "/nonexistent/signet", logger: Logger(label: "t"))
        #expect(throws: SignetAdmissionError.self) { try store.load() }
        #expect(store.current == nil)
    }
}

@Suite("PolicyExceptions beside the policies")
struct PolicyExceptionTests {
    static let exception = """
        apiVersion: kyverno.io/v2
        kind: PolicyException
        metadata:
          name: trusted-namespace
          namespace: kyverno
        spec:
          exceptions:
            - policyName: require-signed
              ruleNames: ["verify-signature", "autogen-verify-signature"]
          match:
            any:
              - resources:
                  kinds: [Pod]
                  namespaces: [trusted]
        """

    @Test func anExceptionExemptsItsNamespace() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-exc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try TestPolicies.verifyImages().write(to: dir.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        try Self.exception.write(to: dir.appendingPathComponent("exception.yaml"), atomically: true, encoding: .utf8)
        let store = PolicyStore(directory: dir.path, logger: Logger(label: "t"))
        try store.load()
        #expect(store.current?.exceptions.count == 1)
        let registry = FakeRegistry()
        registry.tag("registry.example.com/team/app:1", "sha256:" + String(repeating: "c", count: 64))
        let controller = AdmissionController(policies: store, verification: VerificationService(verifier: registry, resolver: registry),
                                             metrics: AdmissionMetrics(), violations: ViolationStore(), logger: Logger(label: "t"))
        var pod = AdmissionRequestBuilder()
        pod.images = ["registry.example.com/team/app:1"]
        pod.namespace = "trusted"
        #expect(await controller.review(pod.request, phase: .mutate, deadline: .now + .seconds(5)).allowed)
        pod.namespace = "other"
        #expect(await controller.review(pod.request, phase: .mutate, deadline: .now + .seconds(5)).allowed == false)
    }
}
