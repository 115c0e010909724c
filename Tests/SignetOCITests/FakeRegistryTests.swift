import Foundation
import SignetTestSupport
import Testing
@testable import SignetOCI

/// Hostile or broken registries, played by a tiny HTTP server: every case is a clear error, no hang.
struct FakeRegistryTests {
    static let manifest = TestImage(layerCount: 1, layerSize: 32)

    /// Expects `body` to throw a `SignetOCIError` with `code` whose message contains `text`.
    func expectError(_ code: SignetOCIError.Code, containing text: String,
                     _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            try await body()
            Issue.record("expected \(code) error", sourceLocation: sourceLocation)
        } catch let e as SignetOCIError {
            #expect(e.code == code, "\(e.code): \(e.message)", sourceLocation: sourceLocation)
            #expect(e.message.contains(text), "\(e.message)", sourceLocation: sourceLocation)
            #expect(e.message == e.message.lowercased() || e.message.contains("sha256") || e.message.contains("/"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func manifestDigestMismatchIsRejected() async throws {
        let image = Self.manifest
        let other = TestImage(layerCount: 1, layerSize: 32)
        let server = try TestHTTPServer { request in
            if request.path == "/v2/" { return .json(200, "{}") }
            if request.path.hasPrefix("/v2/evil/app/manifests/") {
                // Claims the requested digest but serves other bytes.
                return TestHTTPResponse(status: 200, headers: [("Content-Type", MediaType.ociManifest.rawValue),
                                                                ("Docker-Content-Digest", image.digest.description)],
                                        body: other.manifestBytes)
            }
            return .json(404, "{}")
        }
        defer { server.stop() }
        let client = RegistryClient()
        let byDigest = try Reference(parsing: "\(server.host)/evil/app@\(image.digest)")
        await expectError(.digestMismatch, containing: "does not match digest \(image.digest)") {
            _ = try await client.getManifest(byDigest)
        }
        let byTag = try Reference(parsing: "\(server.host)/evil/app:latest")
        await expectError(.digestMismatch, containing: "does not match") { _ = try await client.getManifest(byTag) }
    }

