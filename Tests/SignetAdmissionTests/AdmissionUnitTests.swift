import Foundation
import SignetOCI
import SignetPolicy
import Testing
import X509
@testable import SignetAdmission
import SignetPrimitives

@Suite("AdmissionReview model")
struct AdmissionReviewTests {
    @Test func parsesTheRequestFields() throws {
        var b = AdmissionRequestBuilder()
        b.namespace = "team-a"
        b.name = "web"
        let review = try AdmissionReview(parsing: b.reviewData)
        let r = try #require(review.request)
        #expect(r.uid == b.uid)
        #expect(r.kind == GroupVersionKind(group: "", version: "v1", kind: "Pod"))
        #expect(r.resource.resource == "pods")
        #expect(r.namespace == "team-a")
        #expect(r.name == "web")
        #expect(r.operation == .create)
        #expect(r.userInfo.username == "alice")
        #expect(r.userInfo.groups == ["system:authenticated"])
        #expect(r.object?["spec"]?["containers"]?.arrayValue?.first?["image"] == "nginx:1.25")
        #expect(r.oldObject == nil)
        #expect(r.dryRun == false)
    }

    /// The operation is a closed set: anything else is a bad request, never a string that the
    /// engine would compare against its own literals.
    @Test(arguments: ["CREATE", "UPDATE", "DELETE", "CONNECT", "PATCH", "create", ""])
    func operationsAreAClosedSet(operation: String) throws {
        var b = AdmissionRequestBuilder()
        b.operation = operation
        if let known = AdmissionOperation(rawValue: operation) {
            #expect(try AdmissionReview(parsing: b.reviewData).request?.operation == known)
        } else {
            let error = #expect(throws: SignetAdmissionError.self) { try AdmissionReview(parsing: b.reviewData) }
            #expect(error?.message.contains("unknown operation") == true)
        }
    }

    @Test func repliesInTheV1Envelope() throws {
        let patch = Data(JSONPatchOperation.document([.replace("/spec/containers/0/image", "r/x:1@sha256:ab")]).utf8)
        let response = AdmissionResponse(uid: "u-1", allowed: false,
                                         status: .init(code: 403, message: "no"), warnings: ["w"], patch: patch)
        let json = try JSONValue(json: AdmissionReview.reply(response).replyData())
        #expect(json["apiVersion"] == "admission.k8s.io/v1")
        #expect(json["kind"] == "AdmissionReview")
        #expect(json["request"] == nil)
        #expect(json["response"]?["uid"] == "u-1")
        #expect(json["response"]?["allowed"] == false)
        #expect(json["response"]?["status"]?["code"] == 403)
        #expect(json["response"]?["status"]?["message"] == "no")
        #expect(json["response"]?["warnings"] == ["w"])
        #expect(json["response"]?["patchType"] == "JSONPatch")
        let b64 = try #require(json["response"]?["patch"]?.stringValue)
        let decoded = try JSONValue(json: try #require(Data(base64Encoded: b64)))
        #expect(decoded == [["op": "replace", "path": "/spec/containers/0/image", "value": "r/x:1@sha256:ab"]])
    }

    /// The reply written directly (bare answers) has the bytes of the JSON value's sorted text.
    @Test(arguments: [
        AdmissionResponse(uid: "u-1", allowed: true),
        AdmissionResponse(uid: "u-\"2\"\\\u{2028}<&>\u{1}", allowed: false),
        AdmissionResponse(uid: "", allowed: false, status: .init(code: 403, message: "no <b>")),
        AdmissionResponse(uid: "u", allowed: true, warnings: ["w"], auditAnnotations: ["p/k": "v"]),
        AdmissionResponse(uid: "u", allowed: true, patch: Data("[]".utf8)),
    ])
    func replyBytesAreTheSortedJSONText(response: AdmissionResponse) throws {
        let expected: JSONValue = ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response.json]
        #expect(String(decoding: try AdmissionReview.reply(response).replyData(), as: UTF8.self) == expected.jsonString)
    }

