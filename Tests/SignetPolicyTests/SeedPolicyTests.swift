import Foundation
import Testing
import SignetTestSupport
@testable import SignetPolicy
import SignetPrimitives

/// The seed's ClusterPolicy (examples/seed) with its three Pods, against a fake verifier.
@Suite struct SeedPolicyTests {
    static let registry = "127.0.0.1:5000"

    static func load(_ rel: String) throws -> String {
        let path = RepositoryPaths.root.appendingPathComponent("examples/seed/" + rel).path
        guard let d = FileManager.default.contents(atPath: path) else { throw SignetPolicyError(.io, "missing \(path)") }
        return String(decoding: d, as: UTF8.self).replacingOccurrences(of: "REGISTRY", with: registry)
    }

    func engine() throws -> (PolicyEngine, FakeVerifier) {
        let r = try PolicyLoader().load(yaml: try SeedPolicyTests.load("container-image-policy.yaml"))
        #expect(r.policies.count == 1)
        #expect(r.policies[0].diagnostics.isEmpty, "\(r.policies[0].diagnostics)")
        let v = FakeVerifier(signed: ["\(SeedPolicyTests.registry)/demo/signed:1.0": ["hashivault://cosign"]],
                             digests: ["\(SeedPolicyTests.registry)/demo/signed:1.0": "sha256:" + String(repeating: "c", count: 64)])
        return (PolicyEngine(policies: r.policies, verifier: v), v)
    }

    func pod(_ name: String) throws -> JSONValue { try YAMLDocuments.parse(try SeedPolicyTests.load("pods/\(name).yaml"))[0] }

    @Test func ubuntuIsBlockedByTheRegistryRule() async throws {
        let (engine, v) = try engine()
        let r = await engine.evaluate(try pod("ubuntu"))
        #expect(r.blocked)
        #expect(r.blockMessage == "\n\nresource Pod/default/ubuntu was blocked due to the following policies \n\ncontainer-image-policy:\n  check-registry: 'validation error: Unknown image registry. rule check-registry failed at path /spec/containers/0/image/'\n")
        #expect(v.calls.isEmpty)
    }

    @Test func unsignedImageIsBlockedBySignatureRule() async throws {
        let (engine, _) = try engine()
        let r = await engine.evaluate(try pod("unsigned"))
        #expect(r.blocked)
        #expect(r.blockMessage == "\n\nresource Pod/default/unsigned was blocked due to the following policies \n\ncontainer-image-policy:\n  check-image-signature: 'failed to verify image 127.0.0.1:5000/demo/unsigned:1.0: .attestors[0].entries[0].keys: no matching signatures'\n")
    }

    @Test func signedImageIsAdmittedWithItsDigestPinned() async throws {
        let (engine, v) = try engine()
        let r = await engine.evaluate(try pod("signed"))
        #expect(!r.blocked, "\(r.blockMessage)")
        #expect(r.policies[0].rules.map(\.status) == [.pass, .pass])
        #expect(r.patches.map(\.value) == [.string("127.0.0.1:5000/demo/signed:1.0@sha256:" + String(repeating: "c", count: 64))])
        #expect(v.calls.first?.key == .kms("hashivault://cosign"))
    }
}
