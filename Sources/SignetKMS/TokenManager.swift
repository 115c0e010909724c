import Foundation
import Logging
import NIOHTTP1

/// Owns the Vault token of a `VaultClient`: logs in, renews the token (`auth/token/renew-self`)
/// once `renewAfter` of its TTL has passed, and logs in again when renewal is refused or the
/// token's max TTL is near. A long-running process thus only ever holds short-lived tokens.
///
/// Concurrent callers share one login or renewal in flight.
public actor TokenManager {
    /// A snapshot of the token's state (no secret in it), for logs, metrics and tests.
    public struct Status: Sendable, CustomStringConvertible {
        /// `token`, `jwt`, `kubernetes`, `approle`.
        public let method: String
        /// Whether a token is currently held.
        public let hasToken: Bool
        /// TTL granted at the last login or renewal; nil = does not expire.
        public let ttl: Duration?
        /// Time left before the held token expires; nil = does not expire or no token.
        public let remaining: Duration?
        public let renewable: Bool
        /// Logins performed so far.
        public let logins: Int
        /// Successful renewals so far.
        public let renewals: Int
        /// Renewals Vault refused (each followed by a new login when the method allows it).
        public let refusedRenewals: Int

        public var description: String {
            "\(method) token: held=\(hasToken) ttl=\(ttl.map { "\($0)" } ?? "none") renewable=\(renewable) logins=\(logins) renewals=\(renewals) refused=\(refusedRenewals)"
        }
    }

    struct Lease: Sendable {
        let token: VaultToken
        let obtained: ContinuousClock.Instant
        /// nil: the token does not expire (root tokens, ttl 0).
        let ttl: Duration?
        let renewable: Bool
        /// The TTL the last login granted; renewals shorter than a third of it mean max_ttl is near.
        let loginTTL: Duration?

        var expiry: ContinuousClock.Instant? { ttl.map { obtained + $0 } }
    }

    nonisolated let credential: VaultCredential
    /// Fraction of the TTL after which the token is renewed (default 2/3, as Vault Agent does roughly).
    nonisolated let renewAfter: Double
    let transport: VaultTransport
    let clock = ContinuousClock()
    var lease: Lease?
    var inFlight: Task<Lease, any Error>?
    var staticLookedUp = false
    var logins = 0
    var renewals = 0
    var refusedRenewals = 0

    init(credential: VaultCredential, transport: VaultTransport, renewAfter: Double) {
        self.credential = credential
        self.transport = transport
        self.renewAfter = min(max(renewAfter, 0.1), 0.95)
        if case .token(let token, _) = credential.kind {
            lease = Lease(token: token, obtained: ContinuousClock().now, ttl: nil, renewable: false, loginTTL: nil)
        }
    }

    /// The current token, after a login or renewal when one is due.
    public func token() async throws -> VaultToken {
        if let inFlight { return try await inFlight.value.token }
        let now = clock.now
        switch credential.kind {
        case .token(_, let renew):
            guard renew else { return lease!.token }
            if !staticLookedUp { return try await run { try await $0.lookUpStatic() }.token }
        default:
            break
        }
        guard let lease else { return try await run { try await $0.performLogIn() }.token }
        guard let ttl = lease.ttl else { return lease.token }
        let renewAt = lease.obtained + ttl * renewAfter
        if now < renewAt { return lease.token }
        let expired = now >= lease.obtained + ttl
        if lease.renewable && !expired {
            do {
                return try await run { try await $0.renewOrLogIn() }.token
            } catch let error as SignetKMSError where error.code == .unreachable || error.code == .sealed {
                // The current token is still valid: use it, retry renewal on the next call.
                if clock.now < lease.obtained + ttl { return lease.token }
                throw error
            }
        }
        if credential.canLogIn { return try await run { try await $0.performLogIn() }.token }
        throw SignetKMSError(.loginFailed, "the static vault token expired and no login method is configured")
    }

    /// Logs in now (or, for a static token, does nothing) and returns the new token.
    @discardableResult
    public func logIn() async throws -> VaultToken {
        if !credential.canLogIn { return try await token() }
        return try await run { try await $0.performLogIn() }.token
    }

    /// Renews the held token now (`auth/token/renew-self`), logging in again when Vault refuses.
    @discardableResult
    public func renew() async throws -> VaultToken {
        if lease == nil { return try await token() }
        return try await run { try await $0.renewOrLogIn() }.token
    }

    /// The state of the held token.
    public var status: Status {
        let remaining = lease?.expiry.map { max(.zero, $0 - clock.now) }
        return Status(method: credential.method, hasToken: lease != nil, ttl: lease?.ttl, remaining: remaining,
                      renewable: lease?.renewable ?? false, logins: logins, renewals: renewals,
                      refusedRenewals: refusedRenewals)
    }

    /// After a 403 with `token`: drops it and returns true when a fresh login is worth a retry
    /// (the token is not static and was not obtained in the last few seconds).
    func shouldRetryAfterDenied(_ token: VaultToken) -> Bool {
        guard credential.canLogIn, let lease, lease.token == token else { return false }
        if clock.now - lease.obtained < .seconds(5) { return false }
        self.lease = nil
        return true
    }

    // MARK: - Work, one at a time

    private func run(_ work: @escaping @Sendable (TokenManager) async throws -> Lease) async throws -> Lease {
        if let inFlight { return try await inFlight.value }
        let task = Task { try await work(self) }
        inFlight = task
        defer { inFlight = nil }
        let result = try await task.value
        return result
    }

    private func performLogIn() async throws -> Lease {
        let body: Data
        switch credential.kind {
        case .token:
            return lease!
        case .jwt(let role, let source), .kubernetes(let role, let source):
            let jwt = try await loadSecret(source, what: credential.method == "jwt" ? "jwt" : "service-account token")
            body = try VaultJSON.encode(["role": role, "jwt": jwt])
        case .appRole(let roleID, let secretSource):
            var fields = ["role_id": roleID]
            if let secretSource { fields["secret_id"] = try await loadSecret(secretSource, what: "approle secret id") }
            body = try VaultJSON.encode(fields)
        }
        let path = credential.loginPath
        let data: Data
        do {
            data = try await transport.send(.POST, path, body: body, token: nil).body
        } catch let error as SignetKMSError where error.code == .server || error.code == .permissionDenied {
            let reason = error.vaultErrors.isEmpty ? "status \(error.vaultStatus ?? 0)" : error.vaultErrors.joined(separator: "; ")
            throw SignetKMSError(.loginFailed, "\(credential.method) login at \(path) was refused: \(reason)", underlying: error.underlying)
        }
        let envelope = try VaultJSON.decode(VaultEnvelope<VaultEmpty>.self, from: data, path: path)
        guard let auth = envelope.auth, !auth.client_token.isEmpty else {
            throw SignetKMSError(.loginFailed, "\(credential.method) login at \(path) returned no token")
        }
        let ttl = Self.ttl(auth.lease_duration)
        let newLease = Lease(token: VaultToken(auth.client_token), obtained: clock.now, ttl: ttl,
                             renewable: auth.renewable ?? false, loginTTL: ttl)
        lease = newLease
        logins += 1
        transport.logger.debug("vault login", metadata: ["method": "\(credential.method)", "path": "\(path)", "ttl": "\(auth.lease_duration ?? 0)s"])
        return newLease
    }

    private func renewOrLogIn() async throws -> Lease {
        guard let current = lease else { return try await performLogIn() }
        let auth: VaultAuthInfo
        do {
            let data = try await transport.send(.POST, "auth/token/renew-self", body: Data("{}".utf8), token: current.token).body
            let envelope = try VaultJSON.decode(VaultEnvelope<VaultEmpty>.self, from: data, path: "auth/token/renew-self")
            guard let renewed = envelope.auth else {
                throw SignetKMSError(.invalidResponse, "vault's answer to auth/token/renew-self has no auth")
            }
            auth = renewed
        } catch let error as SignetKMSError where error.code != .unreachable && error.code != .sealed {
            refusedRenewals += 1
            transport.logger.debug("vault refused token renewal", metadata: ["code": "\(error.code)"])
            guard credential.canLogIn else {
                throw SignetKMSError(.loginFailed, "vault refused to renew the static token and no login method is configured", underlying: error)
            }
            return try await performLogIn()
        }
        let ttl = Self.ttl(auth.lease_duration)
        renewals += 1
        // A renewal capped far below the login TTL means max_ttl is near: log in again instead.
        if credential.canLogIn, let ttl, let loginTTL = current.loginTTL, ttl < loginTTL / 3 {
            transport.logger.debug("vault token near its max ttl: logging in again")
            return try await performLogIn()
        }
        let renewed = Lease(token: current.token, obtained: clock.now, ttl: ttl,
                            renewable: auth.renewable ?? current.renewable, loginTTL: current.loginTTL ?? ttl)
        lease = renewed
        transport.logger.debug("vault token renewed", metadata: ["ttl": "\(auth.lease_duration ?? 0)s"])
        return renewed
    }

    /// For a static token to renew: learn its TTL once (`auth/token/lookup-self`).
    private func lookUpStatic() async throws -> Lease {
        guard let current = lease else { throw SignetKMSError(.invalidConfiguration, "no vault token") }
        struct Lookup: Decodable { let ttl: Int?; let renewable: Bool? }
        let data = try await transport.send(.GET, "auth/token/lookup-self", token: current.token).body
        let envelope = try VaultJSON.decode(VaultEnvelope<Lookup>.self, from: data, path: "auth/token/lookup-self")
        let ttl = Self.ttl(envelope.data?.ttl)
        let looked = Lease(token: current.token, obtained: clock.now, ttl: ttl,
                           renewable: envelope.data?.renewable ?? false, loginTTL: ttl)
        lease = looked
        staticLookedUp = true
        return looked
    }

    private func loadSecret(_ source: VaultSecretSource, what: String) async throws -> String {
        let value: String
        do {
            value = try await source.load().trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw SignetKMSError(.loginFailed, "the \(what) for \(credential.method) login could not be read", underlying: error)
        }
        guard !value.isEmpty else {
            throw SignetKMSError(.loginFailed, "the \(what) for \(credential.method) login is empty")
        }
        return value
    }

    static func ttl(_ seconds: Int?) -> Duration? {
        guard let seconds, seconds > 0 else { return nil }
        return .seconds(seconds)
    }
}
