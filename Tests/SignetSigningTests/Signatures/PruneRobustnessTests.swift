import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SignetOCI
import SignetTestSupport
import Synchronization
import Testing
@testable import SignetSigning

/// `prune` never deletes the signatures of an image that exists: against registries that list tags
/// inconsistently, fail a check, or fail halfway through the deletions (a fake registry, and the
/// real docker-registry behind a fault-injecting proxy), and its JSON lines output.
@Suite("prune robustness")
struct PruneRobustnessTests {
    static let keyFile = SignatureCLITests.keyFile
    static let env = ["COSIGN_PASSWORD": "hello", "COSIGN_REPOSITORY": ""]

    func signet(_ args: [String]) throws -> CommandResult {
        try runProgram(try signetBinary(), args, environment: Self.env)
    }

    static func hex(_ c: Character) -> String { String(repeating: c, count: 64) }

    /// The JSON objects of `--output json`, by tag (the summary under "summary").
    static func jsonLines(_ text: String) throws -> [String: [String: Any]] {
        var byTag: [String: [String: Any]] = [:]
        for line in text.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if object["event"] as? String == "prune-summary" { byTag["summary"] = object; continue }
            byTag[try #require(object["tag"] as? String)] = object
        }
        return byTag
    }

    // MARK: fake registry

    /// Images a..d have `sha256-X.sig` tags. The tag list is paged, repeats a tag, omits the image
    /// tags entirely and lists d's signature, which is already gone. Image a exists (untagged); b,
    /// c, d are gone, unless `cHead` says otherwise. `deleteStatus` answers DELETE of the n-th (1-based).
    final class FakePruneRegistry: Sendable {
        let server: TestHTTPServer
        let deletes: LockedBox<[String]>
        var host: String { server.host }

