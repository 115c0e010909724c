import Foundation
import SignetPolicy
import Testing
@testable import SignetAdmission
import SignetPrimitives

/// End to end over HTTPS: the real server, controller, engine and cache; a fake registry.
@Suite("Webhook decisions over HTTPS")
struct WebhookDecisionTests {
    static let signedDigest = "sha256:" + String(repeating: "a", count: 64)
    static let unsignedDigest = "sha256:" + String(repeating: "b", count: 64)
    static let image = "registry.example.com/team/app:1.0"

    static func pod(_ images: [String], labels: [String: String] = ["team": "a"], name: String = "pod-1") -> AdmissionRequestBuilder {
        var b = AdmissionRequestBuilder()
        b.images = images
        b.labels = labels
        b.name = name
        return b
    }

    @Test func signedImageIsAllowedAndPinnedToTheVerifiedDigest() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages()])
        h.registry.tag(Self.image, Self.signedDigest)
        h.registry.sign(Self.signedDigest)
        let reply = try await h.hook.review("/mutate", Self.pod([Self.image, "nginx:1.25"]))
        #expect(reply.status == 200)
        #expect(reply.response?["allowed"] == true)
        #expect(reply.response?["patchType"] == "JSONPatch")
        let patch = try #require(reply.response?["patch"]?.stringValue.flatMap { Data(base64Encoded: $0) })
        let ops = try JSONValue(json: patch)
        #expect(ops == [["op": "replace", "path": "/spec/containers/0/image",
                         "value": .string("registry.example.com/team/app:1.0@" + Self.signedDigest)]])
        // The second pass (/validate) on the patched Pod: allowed from the cache, no new verification.
        let verifies = h.registry.verifies
        let pinned = Self.pod(["registry.example.com/team/app:1.0@" + Self.signedDigest, "nginx:1.25"])
        let validated = try await h.hook.review("/validate", pinned)
        #expect(validated.response?["allowed"] == true)
        #expect(validated.response?["patch"] == nil)
        #expect(h.registry.verifies == verifies)
        await h.stop()
    }

    @Test func unsignedImageIsDeniedWithKyvernosEnvelope() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages()])
        h.registry.tag(Self.image, Self.unsignedDigest)
        var b = Self.pod([Self.image])
        b.namespace = "prod"
        b.name = "web"
        let reply = try await h.hook.review("/mutate", b)
        #expect(reply.response?["allowed"] == false)
        #expect(reply.response?["status"]?["code"] == 403)
        let message = try #require(reply.response?["status"]?["message"]?.stringValue)
        #expect(message.hasPrefix("\n\nresource Pod/prod/web was blocked due to the following policies \n\nrequire-signed:\n  verify-signature: "))
        #expect(message.contains("failed to verify image registry.example.com/team/app:1.0: .attestors[0].entries[0].keys: no signatures found"))
        #expect(reply.response?["patch"] == nil)
        // /validate with the tag (mutation never happened) is denied too.
        #expect(try await h.hook.review("/validate", b).response?["allowed"] == false)
        // Metrics by policy/rule/result.
        let metrics = try await h.hook.metrics("/metrics").text
        #expect(metrics.contains(#"signet_admission_decisions_total{policy="require-signed",rule="verify-signature",result="fail"}"#))
        await h.stop()
    }

    @Test func digestReferenceThatWasNotSignedIsDenied() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages()])
        let reply = try await h.hook.review("/validate", Self.pod(["registry.example.com/team/app@" + Self.unsignedDigest]))
        #expect(reply.response?["allowed"] == false)
        #expect(h.registry.resolves == 0)  // a digest is used as given
        await h.stop()
    }

    @Test func auditAllowsWithWarningsReportsAndMetrics() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages(action: "Audit"), TestPolicies.requireTeamLabel])
        h.registry.tag(Self.image, Self.unsignedDigest)
        var b = Self.pod([Self.image], labels: [:], name: "audited")
        b.namespace = "dev"
        let reply = try await h.hook.review("/validate", b)
        #expect(reply.response?["allowed"] == true)
        let warnings = reply.response?["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(warnings.contains { $0.hasPrefix("policy require-signed.verify-signature: failed to verify image") })
        #expect(warnings.contains { $0.hasPrefix("policy require-team.check-team: validation error: label team is required.") })
        #expect(warnings.allSatisfy { $0.count <= 256 })
        let reports = try #require(try await h.hook.metrics("/reports?namespace=dev").json)
        let report = try #require(reports["items"]?.arrayValue?.first)
        #expect(report["apiVersion"] == "wgpolicyk8s.io/v1alpha2")
        #expect(report["kind"] == "PolicyReport")
        let results = report["results"]?.arrayValue ?? []
        #expect(Set(results.compactMap { $0["policy"]?.stringValue }) == ["require-signed", "require-team"])
        #expect(results.allSatisfy { $0["result"] == "fail" && $0["properties"]?["action"] == "Audit" })
        #expect(results.first?["resources"]?.arrayValue?.first?["name"] == "audited")
        let metrics = try await h.hook.metrics("/metrics").text
        #expect(metrics.contains(#"signet_admission_decisions_total{policy="require-team",rule="check-team",result="fail"} 1"#))
        await h.stop()
    }

    static let failures: [(String, String, Bool)] = [
        // (what fails, failurePolicy, registry failure?)
        ("registry", "Fail", true), ("registry", "Ignore", true),
        ("vault", "Fail", false), ("vault", "Ignore", false),
    ]

    @Test(arguments: failures)
    func failurePolicyDecidesWhenVerificationCannotRun(what: String, failurePolicy: String, registryFails: Bool) async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages(failurePolicy: failurePolicy)])
        h.registry.tag(Self.image, Self.signedDigest)
        h.registry.sign(Self.signedDigest)
        if registryFails {
            h.registry.failResolve("registry registry.example.com: connection refused")
        } else {
            h.registry.failVerify("vault transit: 503 service unavailable (sealed)")
        }
        let reply = try await h.hook.review("/mutate", Self.pod([Self.image]))
        let reason = registryFails ? "connection refused" : "vault transit: 503"
        if failurePolicy == "Fail" {
            #expect(reply.response?["allowed"] == false)
            let message = reply.response?["status"]?["message"]?.stringValue ?? ""
            #expect(message.contains("failed to verify image registry.example.com/team/app:1.0"), "\(message)")
            #expect(message.contains(reason), "\(message)")
        } else {
            #expect(reply.response?["allowed"] == true)
            #expect(reply.response?["patch"] == nil)
            let warnings = reply.response?["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(warnings.contains { $0.contains(reason) && $0.contains("failurePolicy Ignore") }, "\(warnings)")
        }
        // Failures are not cached: once the registry or Vault is back, the image verifies.
        h.registry.failResolve(nil)
        h.registry.failVerify(nil)
        #expect(try await h.hook.review("/mutate", Self.pod([Self.image])).response?["allowed"] == true)
        await h.stop()
    }

    @Test(arguments: ["Fail", "Ignore"])
    func slowVerificationEndsWithinTheWebhookTimeout(failurePolicy: String) async throws {
        var config = AdmissionServer.Configuration()
        config.timeoutMargin = .milliseconds(500)
        let h = try await ControllerHarness.start([TestPolicies.verifyImages(failurePolicy: failurePolicy)], configuration: config)
        h.registry.tag(Self.image, Self.signedDigest)
        h.registry.sign(Self.signedDigest)
        h.registry.slow(.seconds(20))
        let start = ContinuousClock.now
        let reply = try await h.hook.send(.POST, "/mutate?timeout=2s", body: Self.pod([Self.image]).reviewData)
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .milliseconds(1900), "answered after \(elapsed)")
        #expect(elapsed >= .milliseconds(1400))
        if failurePolicy == "Fail" {
            #expect(reply.response?["allowed"] == false)
            #expect(reply.response?["status"]?["message"]?.stringValue?.contains("did not finish in time") == true)
        } else {
            #expect(reply.response?["allowed"] == true)
            #expect(reply.response?["warnings"]?.arrayValue?.first?.stringValue?.contains("did not finish in time") == true)
        }
        let metrics = try await h.hook.metrics("/metrics").text
        #expect(metrics.contains(#"signet_verification_errors_total{reason="timeout"}"#))
        await h.stop()
    }

    @Test func distinctImagesOfOnePodVerifyInParallel() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages()])
        var images: [String] = []
        for i in 0..<4 {
            let digest = "sha256:" + String(repeating: "\(i + 1)", count: 64)
            let image = "registry.example.com/team/app\(i):1"
            h.registry.tag(image, digest)
            h.registry.sign(digest)
            images.append(image)
        }
        h.registry.slow(.milliseconds(400))
        let start = ContinuousClock.now
        let reply = try await h.hook.review("/mutate", Self.pod(images))
        let elapsed = ContinuousClock.now - start
        #expect(reply.response?["allowed"] == true)
        #expect(reply.response?["patch"] != nil)
        #expect(h.registry.verifies == 4)
        #expect(elapsed < .milliseconds(1200), "4 x 400 ms sequentially would be 1.6 s; took \(elapsed)")
        await h.stop()
    }

    @Test func identicalVerificationsInFlightShareOneSetOfCalls() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages()])
        h.registry.tag(Self.image, Self.signedDigest)
        h.registry.sign(Self.signedDigest)
        h.registry.slow(.milliseconds(300))
        let allowed = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask {
                    try await h.hook.review("/mutate", Self.pod([Self.image], name: "p\(i)")).response?["allowed"] == true
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(allowed == Array(repeating: true, count: 8))
        #expect(h.registry.verifies == 1)
        let metrics = try await h.hook.metrics("/metrics").text
        #expect(metrics.contains(#"signet_verification_cache_total{result="miss"} 1"#))
        await h.stop()
    }

    @Test func tagMovedToAnUnsignedImageAfterASignedOneWasCachedIsDenied() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages()])
        h.registry.tag(Self.image, Self.signedDigest)
        h.registry.sign(Self.signedDigest)
        let first = try await h.hook.review("/mutate", Self.pod([Self.image]))
        #expect(first.response?["allowed"] == true)
        #expect(h.registry.verifies == 1)
        #expect(h.controller.verification!.cache.count == 1)
        // Same tag, same policy, warm cache: still a hit (no new verification).
        #expect(try await h.hook.review("/mutate", Self.pod([Self.image])).response?["allowed"] == true)
        #expect(h.registry.verifies == 1)
        // The attacker moves the tag to an unsigned image.
        h.registry.tag(Self.image, Self.unsignedDigest)
        let second = try await h.hook.review("/mutate", Self.pod([Self.image]))
        #expect(second.response?["allowed"] == false)
        #expect(second.response?["status"]?["message"]?.stringValue?.contains("no signatures found") == true)
        #expect(h.registry.verifies == 2)
        await h.stop()
    }

    @Test func podsWithoutMatchingImagesAndDeletesAreAllowed() async throws {
        let h = try await ControllerHarness.start([TestPolicies.verifyImages()])
        #expect(try await h.hook.review("/mutate", Self.pod(["nginx:1.25"])).response?["allowed"] == true)
        var delete = Self.pod([Self.image])
        delete.operation = "DELETE"
        #expect(try await h.hook.review("/validate", delete).response?["allowed"] == true)
        #expect(h.registry.verifies == 0)
        await h.stop()
    }
}
