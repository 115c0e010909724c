import Foundation
import SignetKMS
import SignetTestSupport
import Testing

/// TLS options (`VAULT_CACERT`, `VAULT_CAPATH`, `VAULT_SKIP_VERIFY`, `VAULT_TLS_SERVER_NAME`)
/// against OpenBao's `-dev-tls` listener, whose certificate names localhost and 127.0.0.1.
@Suite struct VaultTLSTests {
    @Test func tlsOptions() async throws {
        let server = try await OpenBaoServer(tls: true)
        defer { server.stop() }
        let ca = try #require(server.caCertificateFile)
        try await server.enableTransit()
        try await server.createTransitKey("cosign")
        let caDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("signet-capath-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: caDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: caDirectory) }
        try FileManager.default.copyItem(atPath: ca, toPath: caDirectory.appendingPathComponent("ca.pem").path)
        try Data("not a certificate".utf8).write(to: caDirectory.appendingPathComponent("README"))

        func sign(_ tls: VaultTLSOptions, address: String? = nil) async throws -> Data {
            var configuration = try VaultConfiguration(address: address ?? server.address, tls: tls)
            configuration.connectTimeout = .seconds(2)
            let client = try VaultClient(configuration: configuration, credential: .token(VaultToken(server.rootToken)))
            do {
                let signature = try await TransitSigner(client: client, keyName: "cosign").sign(samplePayload())
                try await client.shutdown()
                return signature
            } catch {
                try? await client.shutdown()
                throw error
            }
        }

        // Trusted through VAULT_CACERT, VAULT_CAPATH, or not checked at all.
        _ = try await sign(VaultTLSOptions(caCertificateFile: ca))
        _ = try await sign(VaultTLSOptions(caCertificateDirectory: caDirectory.path))
        _ = try await sign(VaultTLSOptions(skipVerify: true))
        // VAULT_TLS_SERVER_NAME: connect to 127.0.0.1, verify the certificate as `localhost`.
        _ = try await sign(VaultTLSOptions(caCertificateFile: ca, serverName: "localhost"))

        // Untrusted CA (system roots): refused. (A wrong server name cannot be shown refused with
        // this certificate: it also carries IP 127.0.0.1, which NIOSSL accepts for the peer address.)
        let untrusted = try await #require(throws: SignetKMSError.self) { try await sign(VaultTLSOptions()) }
        #expect(untrusted.code == .unreachable)
        // Half a client certificate is a configuration error.
        #expect(throws: SignetKMSError.self) {
            _ = try VaultClient(configuration: VaultConfiguration(address: server.address, tls: VaultTLSOptions(clientCertificateFile: ca)),
                                credential: .token(VaultToken("x")))
        }
    }
}