    /// The review's objects are read member by member (`JSONEnvelope`); the request read must be
    /// the one read from the document as a value, error for error.
    @Test(arguments: [
        #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},"requestKind":{"kind":"Scale"},"requestResource":{"resource":"deployments"},"subResource":"scale","name":"n","namespace":"ns","operation":"UPDATE","userInfo":{"username":"a","uid":"1","groups":["g"],"extra":{"k":["v",1]}},"object":{"kind":"Scale"},"oldObject":null,"dryRun":true,"options":{"a":1}}}"#,
        #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"first"},"request":{"uid":"last","object":{"apiVersion":"apps/v1","kind":"Deployment"}}}"#,
        #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","uid":"v","kind":{"kind":"Pod"},"kind":{"kind":"Secret","kind":"ConfigMap"}}}"#,
        #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":"Pod","object":{"kind":"Pod"}}}"#,
        #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod"},"userInfo":"x","oldObject":{"a":1}}}"#,
        #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7}}"#,
        #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","name":{"a":1},"kind":{"kind":"Pod"}}}"#,
        #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u"},"request":null}"#,
        #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","kind":"Other","request":{"uid":"u","kind":{"kind":"Pod"}}}"#,
        #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod"},"operation":"DELETE","object":null}}"#,
        #"["not an object"]"#,
    ])
    func readsTheRequestTheValueReads(text: String) throws {
        func asValue() throws -> AdmissionRequest? {
            try AdmissionReview(parsing: JSONEnvelope.value(try JSONValue(json: text))).request
        }
        func asEnvelope() throws -> AdmissionRequest? { try AdmissionReview(parsing: Data(text.utf8)).request }
        switch (Result { try asValue() }, Result { try asEnvelope() }) {
        case (.success(let a), .success(let b)):
            #expect(a == b)
        case (.failure(let a as SignetAdmissionError), .failure(let b as SignetAdmissionError)):
            #expect(a.message == b.message)
        case let (a, b):
            Issue.record("the two reads differ: \(a) vs \(b)")
        }
    }

    @Test(arguments: [
        ("application/json", true), ("Application/JSON", true), ("application/json; charset=utf-8", true),
        (" \tapplication/json \t;x", true), ("application/json;", true), ("application/jsonx", false),
        ("application/json-patch+json", false), ("text/json", false), ("", false), (";application/json", false),
        ("application\u{0}json", false), ("applicationAjson", false), ("application/jsoné", false),
    ])
    func recognizesTheJSONMediaType(value: String, json: Bool) {
        #expect(AdmissionServer.isJSONMediaType(value) == json)
    }

    @Test(arguments: [("a/b", "a~1b"), ("x~y", "x~0y"), ("plain", "plain")])
    func escapesJSONPointerTokens(raw: String, escaped: String) {
        #expect(JSONPatchOperation.escape(raw) == escaped)
    }
}

@Suite("Admission warnings limits")
struct AdmissionWarningsTests {
    @Test func shortWarningsPassUnchanged() {
        #expect(AdmissionWarnings.limit(["a", "b"]) == ["a", "b"])
    }

    @Test func longWarningsAreCutAt256() {
        let w = AdmissionWarnings.limit([String(repeating: "x", count: 1000)])
        #expect(w.count == 1)
        #expect(w[0].count == 256)
        #expect(w[0].hasSuffix("..."))
    }

    @Test func totalStaysWithin4096AndSaysWhatWasOmitted() {
        let w = AdmissionWarnings.limit(Array(repeating: String(repeating: "y", count: 200), count: 40))
        #expect(w.reduce(0) { $0 + $1.count } <= 4096)
        #expect(w.last?.hasSuffix("more warnings omitted") == true)
        #expect(w.count < 40)
    }

    @Test func controlCharactersBecomeSpaces() {
        #expect(AdmissionWarnings.limit(["a\nb\tc"]) == ["a b c"])
    }
}

@Suite("Verification cache")
struct VerificationCacheTests {
    static func key(_ digest: String, policy: String = "p", version: String = "1", key: String = "hashivault://k",
                    image: String = "reg.io/app:1", predicateType: String? = nil) -> VerificationCacheKey {
        // Test inputs, well formed by construction.
        let reference = try! Reference(parsing: image)
        let request = ImageVerificationRequest(image: image, reference: reference, key: .kms(key), predicateType: predicateType)
        return VerificationCacheKey(policy: policy, policyVersion: version, request: request,
                                    digest: try! SignetOCI.Digest(parsing: "sha256:" + String(repeating: digest, count: 64)))
    }

