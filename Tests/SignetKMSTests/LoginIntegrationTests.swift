import Foundation
import SignetKMS
import SignetTestSupport
import Testing

/// Logins CI and clusters use, and token renewal, against a real OpenBao.
@Suite struct LoginIntegrationTests {
    @Test func gitLabJWTLoginWithBoundClaimsSigns() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        let issuer = GitLabTokenIssuer()
        try await issuer.configure(server, path: "gitlab")
        let jwt = try issuer.token()
        try await withClient(server, .jwt(role: "cosign", jwt: .value(jwt), mount: "gitlab")) { client in
            let signature = try await TransitSigner(client: client, keyName: "cosign").sign(samplePayload())
            #expect(try await TransitVerifier(client: client, keyName: "cosign").verify(signature: signature, payload: samplePayload()))
            let status = await client.tokens.status
            #expect(status.method == "jwt")
            #expect(status.logins == 1)
            #expect(status.renewable)
            #expect(status.ttl == .seconds(300))
        }
        // A token for another project is refused by the role's bound claims.
        let foreign = try issuer.token(projectPath: "attacker/fork")
        try await withClient(server, .jwt(role: "cosign", jwt: .value(foreign), mount: "gitlab")) { client in
            let error = try await #require(throws: SignetKMSError.self) { try await client.tokens.token() }
            #expect(error.code == .loginFailed)
        }
        // A token signed by another key is refused.
        let stranger = try GitLabTokenIssuer().token()
        try await withClient(server, .jwt(role: "cosign", jwt: .value(stranger), mount: "gitlab")) { client in
            let error = try await #require(throws: SignetKMSError.self) { try await client.tokens.token() }
            #expect(error.code == .loginFailed)
        }
    }

    @Test func kubernetesLoginThroughTokenReview() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        let stub = try await TokenReviewStub()
        try await server.enableAuth("kubernetes")
        // Any PEM certificate will do: the stub speaks plain HTTP.
        try await server.write("auth/kubernetes/config", [
            "kubernetes_host": stub.address, "kubernetes_ca_cert": try TokenReviewStub.certificatePEM(), "disable_local_ca_jwt": true,
        ])
        try await server.write("auth/kubernetes/role/signet-webhook", [
            "bound_service_account_names": ["signet"], "bound_service_account_namespaces": ["signet-system"],
            "token_policies": ["cosign"], "token_ttl": "10m",
        ])
        let saToken = TokenReviewStub.serviceAccountToken(namespace: "signet-system", name: "signet")
        // The token is re-read at each login, as a projected token file would be.
        try await withClient(server, .kubernetes(role: "signet-webhook", serviceAccountToken: .provider { saToken })) { client in
            let signature = try await TransitSigner(client: client, keyName: "cosign").sign(samplePayload())
            #expect(try await TransitVerifier(client: client, keyName: "cosign").verify(signature: signature, payload: samplePayload()))
            #expect(await client.tokens.status.method == "kubernetes")
        }
        #expect(stub.reviewCount >= 1)
        // Another service account is not bound to the role.
        let other = TokenReviewStub.serviceAccountToken(namespace: "default", name: "intruder")
        try await withClient(server, .kubernetes(role: "signet-webhook", serviceAccountToken: .value(other))) { client in
            let error = try await #require(throws: SignetKMSError.self) { try await client.tokens.token() }
            #expect(error.code == .loginFailed)
        }
        // A token the API server does not authenticate.
        let revoked = TokenReviewStub.serviceAccountToken(namespace: "signet-system", name: "signet")
        stub.reject(revoked)
        try await withClient(server, .kubernetes(role: "signet-webhook", serviceAccountToken: .value(revoked))) { client in
            let error = try await #require(throws: SignetKMSError.self) { try await client.tokens.token() }
            #expect(error.code == .loginFailed)
        }
        await stub.stop()
    }

    @Test func appRoleLogin() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        try await server.enableAuth("approle")
        try await server.write("auth/approle/role/signer", ["token_policies": ["cosign"], "token_ttl": "10m"])
        let roleID = try #require(((try await server.api("GET", "auth/approle/role/signer/role-id"))["data"] as? [String: Any])?["role_id"] as? String)
        let secretID = try #require(((try await server.api("POST", "auth/approle/role/signer/secret-id"))["data"] as? [String: Any])?["secret_id"] as? String)
        try await withClient(server, .appRole(roleID: roleID, secretID: .value(secretID))) { client in
            let signature = try await TransitSigner(client: client, keyName: "cosign").sign(samplePayload())
            #expect(try await TransitVerifier(client: client, keyName: "cosign", mode: .remote).verify(signature: signature, payload: samplePayload()))
        }
        try await withClient(server, .appRole(roleID: roleID, secretID: .value("wrong"))) { client in
            let error = try await #require(throws: SignetKMSError.self) { try await client.tokens.token() }
            #expect(error.code == .loginFailed)
            #expect(!"\(error)".contains(secretID))
        }
    }

    /// A 3 s token, renewed after half its TTL, capped by a 7 s max TTL: a process signing for
    /// 9 s renews, then logs in again when the cap nears, and never fails.
    @Test func shortLivedTokensAreRenewedAndReplacedByLogin() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        let issuer = GitLabTokenIssuer()
        try await issuer.configure(server, ttl: "3s", maxTTL: "7s", policies: ["cosign", "default"])
        let jwt = try issuer.token()
        try await withClient(server, .jwt(role: "cosign", jwt: .value(jwt)), renewAfter: 0.5) { client in
            let signer = TransitSigner(client: client, keyName: "cosign")
            let clock = ContinuousClock()
            let end = clock.now + .seconds(9)
            var signatures = 0
            while clock.now < end {
                _ = try await signer.sign(samplePayload(signatures))
                signatures += 1
                try await Task.sleep(for: .milliseconds(400))
            }
            let status = await client.tokens.status
            #expect(signatures >= 15)
            #expect(status.renewals >= 1, "\(status)")
            #expect(status.logins >= 2, "\(status)")
        }
    }

    @Test func refusedRenewalLeadsToANewLogin() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        let issuer = GitLabTokenIssuer()
        try await issuer.configure(server, ttl: "1h", maxTTL: "2h", policies: ["cosign", "default"])
        try await withClient(server, .jwt(role: "cosign", jwt: .value(try issuer.token()))) { client in
            let first = try await client.tokens.token()
            try await server.revokeToken(first.value)
            let second = try await client.tokens.renew()
            #expect(second != first)
            let status = await client.tokens.status
            #expect(status.refusedRenewals == 1)
            #expect(status.logins == 2)
            _ = try await TransitSigner(client: client, keyName: "cosign").sign(samplePayload())
        }
    }

    @Test func revokedTokenIsReplacedOnTheNextRequest() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        try await server.enableAuth("approle")
        try await server.write("auth/approle/role/signer", ["token_policies": ["cosign"], "token_ttl": "1h", "bind_secret_id": false,
                                                            "secret_id_bound_cidrs": ["127.0.0.1/32"]])
        let roleID = try #require(((try await server.api("GET", "auth/approle/role/signer/role-id"))["data"] as? [String: Any])?["role_id"] as? String)
        try await withClient(server, .appRole(roleID: roleID, secretID: nil)) { client in
            let signer = TransitSigner(client: client, keyName: "cosign")
            _ = try await signer.sign(samplePayload())
            let token = try await client.tokens.token()
            try await server.revokeToken(token.value)
            // Give the 403-retry guard (a token younger than 5 s is not replaced) time to pass.
            try await Task.sleep(for: .seconds(5.2))
            _ = try await signer.sign(samplePayload())
            #expect(await client.tokens.status.logins == 2)
        }
    }

    @Test func periodicStaticTokenIsRenewed() async throws {
        let server = try await startBaoWithCosignKey()
        defer { server.stop() }
        let token = try await server.createToken(policies: ["cosign", "default"], ttl: "3s", period: "3s")
        try await withClient(server, .token(VaultToken(token), renew: true), renewAfter: 0.5) { client in
            let signer = TransitSigner(client: client, keyName: "cosign")
            for i in 0..<12 {
                _ = try await signer.sign(samplePayload(i))
                try await Task.sleep(for: .milliseconds(500))
            }
            let status = await client.tokens.status
            #expect(status.renewals >= 2, "\(status)")
            #expect(status.logins == 0)
        }
    }
}
