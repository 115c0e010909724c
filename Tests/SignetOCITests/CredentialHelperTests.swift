import Foundation
import Testing
@testable import SignetOCI

/// `docker-credential-*` helpers run as real processes: fake helper scripts written at test time.
@Suite struct CredentialHelperTests {
    /// Writes an executable shell script and returns its URL (removed by the caller's `defer`).
    private static func script(_ body: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("docker-credential-fake-\(UUID().uuidString)")
        try Data(("#!/bin/sh\n" + body + "\n").utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url
    }

    private static func run(_ url: URL, timeout: Duration = .seconds(20), outputLimit: Int = 1 << 20) async throws -> Credential? {
        try await CredentialStore.runHelperProgram(url, arguments: ["get"], displayName: "docker-credential-fake",
                                                   serverURL: "registry.example", timeout: timeout, outputLimit: outputLimit)
    }

    /// A helper that writes 1 MB to stderr before answering must not deadlock (both pipes are drained at once).
    @Test func chattyHelperAnswersPromptly() async throws {
        let url = try Self.script("""
        read url
        head -c 1048576 /dev/zero | tr '\\000' 'x' >&2
        printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret"}' "$url"
        """)
        defer { try? FileManager.default.removeItem(at: url) }
        let start = ContinuousClock.now
        let credential = try await Self.run(url, timeout: .seconds(20))
        #expect(credential == Credential(username: "alice", password: "s3cret"))
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test func tokenAnswerBecomesIdentityToken() async throws {
        let url = try Self.script(#"printf '{"Username":"<token>","Secret":"refresh"}'"#)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try await Self.run(url) == Credential(username: "", password: "", identityToken: "refresh"))
    }

    @Test func notFoundMeansAnonymous() async throws {
        let url = try Self.script("echo 'credentials not found in native keychain'; exit 1")
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try await Self.run(url) == nil)
    }

    /// A helper that never answers is stopped at the timeout and the call fails.
    @Test func hangingHelperTimesOut() async throws {
        let url = try Self.script("exec sleep 30")
        defer { try? FileManager.default.removeItem(at: url) }
        let start = ContinuousClock.now
        await #expect(throws: SignetOCIError.self) { try await Self.run(url, timeout: .seconds(1)) }
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    /// More stdout than the limit is an error, not an unbounded allocation.
    @Test func oversizedAnswerIsRejected() async throws {
        let url = try Self.script("head -c 300000 /dev/zero | tr '\\000' 'x'")
        defer { try? FileManager.default.removeItem(at: url) }
        await #expect(throws: SignetOCIError.self) { try await Self.run(url, outputLimit: 100_000) }
    }

    @Test func failingHelperIsAnError() async throws {
        let url = try Self.script("echo boom >&2; exit 3")
        defer { try? FileManager.default.removeItem(at: url) }
        await #expect(throws: SignetOCIError.self) { try await Self.run(url) }
    }
}
