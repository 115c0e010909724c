import Foundation
import SignetOCI
import SignetPolicy
import SignetVerification
import Synchronization
@testable import SignetAdmission

/// A stand-in for registry + signatures: tags map to digests, some digests are "signed".
/// Counts calls, can fail (registry / KMS) or be slow.
final class FakeRegistry: ImageVerifier, DigestResolver {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private struct State {
        var tags: [String: String] = [:]
        var signed: Set<String> = []
        var resolveError: String?
        var verifyError: String?
        var delay: Duration = .zero
        var resolves = 0
        var verifies = 0
        var verifiedImages: [String] = []
    }
    private let state = Mutex(State())

    func tag(_ image: String, _ digest: String) { state.withLock { $0.tags[Self.key(try! Reference(parsing: image))] = digest } }
    func sign(_ digest: String) { state.withLock { _ = $0.signed.insert(digest) } }
    func failResolve(_ message: String?) { state.withLock { $0.resolveError = message } }
    func failVerify(_ message: String?) { state.withLock { $0.verifyError = message } }
    func slow(_ delay: Duration) { state.withLock { $0.delay = delay } }
    var resolves: Int { state.withLock { $0.resolves } }
    var verifies: Int { state.withLock { $0.verifies } }
    var verifiedImages: [String] { state.withLock { $0.verifiedImages } }

    static func key(_ r: Reference) -> String { "\(r.repositoryName):\(r.tag ?? "latest")" }

    func resolveDigest(_ reference: Reference) async throws -> SignetOCI.Digest {
        let (error, digest) = state.withLock { s -> (String?, String?) in
            s.resolves += 1
            return (s.resolveError, s.tags[Self.key(reference)])
        }
        if let error { throw Failure(description: error) }
        guard let digest else { throw Failure(description: "manifest unknown: \(reference)") }
        return try SignetOCI.Digest(parsing: digest)
    }

    func verify(_ request: ImageVerificationRequest) async throws -> ImageVerificationResult {
        let (error, delay) = state.withLock { s -> (String?, Duration) in
            s.verifies += 1
            s.verifiedImages.append(request.image)
            return (s.verifyError, s.delay)
        }
        if delay > .zero { try await Task.sleep(for: delay) }
        if let error { throw Failure(description: error) }
        guard let digest = request.reference.digest?.description else {
            return .notVerified("verifier was called with a tag")
        }
        let signed = state.withLock { $0.signed.contains(digest) }
        return signed ? .verified(digest: digest) : .notVerified("no signatures found", digest: digest)
    }
}

/// Policies for the tests: verifyImages on `registry.example.com/*` with a KMS key (the fake
/// verifier does not look at keys), and a validate rule requiring a `team` label.
enum TestPolicies {
    static func verifyImages(action: String = "Enforce", failurePolicy: String = "Fail", name: String = "require-signed") -> String {
        let audit = action == "Audit"
        return """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: \(name)
        spec:
          validationFailureAction: \(action)
          failurePolicy: \(failurePolicy)
          webhookTimeoutSeconds: 10
          rules:
            - name: verify-signature
              match:
                any:
                  - resources:
                      kinds: [Pod]
              verifyImages:
                - imageReferences: ["registry.example.com/*"]
                  mutateDigest: \(!audit)
                  verifyDigest: \(!audit)
                  required: true
                  attestors:
                    - entries:
                        - keys:
                            kms: hashivault://cosign
                            rekor:
                              ignoreTlog: true
        """
    }

    static let requireTeamLabel = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: require-team
        spec:
          validationFailureAction: Audit
          rules:
            - name: check-team
              match:
                any:
                  - resources:
                      kinds: [Pod]
              validate:
                message: "label team is required"
                pattern:
                  metadata:
                    labels:
                      team: "?*"
        """

    static func set(_ yamls: [String]) throws -> PolicySet {
        var policies: [LoadedPolicy] = []
        var validating: [ValidatingPolicy] = []
        var images: [ImageValidatingPolicy] = []
        for (i, y) in yamls.enumerated() {
            let r = try PolicyLoader().load(yaml: y)
            for p in r.policies {
                precondition(!p.isInvalid, "test policy invalid: \(p.diagnostics)")
                policies.append(LoadedPolicy(policy: p, version: "v\(i)"))
            }
            validating += r.validatingPolicies
            images += r.imageValidatingPolicies
        }
        return PolicySet(policies: policies, validatingPolicies: validating, imagePolicies: images)
    }
}

/// A webhook running the real controller over a fake registry.
struct ControllerHarness {
    let registry: FakeRegistry
    let hook: TestWebhook
    let metrics: AdmissionMetrics
    let violations: ViolationStore
    let controller: AdmissionController

    static func start(_ policies: [String], registry: FakeRegistry = FakeRegistry(),
                      configuration: AdmissionServer.Configuration = .init(),
                      limits: AdmissionController.Limits = .init()) async throws -> ControllerHarness {
        let (hook, application) = try await TestWebhook.serving(policies, verifier: registry, server: configuration, limits: limits)
        return ControllerHarness(registry: registry, hook: hook, metrics: application.metrics, violations: application.violations,
                                 controller: application.controller)
    }

    func stop() async { await hook.stop() }
}

import Logging
