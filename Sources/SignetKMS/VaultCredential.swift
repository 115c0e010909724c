/// A secret produced on demand: a fixed value, or a closure the executable supplies (to re-read a
/// projected service-account token or a CI JWT file at each login). The library never reads
/// environment variables or files itself.
public struct VaultSecretSource: Sendable, CustomStringConvertible {
    let load: @Sendable () async throws -> String

    /// A fixed secret.
    public static func value(_ secret: String) -> VaultSecretSource { VaultSecretSource { secret } }

    /// A secret obtained by calling `provider` at each login (its result is trimmed of whitespace).
    public static func provider(_ provider: @escaping @Sendable () async throws -> String) -> VaultSecretSource {
        VaultSecretSource(load: provider)
    }

    public var description: String { "<redacted>" }
}

/// How a `VaultClient` gets its token: a static token, or a login method that yields short-lived,
/// renewable tokens (`auth/PATH/login`).
public struct VaultCredential: Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case token(VaultToken, renew: Bool)
        case jwt(role: String, jwt: VaultSecretSource)
        case kubernetes(role: String, jwt: VaultSecretSource)
        case appRole(roleID: String, secretID: VaultSecretSource?)
    }

    let kind: Kind
    /// The auth method's mount path (`jwt`, `kubernetes`, `approle`, or what `VAULT_AUTH_PATH` says);
    /// empty for static tokens.
    public let mount: String

    /// A static token (`VAULT_TOKEN`). With `renew`, the token is looked up once and renewed
    /// (`auth/token/renew-self`) before it expires, which keeps a periodic token alive indefinitely.
    public static func token(_ token: VaultToken, renew: Bool = false) -> VaultCredential {
        VaultCredential(kind: .token(token, renew: renew), mount: "")
    }

    /// JWT/OIDC login (`POST auth/MOUNT/login {"role","jwt"}`): GitLab CI `id_tokens`, GitHub
    /// Actions OIDC tokens, or Kubernetes as an OIDC issuer.
    public static func jwt(role: String, jwt: VaultSecretSource, mount: String = "jwt") -> VaultCredential {
        VaultCredential(kind: .jwt(role: role, jwt: jwt), mount: normalizeMount(mount))
    }

    /// Kubernetes login (`POST auth/MOUNT/login {"role","jwt"}`) with the pod's service-account token
    /// (`/var/run/secrets/kubernetes.io/serviceaccount/token`, re-read at each login).
    public static func kubernetes(role: String, serviceAccountToken: VaultSecretSource,
                                  mount: String = "kubernetes") -> VaultCredential {
        VaultCredential(kind: .kubernetes(role: role, jwt: serviceAccountToken), mount: normalizeMount(mount))
    }

    /// AppRole login (`POST auth/MOUNT/login {"role_id","secret_id"}`); `secretID` may be absent
    /// when the role does not require one (`bind_secret_id=false`).
    public static func appRole(roleID: String, secretID: VaultSecretSource?, mount: String = "approle") -> VaultCredential {
        VaultCredential(kind: .appRole(roleID: roleID, secretID: secretID), mount: normalizeMount(mount))
    }

    /// `token`, `jwt`, `kubernetes` or `approle`.
    public var method: String {
        switch kind {
        case .token: "token"
        case .jwt: "jwt"
        case .kubernetes: "kubernetes"
        case .appRole: "approle"
        }
    }

    /// Whether a token can be obtained again by logging in (every method but a static token).
    public var canLogIn: Bool {
        if case .token = kind { return false }
        return true
    }

    /// The login endpoint, `auth/MOUNT/login`.
    var loginPath: String { "auth/\(mount)/login" }

    public var description: String {
        switch kind {
        case .token: "static token"
        case .jwt(let role, _): "jwt login at auth/\(mount) (role \(role))"
        case .kubernetes(let role, _): "kubernetes login at auth/\(mount) (role \(role))"
        case .appRole: "approle login at auth/\(mount)"
        }
    }

    static func normalizeMount(_ mount: String) -> String {
        var m = mount
        while m.hasPrefix("/") { m.removeFirst() }
        if m.hasPrefix("auth/") { m.removeFirst(5) }
        while m.hasSuffix("/") { m.removeLast() }
        return m
    }
}