    @Test func hitsAfterAMiss() async throws {
        let cache = VerificationCache<Int>()
        let calls = Counter()
        let (a, s1) = try await cache.value(for: Self.key("1")) { calls.increment(); return 1 }
        let (b, s2) = try await cache.value(for: Self.key("1")) { calls.increment(); return 2 }
        #expect(a == 1 && b == 1)
        #expect(s1 == .miss && s2 == .hit)
        #expect(calls.value == 1)
    }

    @Test(arguments: [
        VerificationCacheTests.key("2"), VerificationCacheTests.key("1", policy: "q"),
        VerificationCacheTests.key("1", version: "2"), VerificationCacheTests.key("1", key: "hashivault://other"),
        VerificationCacheTests.key("1", image: "reg.io/other:1"), VerificationCacheTests.key("1", predicateType: "https://slsa.dev/provenance/v1"),
    ])
    func anyKeyPartChangeIsAMiss(other: VerificationCacheKey) async throws {
        let cache = VerificationCache<Int>()
        _ = try await cache.value(for: Self.key("1")) { 1 }
        let (_, source) = try await cache.value(for: other) { 2 }
        #expect(source == .miss)
    }

    /// Every spelling of one image at one digest shares the entry: the tag is never part of the key.
    @Test(arguments: ["reg.io/app:2", "reg.io/app", "reg.io/app:1@sha256:" + String(repeating: "1", count: 64)])
    func theTagIsNotPartOfTheKey(image: String) {
        #expect(Self.key("1", image: image) == Self.key("1"))
    }

    @Test func identicalLookupsInFlightShareOneComputation() async throws {
        let cache = VerificationCache<Int>()
        let calls = Counter()
        let sources = try await withThrowingTaskGroup(of: VerificationCache<Int>.Source.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await cache.value(for: Self.key("1")) {
                        calls.increment()
                        try await Task.sleep(for: .milliseconds(200))
                        return 7
                    }.1
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(calls.value == 1)
        #expect(sources.filter { $0 == .miss }.count == 1)
        #expect(sources.filter { $0 == .shared }.count == 19)
    }

    @Test func failuresAreSharedButNotKept() async throws {
        let cache = VerificationCache<Bool>(isCacheable: { $0 })
        _ = try await cache.value(for: Self.key("1")) { false }
        let (v, source) = try await cache.value(for: Self.key("1")) { true }
        #expect(v == true && source == .miss)
        struct Boom: Error {}
        await #expect(throws: Boom.self) { _ = try await cache.value(for: Self.key("2")) { throw Boom() } }
        #expect(try await cache.value(for: Self.key("2")) { true }.1 == .miss)
    }

    @Test func entriesExpire() async throws {
        let cache = VerificationCache<Int>(ttl: .milliseconds(50))
        _ = try await cache.value(for: Self.key("1")) { 1 }
        try await Task.sleep(for: .milliseconds(80))
        #expect(try await cache.value(for: Self.key("1")) { 2 } == (2, .miss))
    }

    @Test func sizeIsBounded() async throws {
        let cache = VerificationCache<Int>(capacity: 3)
        for i in 0..<10 { _ = try await cache.value(for: Self.key("\(i)")) { i } }
        #expect(cache.count == 3)
        #expect(try await cache.value(for: Self.key("9")) { -1 }.1 == .hit)
        #expect(try await cache.value(for: Self.key("0")) { -1 }.1 == .miss)
    }

    @Test func deadlineReturnsWithoutWaitingForTheWork() async throws {
        let start = ContinuousClock.now
        await #expect(throws: SignetAdmissionError.self) {
            _ = try await withDeadline(.now + .milliseconds(100), what: "slow thing") {
                try? await Task.sleep(for: .seconds(5))
                return 1
            }
        }
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(try await withDeadline(.now + .seconds(5), what: "fast") { 3 } == 3)
    }
}

import Synchronization

