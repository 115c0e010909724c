import Foundation
import SignetKMS
import SignetTestSupport
import Testing

/// Clear errors for the failures an operator meets; never a token in them.
@Suite struct VaultErrorTests {
    @Test func permissionDeniedNamesTheRefusedPath() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        try await server.createTransitKey("other")
        let token = try await server.createToken(policies: ["cosign"])
        try await withClient(server, .token(VaultToken(token))) { client in
            // The signer reads the key first: refused on transit/keys/other.
            let error = try await #require(throws: SignetKMSError.self) {
                try await TransitSigner(client: client, keyName: "other").sign(samplePayload())
            }
            #expect(error.code == .permissionDenied)
            #expect(error.message.contains("transit/keys/other"))
            #expect(!error.description.contains(token))
            // A direct sign call: refused on transit/sign/other/sha2-256.
            let signError = try await #require(throws: SignetKMSError.self) {
                try await client.transitSign(samplePayload(), key: "other")
            }
            #expect(signError.code == .permissionDenied)
            #expect(signError.message.contains("transit/sign/other/sha2-256"))
            // The least-privilege token cannot create keys (generate-key-pair needs more).
            let createError = try await #require(throws: SignetKMSError.self) {
                try await client.createTransitKey("fresh")
            }
            #expect(createError.code == .permissionDenied)
            #expect(createError.message.contains("transit/keys/fresh"))
        }
    }

    @Test func missingKeyAndKeyThatCannotSign() async throws {
        let server = try await OpenBaoServer()
        defer { server.stop() }
        try await server.enableTransit()
        try await server.createTransitKey("aes", type: "aes256-gcm96")
        try await withRootClient(server) { client in
            let missing = try await #require(throws: SignetKMSError.self) {
                try await TransitSigner(client: client, keyName: "nope").sign(samplePayload())
            }
            #expect(missing.code == .keyNotFound)
            #expect(missing.message.contains("nope"))
            let missingSign = try await #require(throws: SignetKMSError.self) {
                try await client.transitSign(samplePayload(), key: "nope")
            }
            #expect(missingSign.code == .keyNotFound)
            let cannot = try await #require(throws: SignetKMSError.self) {
                try await TransitSigner(client: client, keyName: "aes").sign(samplePayload())
            }
            #expect(cannot.code == .keyCannotSign)
            #expect(cannot.message.contains("aes256-gcm96"))
            let cannotSign = try await #require(throws: SignetKMSError.self) {
                try await client.transitSign(samplePayload(), key: "aes")
            }
            #expect(cannotSign.code == .keyCannotSign)
            let verifierMissing = try await #require(throws: SignetKMSError.self) {
                try await TransitVerifier(client: client, keyName: "nope").verify(signature: Data([0x30]), payload: samplePayload())
            }
            #expect(verifierMissing.code == .keyNotFound)
        }
    }

    @Test func sealedServerGivesTheSealedError() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        try await withRootClient(server) { client in
            _ = try await TransitSigner(client: client, keyName: "cosign").sign(samplePayload())
            try server.seal()
            let error = try await #require(throws: SignetKMSError.self) {
                try await TransitSigner(client: client, keyName: "cosign").sign(samplePayload())
            }
            #expect(error.code == .sealed)
            #expect(error.message.contains("sealed"))
            #expect(try await client.health().sealed)
        }
    }

    @Test func unreachableServer() async throws {
        let port = try ManagedProcess.freeLoopbackPort()
        var configuration = try VaultConfiguration(address: "http://127.0.0.1:\(port)")
        configuration.connectTimeout = .seconds(1)
        let client = try VaultClient(configuration: configuration, credential: .token(VaultToken("s.secret-token-value")))
        let error = try await #require(throws: SignetKMSError.self) {
            try await TransitSigner(client: client, keyName: "cosign").sign(samplePayload())
        }
        #expect(error.code == .unreachable)
        #expect(error.message.contains("127.0.0.1:\(port)"))
        #expect(!"\(error)".contains("secret-token-value"))
        try await client.shutdown()
    }

    @Test func failedLoginsAreReportedWithoutSecrets() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        let issuer = GitLabTokenIssuer()
        try await issuer.configure(server)
        let jwt = try issuer.token(ref: "feature-branch")
        try await withClient(server, .jwt(role: "cosign", jwt: .value(jwt))) { client in
            let error = try await #require(throws: SignetKMSError.self) {
                try await TransitSigner(client: client, keyName: "cosign").sign(samplePayload())
            }
            #expect(error.code == .loginFailed)
            #expect(error.message.contains("auth/jwt/login"))
            #expect(!"\(error)".contains(jwt))
        }
    }
}