        init(cHead: Int = 404, deleteStatus: @escaping @Sendable (Int) -> Int = { _ in 202 }) throws {
            let deletes = LockedBox<[String]>([])
            self.deletes = deletes
            server = try TestHTTPServer { request in
                let path = request.path
                if path == "/v2/" { return .json(200, "{}") }
                if path == "/v2/app/tags/list" {
                    let last = request.query.first { $0.0 == "last" }?.1
                    if last == nil {
                        let tags = ["sha256-\(PruneRobustnessTests.hex("a")).sig", "sha256-\(PruneRobustnessTests.hex("b")).sig"]
                        return .json(200, #"{"name":"app","tags":["\#(tags.joined(separator: "\",\""))"]}"#,
                                     headers: [("Link", #"</v2/app/tags/list?n=2&last=x>; rel="next""#)])
                    }
                    let tags = ["sha256-\(PruneRobustnessTests.hex("a")).sig", "sha256-\(PruneRobustnessTests.hex("c")).sig",
                                "sha256-\(PruneRobustnessTests.hex("d")).sig"]
                    return .json(200, #"{"name":"app","tags":["\#(tags.joined(separator: "\",\""))"]}"#)
                }
                let prefix = "/v2/app/manifests/"
                guard path.hasPrefix(prefix) else { return .json(404, "{}") }
                let id = String(path.dropFirst(prefix.count))
                switch (request.method, id) {
                case ("HEAD", FakePruneRegistry.digest("a")):
                    return TestHTTPResponse(status: 200, headers: [("Content-Type", MediaType.ociManifest.rawValue),
                                                                    ("Docker-Content-Digest", FakePruneRegistry.digest("a"))], body: Data(count: 10))
                case ("HEAD", FakePruneRegistry.digest("c")):
                    return TestHTTPResponse(status: cHead, headers: cHead == 200 ? [("Content-Type", MediaType.ociManifest.rawValue),
                                                                                    ("Docker-Content-Digest", FakePruneRegistry.digest("c"))] : [],
                                            body: cHead == 200 ? Data(count: 10) : Data())
                case ("HEAD", FakePruneRegistry.digest("b")), ("HEAD", FakePruneRegistry.digest("d")):
                    return TestHTTPResponse(status: 404)
                case ("HEAD", "sha256-\(PruneRobustnessTests.hex("d")).sig"):
                    return TestHTTPResponse(status: 404)  // listed, but gone already
                case ("HEAD", let tag) where tag.hasSuffix(".sig"):
                    return TestHTTPResponse(status: 200, headers: [("Content-Type", MediaType.ociManifest.rawValue),
                                                                    ("Docker-Content-Digest", FakePruneRegistry.sigDigest(tag))], body: Data(count: 10))
                case ("DELETE", let target):
                    let n = deletes.withLock { $0.append(target); return $0.count }
                    return TestHTTPResponse(status: deleteStatus(n))
                default:
                    return .json(404, #"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#)
                }
            }
        }

        static func digest(_ c: Character) -> String { "sha256:" + PruneRobustnessTests.hex(c) }
        static func sigDigest(_ tag: String) -> String { Digest.sha256(Data(tag.utf8)).description }

        static func signatureDigest(_ c: Character) -> String {
            Digest.sha256(Data("sha256-\(PruneRobustnessTests.hex(c)).sig".utf8)).description
        }
    }

    @Test func aFailedCheckDeletesNothingAndExitsNonZero() async throws {
        let fake = try FakePruneRegistry(cHead: 500)
        defer { fake.server.stop() }
        let store = SignatureStore(client: RegistryClient())
        let report = try await store.prune(imageRepository: try Reference(parsing: "\(fake.host)/app"), delete: true)
        #expect(fake.deletes.withLock { $0 }.isEmpty)
        #expect(!report.isComplete)
        #expect(report.failure?.contains("could not be checked") == true)
        let reasons = Dictionary(uniqueKeysWithValues: report.entries.map { ($0.tag, $0.reason) })
        #expect(report.entries.count == 4)  // the repeated tag counted once
        #expect(reasons["sha256-\(Self.hex("a")).sig"] == .imageExists)
        #expect(reasons["sha256-\(Self.hex("b")).sig"] == .notHandledAfterError)
        #expect(reasons["sha256-\(Self.hex("c")).sig"] == .checkFailed)
        #expect(report.entries.allSatisfy { $0.action == .kept })

        let cli = try signet(["prune", "--delete", "--output", "json", "\(fake.host)/app"])
        #expect(cli.status == 1, "\(cli.stderr)")
        let lines = try Self.jsonLines(cli.stdout)
        #expect(lines["sha256-\(Self.hex("c")).sig"]?["reason"] as? String == "check-failed")
        #expect(lines["sha256-\(Self.hex("a")).sig"]?["action"] as? String == "kept")
        #expect(lines["summary"]?["complete"] as? Bool == false)
        #expect(lines["summary"]?["deleted"] as? Int == 0)
        #expect(fake.deletes.withLock { $0 }.isEmpty)
    }

    @Test func aDeleteFailingHalfwayLeavesTheRestAlone() async throws {
        let fake = try FakePruneRegistry(cHead: 404, deleteStatus: { $0 == 2 ? 500 : 202 })
        defer { fake.server.stop() }
        let store = SignatureStore(client: RegistryClient())
        let report = try await store.prune(imageRepository: try Reference(parsing: "\(fake.host)/app"), delete: true)
        // b deleted; c's DELETE fails; d (listed, already gone) is never reached.
        #expect(fake.deletes.withLock { $0 } == [FakePruneRegistry.signatureDigest("b"), FakePruneRegistry.signatureDigest("c")])
        let byTag = Dictionary(uniqueKeysWithValues: report.entries.map { ($0.tag, $0) })
        #expect(byTag["sha256-\(Self.hex("a")).sig"]?.action == .kept)
        #expect(byTag["sha256-\(Self.hex("b")).sig"]?.action == .deleted)
        #expect(byTag["sha256-\(Self.hex("c")).sig"]?.reason == .deleteFailed)
        #expect(byTag["sha256-\(Self.hex("d")).sig"]?.reason == .notHandledAfterError)
        #expect(report.failure?.contains("cannot delete") == true)
        #expect(!report.isComplete)
    }

    @Test func anImageMissingFromTheTagListIsKept() async throws {
        let fake = try FakePruneRegistry()
        defer { fake.server.stop() }
        let cli = try signet(["prune", "--delete", "--output=json", "\(fake.host)/app"])
        #expect(cli.status == 0, "\(cli.stderr)")
        let lines = try Self.jsonLines(cli.stdout)
        #expect(lines["sha256-\(Self.hex("a")).sig"]?["reason"] as? String == "image-exists")
        #expect(lines["sha256-\(Self.hex("b")).sig"]?["action"] as? String == "deleted")
        #expect(lines["sha256-\(Self.hex("c")).sig"]?["action"] as? String == "deleted")
        #expect(lines["sha256-\(Self.hex("d")).sig"]?["reason"] as? String == "already-gone")
        #expect(lines["summary"]?["complete"] as? Bool == true)
        #expect(!fake.deletes.withLock { $0 }.contains(FakePruneRegistry.signatureDigest("a")))
    }

    // MARK: real registry

    @Test func jsonLinesDryRunThenDeleteOnTheRealRegistry() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (keep, _) = try await reg.pushImage(tag: "keep")
        let (gone, _) = try await reg.pushImage(tag: "gone")
        // Pushed by digest only: in no tag list, but it exists.
        let untaggedImage = TestImage(layerCount: 1, layerSize: 64)
        let untagged = try Reference(parsing: "\(reg.server.host)/app@\(untaggedImage.digest)")
        try await reg.client.pushImage(manifest: untaggedImage.manifestBytes, blobs: untaggedImage.blobs, to: untagged)
        for image in [keep, gone, untagged] { #expect(try signet(["sign", "--key", Self.keyFile, "\(image)"]).status == 0) }
        #expect(try await reg.client.deleteManifest(gone))
        let repo = "\(reg.server.host)/app"

        let dry = try signet(["prune", "-o", "json", repo])
        #expect(dry.status == 0, "\(dry.stderr)")
        var lines = try Self.jsonLines(dry.stdout)
        let goneTag = "sha256-\(gone.digest!.encoded).sig"
        #expect(lines[goneTag]?["action"] as? String == "would-delete")
        #expect(lines[goneTag]?["reason"] as? String == "image-gone")
        #expect(lines[goneTag]?["image"] as? String == "\(repo)@\(gone.digest!)")
        #expect(lines["sha256-\(untagged.digest!.encoded).sig"]?["action"] as? String == "kept")
        #expect(lines["sha256-\(keep.digest!.encoded).sig"]?["reason"] as? String == "image-exists")
        #expect(lines["summary"]?["mode"] as? String == "dry-run")
        #expect(lines["summary"]?["would_delete"] as? Int == 1)

        let del = try signet(["prune", "--delete", "-o", "json", repo])
        #expect(del.status == 0, "\(del.stderr)")
        lines = try Self.jsonLines(del.stdout)
        #expect(lines[goneTag]?["action"] as? String == "deleted")
        #expect(lines["summary"]?["deleted"] as? Int == 1)
        for image in [keep, untagged] {
            #expect(try signet(["verify", "--key", SignatureCLITests.pubFile, "\(image)"]).status == 0)
        }
        #expect(try await reg.store.signatureImage(for: gone) == nil)
    }

    /// The real registry behind a proxy whose tag list is inconsistent: the image tags are missing,
    /// every signature tag is listed twice, and a signature tag that does not exist is listed. The
    /// existing image's signatures stay; the deleted image's go; the phantom tag is reported.
    @Test func inconsistentTagListsOnTheRealRegistry() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (keep, _) = try await reg.pushImage(tag: "keep")
        let (gone, _) = try await reg.pushImage(tag: "gone")
        for image in [keep, gone] { #expect(try signet(["sign", "--key", Self.keyFile, "\(image)"]).status == 0) }
        #expect(try await reg.client.deleteManifest(gone))
        let phantom = "sha256-\(Self.hex("e")).sig"
        let proxy = try FaultProxy(upstream: reg.server.host, rewrite: { request, response in
            guard request.method == "GET", request.path == "/v2/app/tags/list", response.status == 200,
                  let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
                  let tags = object["tags"] as? [String] else { return response }
            let signatures = tags.filter { $0.hasSuffix(".sig") }
            let listed = signatures + signatures.reversed() + [phantom]
            let body = try? JSONSerialization.data(withJSONObject: ["name": "app", "tags": listed])
            return TestHTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: body ?? Data())
        })
        defer { proxy.server.stop() }
        let run = try signet(["prune", "--delete", "-o", "json", "\(proxy.server.host)/app"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = try Self.jsonLines(run.stdout)
        #expect(lines.count == 4)  // keep, gone, phantom, summary: duplicates counted once
        #expect(lines["sha256-\(keep.digest!.encoded).sig"]?["reason"] as? String == "image-exists")
        #expect(lines["sha256-\(gone.digest!.encoded).sig"]?["action"] as? String == "deleted")
        #expect(lines[phantom]?["reason"] as? String == "already-gone")
        #expect(try signet(["verify", "--key", SignatureCLITests.pubFile, "\(keep)"]).status == 0)
        #expect(try await reg.store.signatureImage(for: gone) == nil)
    }

    /// The real registry behind a proxy that fails one request: a failed HEAD of an image deletes
    /// nothing; a DELETE failing halfway leaves the rest, and a later run finishes the job.
    @Test func failuresHalfwayOnTheRealRegistry() async throws {
        let reg = try SignatureTestRegistry()
        defer { reg.server.stop() }
        let (keep, _) = try await reg.pushImage(tag: "keep")
        var gone: [Reference] = []
        for i in 0..<3 { gone.append(try await reg.pushImage(tag: "gone\(i)").0) }
        for image in [keep] + gone { #expect(try signet(["sign", "--key", Self.keyFile, "\(image)"]).status == 0) }
        for image in gone { #expect(try await reg.client.deleteManifest(image)) }
        let sorted = gone.sorted { $0.digest!.encoded < $1.digest!.encoded }

        // 1. HEAD of one gone image answers 500: nothing is deleted.
        let failHead = "/v2/app/manifests/\(sorted[1].digest!)"
        let proxy1 = try FaultProxy(upstream: reg.server.host) { request, _ in
            request.method == "HEAD" && request.path == failHead ? 500 : nil
        }
        defer { proxy1.server.stop() }
        let first = try signet(["prune", "--delete", "-o", "json", "\(proxy1.server.host)/app"])
        #expect(first.status == 1, "\(first.stderr)")
        #expect(proxy1.deletes.withLock { $0 } == 0)
        for image in gone { #expect(try await reg.store.signatureImage(for: image) != nil) }

        // 2. The second DELETE answers 500: one signature deleted, the others kept.
        let proxy2 = try FaultProxy(upstream: reg.server.host) { request, deletes in
            request.method == "DELETE" && deletes == 2 ? 500 : nil
        }
        defer { proxy2.server.stop() }
        let second = try signet(["prune", "--delete", "-o", "json", "\(proxy2.server.host)/app"])
        #expect(second.status == 1, "\(second.stderr)")
        let lines = try Self.jsonLines(second.stdout)
        let actions = sorted.map { lines["sha256-\($0.digest!.encoded).sig"]?["reason"] as? String }
        #expect(actions == ["image-gone", "delete-failed", "not-handled-after-error"])
        #expect(lines["sha256-\(sorted[0].digest!.encoded).sig"]?["action"] as? String == "deleted")
        #expect(try await reg.store.signatureImage(for: sorted[0]) == nil)
        #expect(try await reg.store.signatureImage(for: sorted[1]) != nil)
        #expect(try await reg.store.signatureImage(for: sorted[2]) != nil)
        #expect(try signet(["verify", "--key", SignatureCLITests.pubFile, "\(keep)"]).status == 0)

        // 3. A healthy run finishes the job.
        let third = try signet(["prune", "--delete", "\(reg.server.host)/app"])
        #expect(third.status == 0, "\(third.stderr)")
        for image in gone { #expect(try await reg.store.signatureImage(for: image) == nil) }
        #expect(try signet(["verify", "--key", SignatureCLITests.pubFile, "\(keep)"]).status == 0)
    }
}

/// A loopback HTTP proxy in front of a real registry that answers `fault(request, deletesSoFar)`
/// instead of forwarding when it returns a status. Forwards GET, HEAD and DELETE (what prune uses).
final class FaultProxy: Sendable {
    let server: TestHTTPServer
    let deletes: LockedBox<Int>

    /// `rewrite` may change an upstream answer (a tag list, say) before it is sent on.
    init(upstream: String, fault: @escaping @Sendable (TestHTTPRequest, Int) -> Int? = { _, _ in nil },
         rewrite: @escaping @Sendable (TestHTTPRequest, TestHTTPResponse) -> TestHTTPResponse = { $1 }) throws {
        let deletes = LockedBox(0)
        self.deletes = deletes
        server = try TestHTTPServer { request in
            let count = request.method == "DELETE" ? deletes.withLock { $0 += 1; return $0 } : deletes.withLock { $0 }
            if let status = fault(request, count) {
                return .json(status, #"{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}"#)
            }
            return rewrite(request, FaultProxy.forward(request, to: upstream))
        }
    }

    /// A blocking round trip to the upstream registry (the test server runs it off the caller's task).
    static func forward(_ request: TestHTTPRequest, to upstream: String) -> TestHTTPResponse {
        guard let url = URL(string: "http://\(upstream)\(request.uri)") else { return TestHTTPResponse(status: 502) }
        var outgoing = URLRequest(url: url)
        outgoing.httpMethod = request.method
        for (name, value) in request.headers where !["host", "content-length", "connection"].contains(name.lowercased()) {
            outgoing.addValue(value, forHTTPHeaderField: name)
        }
        if !request.body.isEmpty { outgoing.httpBody = request.body }
        struct Answer: Sendable { var status = 502; var headers: [(String, String)] = []; var body = Data(); var length: Int? }
        let result = LockedBox(Answer())
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: outgoing) { data, response, _ in
            var answer = Answer()
            if let response = response as? HTTPURLResponse {
                answer.status = response.statusCode
                for (key, value) in response.allHeaderFields {
                    guard let name = key as? String, let text = value as? String,
                          !["content-length", "connection", "transfer-encoding"].contains(name.lowercased()) else { continue }
                    answer.headers.append((name, text))
                }
                answer.length = response.value(forHTTPHeaderField: "Content-Length").flatMap(Int.init)
            }
            answer.body = data ?? Data()
            result.withLock { $0 = answer }
            done.signal()
        }.resume()
        done.wait()
        let answer = result.withLock { $0 }
        var body = answer.body
        if request.method == "HEAD", let length = answer.length, length >= 0, length < 1 << 22 {
            body = Data(count: length)  // HEAD: the length is announced, the body is not sent
        }
        return TestHTTPResponse(status: answer.status, headers: answer.headers, body: body)
    }
}

/// A value behind a lock, shared by reference between a test and its fake server.
final class LockedBox<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