/// A thread-safe counter for closures that run concurrently.
final class Counter: Sendable {
    private let m = Mutex(0)
    func increment() { m.withLock { $0 += 1 } }
    var value: Int { m.withLock { $0 } }
}

@Suite("Webhook certificates")
struct WebhookCertificatesTests {
    @Test func servingCertificateIsSignedByTheCAAndNamesEveryDNSName() throws {
        let c = try WebhookCertificates.generate(dnsNames: ["signet-webhook.signet-system.svc", "127.0.0.1"])
        let ca = try Certificate(pemEncoded: c.caCertificatePEM)
        let leaf = try Certificate(pemEncoded: c.certificatePEM)
        #expect(leaf.issuer == ca.subject)
        #expect(ca.publicKey.isValidSignature(leaf.signature, for: leaf))
        let san = try #require(try leaf.extensions.subjectAlternativeNames)
        #expect(san.contains(.dnsName("signet-webhook.signet-system.svc")))
        #expect(san.contains { if case .ipAddress = $0 { true } else { false } })
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        let key = try Certificate.PrivateKey(pemEncoded: c.privateKeyPEM)
        #expect(key.publicKey == leaf.publicKey)
        #expect(Data(base64Encoded: c.caBundle).map { String(decoding: $0, as: UTF8.self) } == c.caCertificatePEM)
    }

    @Test func writesFilesWithModes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("signet-cert-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try WebhookCertificates.generate(dnsNames: ["x.svc"]).write(to: dir)
        let mode = try FileManager.default.attributesOfItem(atPath: dir.path + "/tls.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/ca.crt"))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/tls.crt"))
    }

    @Test func needsADNSName() {
        #expect(throws: SignetAdmissionError.self) { try WebhookCertificates.generate(dnsNames: []) }
    }
}

@Suite("Violation reports")
struct ViolationStoreTests {
    @Test func rendersPolicyReportsPerNamespaceAndStaysBounded() {
        let store = ViolationStore(capacity: 3)
        for i in 0..<5 {
            store.record([Violation(policy: "p", rule: "r", result: "fail", message: "m\(i)", action: "Audit",
                                    resource: .init(apiVersion: "v1", kind: "Pod", namespace: i % 2 == 0 ? "a" : "b", name: "pod\(i)", uid: nil))])
        }
        #expect(store.all.count == 3)
        #expect(store.all.map(\.message) == ["m2", "m3", "m4"])
        let list = store.reports()
        let items = list["items"]?.arrayValue ?? []
        #expect(items.count == 2)
        let a = items[0]
        #expect(a["apiVersion"] == "wgpolicyk8s.io/v1alpha2")
        #expect(a["kind"] == "PolicyReport")
        #expect(a["metadata"]?["namespace"] == "a")
        #expect(a["summary"]?["fail"] == 2)
        #expect(a["results"]?.arrayValue?.first?["policy"] == "p")
        #expect(a["results"]?.arrayValue?.first?["resources"]?.arrayValue?.first?["name"] == "pod2")
        #expect(store.reports(namespace: "b")["items"]?.arrayValue?.count == 1)
    }
}

@Suite("Warm-path lookup memo")
struct CachedVerificationLookupTests {
    /// Past `fewest` results the memo moves to a dictionary; every result stays readable, and a
    /// request is never confused with another.
    @Test(arguments: [1, AdmissionController.CachedVerificationLookup.ReadResults.fewest,
                      AdmissionController.CachedVerificationLookup.ReadResults.fewest + 1, 100])
    func keepsEveryResult(count: Int) throws {
        var memo = AdmissionController.CachedVerificationLookup.ReadResults()
        let requests = try (0..<count).map { i in
            ImageVerificationRequest(image: "reg.io/app:\(i)", reference: try Reference(parsing: "reg.io/app:\(i)"), key: .kms("hashivault://k"))
        }
        for (i, r) in requests.enumerated() { memo.add(r, .verified(digest: "sha256:\(i)")) }
        for (i, r) in requests.enumerated() { #expect(memo[r]?.digest == "sha256:\(i)") }
        let other = ImageVerificationRequest(image: "reg.io/app:0", reference: try Reference(parsing: "reg.io/app:0"), key: .kms("hashivault://other"))
        #expect(memo[other] == nil)
    }
}