    @Test func truncatedAndCorruptBlobsAreRejected() async throws {
        let blob = Data(repeating: 7, count: 4096)
        let digest = Digest.sha256(blob)
        let server = try TestHTTPServer { request in
            switch request.path {
            case "/v2/": return .json(200, "{}")
            case "/v2/a/truncated/blobs/\(digest)": return TestHTTPResponse(status: 200, body: blob, truncateTo: 1000)
            case "/v2/a/corrupt/blobs/\(digest)": return TestHTTPResponse(status: 200, body: Data(repeating: 8, count: 4096))
            default: return .json(404, #"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#)
            }
        }
        defer { server.stop() }
        let client = RegistryClient()
        do {
            _ = try await client.getBlob(try Reference(parsing: "\(server.host)/a/truncated"), digest: digest)
            Issue.record("truncated blob accepted")
        } catch let e as SignetOCIError {
            #expect(e.message.contains("truncated"), "\(e.message)")
        }
        await expectError(.digestMismatch, containing: "does not match its digest") {
            _ = try await client.getBlob(try Reference(parsing: "\(server.host)/a/corrupt"), digest: digest)
        }
        await expectError(.notFound, containing: "blob_unknown blob unknown to registry") {
            _ = try await client.getBlob(try Reference(parsing: "\(server.host)/a/missing"), digest: digest)
        }
        await expectError(.sizeMismatch, containing: "over the limit") {
            _ = try await client.getBlob(try Reference(parsing: "\(server.host)/a/corrupt"), digest: digest, maxSize: 100)
        }
    }

    @Test func unauthorizedWithoutUsableCredentials() async throws {
        let server = try TestHTTPServer { _ in
            TestHTTPResponse(status: 401, headers: [("WWW-Authenticate", #"Basic realm="fake""#)],
                             body: Data(#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#.utf8))
        }
        defer { server.stop() }
        let ref = try Reference(parsing: "\(server.host)/private/app:1")
        await expectError(.unauthorized, containing: "401") { _ = try await RegistryClient().getManifest(ref) }
        let withCreds = RegistryClient(credentials: CredentialStore(auths: [server.host: Credential(username: "u", password: "hunter2")]))
        do {
            _ = try await withCreds.getManifest(ref)
        } catch let e as SignetOCIError {
            #expect(e.code == .unauthorized)
            #expect(!e.message.contains("hunter2") && !e.message.contains("aHVudGVy"))
            #expect(!String(describing: e).contains("hunter2"))
        }
    }

    @Test func refusedConnectionIsAClearError() async throws {
        let port = try ManagedProcess.freeLoopbackPort()
        let ref = try Reference(parsing: "127.0.0.1:\(port)/a/b:c")
        await expectError(.transport, containing: "connection refused") { _ = try await RegistryClient().getManifest(ref) }
    }

    @Test func tooManyRequestsHonoursRetryAfter() async throws {
        let count = Counter()
        let image = Self.manifest
        let server = try TestHTTPServer { request in
            if request.path == "/v2/" { return .json(200, "{}") }
            if request.path.hasPrefix("/v2/busy/") {
                return TestHTTPResponse(status: 503, headers: [("Retry-After", "0")])
            }
            if count.next() <= 2 { return TestHTTPResponse(status: 429, headers: [("Retry-After", "0")]) }
            return TestHTTPResponse(status: 200, headers: [("Content-Type", MediaType.ociManifest.rawValue)], body: image.manifestBytes)
        }
        defer { server.stop() }
        let client = RegistryClient()
        let fetched = try await client.getManifest(try Reference(parsing: "\(server.host)/slow/app@\(image.digest)"))
        #expect(fetched.digest == image.digest)
        #expect(client.roundTrips == 4) // ping + 2 × 429 + success
        await expectError(.tooManyRequests, containing: "503") {
            _ = try await client.getManifest(try Reference(parsing: "\(server.host)/busy/app:1"))
        }
    }

    @Test func redirectsDoNotCarryAuthorizationToAnotherHost() async throws {
        let blob = Data("redirected content".utf8)
        let digest = Digest.sha256(blob)
        let sawAuthorization = Counter()
        let storage = try TestHTTPServer { request in
            if request.header("Authorization") != nil { _ = sawAuthorization.next() }
            return TestHTTPResponse(status: 200, body: blob)
        }
        defer { storage.stop() }
        let expected = "Basic " + Data("u:p".utf8).base64EncodedString()
        let registry = try TestHTTPServer { request in
            guard request.header("Authorization") == expected else {
                return TestHTTPResponse(status: 401, headers: [("WWW-Authenticate", #"Basic realm="r""#)])
            }
            if request.path.contains("/blobs/") {
                return TestHTTPResponse(status: 307, headers: [("Location", "http://localhost:\(storage.port)/storage/blob?sig=abc")])
            }
            return .json(200, "{}")
        }
        defer { registry.stop() }
        let client = RegistryClient(credentials: CredentialStore(auths: [registry.host: Credential(username: "u", password: "p")]))
        let data = try await client.getBlob(try Reference(parsing: "\(registry.host)/a/b"), digest: digest)
        #expect(data == blob)
        #expect(sawAuthorization.value == 0)
        #expect(storage.requests == 1)
    }

    @Test func tagListFollowsLinkPagination() async throws {
        let all = (0..<150).map { String(format: "v%03d", $0) }
        let server = try TestHTTPServer { request in
            if request.path == "/v2/" { return .json(200, "{}") }
            guard request.path == "/v2/paged/app/tags/list" else { return .json(404, "{}") }
            let q = Dictionary(request.query, uniquingKeysWith: { a, _ in a })
            let n = Int(q["n"] ?? "") ?? 1000
            let start = q["last"].flatMap { all.firstIndex(of: $0).map { $0 + 1 } } ?? 0
            let page = Array(all[start..<min(start + n, all.count)])
            var headers: [(String, String)] = []
            if start + n < all.count {
                headers.append(("Link", #"</v2/paged/app/tags/list?n=\#(n)&last=\#(page.last!)>; rel="next""#))
            }
            let body = #"{"name":"paged/app","tags":[\#(page.map { "\"\($0)\"" }.joined(separator: ","))]}"#
            return .json(200, body, headers: headers)
        }
        defer { server.stop() }
        let client = RegistryClient()
        let tags = try await client.listTags(try Reference(parsing: "\(server.host)/paged/app"), pageSize: 40)
        #expect(tags == all)
        #expect(server.requests == 1 + 4) // ping + 4 pages of 40
    }

    @Test func oversizedManifestIsRefused() async throws {
        let big = Data(repeating: 0x20, count: RegistryClient.maxManifestSize + 10)
        let server = try TestHTTPServer { request in
            if request.path == "/v2/" { return .json(200, "{}") }
            return TestHTTPResponse(status: 200, headers: [("Content-Type", MediaType.ociManifest.rawValue)], body: big)
        }
        defer { server.stop() }
        await expectError(.sizeMismatch, containing: "over the limit") {
            _ = try await RegistryClient().getManifest(try Reference(parsing: "\(server.host)/big/app:1"))
        }
    }

    @Test func plainHTTPTokenRealmOnAnotherHostIsRefused() async throws {
        let server = try TestHTTPServer { _ in
            TestHTTPResponse(status: 401, headers: [("WWW-Authenticate", #"Bearer realm="http://auth.example.com/token",service="x""#)])
        }
        defer { server.stop() }
        await expectError(.insecureRegistry, containing: "not https") {
            _ = try await RegistryClient().getManifest(try Reference(parsing: "\(server.host)/a/b:1"))
        }
    }

    @Test func slowRegistryTimesOut() async throws {
        let server = try TestHTTPServer { request in
            if request.path != "/v2/" { return TestHTTPResponse(status: 200, body: Data("{}".utf8), delayMilliseconds: 1000) }
            return .json(200, "{}")
        }
        defer { server.stop() }
        let client = RegistryClient(configuration: .init(requestTimeout: .milliseconds(250), maxRetries: 0))
        await expectError(.transport, containing: "timed out") {
            _ = try await client.getManifest(try Reference(parsing: "\(server.host)/a/b:1"))
        }
    }

    @Test func notARegistry() async throws {
        let server = try TestHTTPServer { _ in TestHTTPResponse(status: 500) }
        defer { server.stop() }
        await expectError(.registryError, containing: "does not look like a registry") {
            _ = try await RegistryClient().getManifest(try Reference(parsing: "\(server.host)/a/b:1"))
        }
    }
}

/// A thread-safe counter for fake servers.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; count += 1; return count }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
