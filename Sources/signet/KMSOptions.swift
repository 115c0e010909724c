import ArgumentParser
import Foundation
import SignetKMS
import SignetSigning

/// Vault / OpenBao settings for `hashivault://KEY` and `openbao://KEY` keys (FORMATS.md §3), read
/// as cosign and the Vault CLI read them, plus the login settings Signet adds:
///
/// | variable | meaning |
/// |---|---|
/// | `VAULT_ADDR` / `BAO_ADDR` | server address (required) |
/// | `VAULT_TOKEN` / `BAO_TOKEN` / `~/.vault-token` | static token |
/// | `VAULT_NAMESPACE` | `X-Vault-Namespace` |
/// | `TRANSIT_SECRET_ENGINE_PATH` | transit mount (default `transit`) |
/// | `VAULT_CACERT`, `VAULT_CAPATH`, `VAULT_CLIENT_CERT`, `VAULT_CLIENT_KEY`, `VAULT_SKIP_VERIFY`, `VAULT_TLS_SERVER_NAME` | TLS |
/// | `VAULT_AUTH_METHOD` | `token`, `jwt`, `kubernetes` or `approle` (default: `token` when a token is set, else `approle` when `VAULT_ROLE_ID` is set, else `jwt` when a JWT is available) |
/// | `VAULT_AUTH_PATH` | the auth method's mount (default: the method name) |
/// | `VAULT_AUTH_ROLE` | role for jwt and kubernetes logins |
/// | `VAULT_AUTH_JWT_ENV` | the variable holding the JWT (default `VAULT_ID_TOKEN`, GitLab's `id_tokens` name) |
/// | `VAULT_AUTH_JWT_FILE` | or a file holding it (re-read at each login) |
/// | `VAULT_KUBERNETES_TOKEN_FILE` | service-account token (default `/var/run/secrets/kubernetes.io/serviceaccount/token`) |
/// | `VAULT_ROLE_ID`, `VAULT_SECRET_ID` / `VAULT_SECRET_ID_FILE` | AppRole |
/// | `VAULT_TOKEN_RENEW` | renew a static (periodic) token before it expires (`true` for long-running processes) |
/// | `SIGNET_TRANSIT_VERIFY` | `local` (default: public keys of every valid version) or `remote` (`transit/verify`) |
///
/// For `openbao://` keys the `BAO_*` spelling wins over `VAULT_*`; for `hashivault://` the reverse.
/// Every `VAULT_X` above may also be spelled `BAO_X`.
enum KMSOptions {
    /// Which product's variable spelling comes first.
    enum Flavor: String, Sendable {
        case vault = "hashivault"
        case openbao = "openbao"

        var prefixes: [String] { self == .vault ? ["VAULT_", "BAO_"] : ["BAO_", "VAULT_"] }
    }

    static let defaultServiceAccountTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"

    /// Registers `hashivault` and `openbao` in `registry`. Nothing is read or contacted until a
    /// command uses such a key; configuration errors surface then.
    static func register(into registry: inout KeyProviderRegistry, environment: [String: String]) {
        for flavor in [Flavor.vault, .openbao] {
            let environment = environment
            let options = (try? providerOptions(environment: environment)) ?? HashiVaultKeyProvider.Options()
            let provider = HashiVaultKeyProvider(options: options) {
                _ = try providerOptions(environment: environment)  // report a bad SIGNET_TRANSIT_VERIFY on use
                return try makeVaultClient(environment: environment, flavor: flavor)
            }
            registry.register(scheme: flavor.rawValue, provider: provider)
        }
    }

    /// A registry with the KMS providers added to `base` (the file/env registry of KeyOptions).
    static func makeKeyProviderRegistry(base: KeyProviderRegistry,
                                        environment: [String: String] = ProcessInfo.processInfo.environment) -> KeyProviderRegistry {
        var registry = base
        register(into: &registry, environment: environment)
        return registry
    }

    /// Transit mount, verification mode.
    static func providerOptions(environment: [String: String]) throws -> HashiVaultKeyProvider.Options {
        var options = HashiVaultKeyProvider.Options()
        if let mount = nonEmpty(environment["TRANSIT_SECRET_ENGINE_PATH"]) { options.mount = mount }
        switch nonEmpty(environment["SIGNET_TRANSIT_VERIFY"])?.lowercased() {
        case nil, "local": options.verification = .local
        case "remote": options.verification = .remote
        case let other?: throw CLIError("SIGNET_TRANSIT_VERIFY must be local or remote, not '\(other)'")
        }
        return options
    }

    /// A client for the configured server and login.
    static func makeVaultClient(environment: [String: String], flavor: Flavor = .vault) throws -> VaultClient {
        try VaultClient(configuration: configuration(environment: environment, flavor: flavor),
                        credential: credential(environment: environment, flavor: flavor))
    }

    /// Address, namespace and TLS.
    static func configuration(environment: [String: String], flavor: Flavor = .vault) throws -> VaultConfiguration {
        let get = lookup(environment, flavor)
        guard let address = get("ADDR") else {
            throw CLIError("\(flavor == .vault ? "VAULT_ADDR" : "BAO_ADDR") is not set: it must name the Vault/OpenBao server for \(flavor.rawValue):// keys")
        }
        let tls = VaultTLSOptions(caCertificateFile: get("CACERT"), caCertificateDirectory: get("CAPATH"),
                                  clientCertificateFile: get("CLIENT_CERT"), clientKeyFile: get("CLIENT_KEY"),
                                  skipVerify: try parseBool(get("SKIP_VERIFY"), name: "VAULT_SKIP_VERIFY") ?? false,
                                  serverName: get("TLS_SERVER_NAME"))
        return try VaultConfiguration(address: address, namespace: get("NAMESPACE"), tls: tls)
    }

    /// The login: a static token or a login method, per `VAULT_AUTH_METHOD`.
    static func credential(environment: [String: String], flavor: Flavor = .vault) throws -> VaultCredential {
        let get = lookup(environment, flavor)
        let staticToken = get("TOKEN") ?? tokenHelperFile(environment)
        let jwtVariable = get("AUTH_JWT_ENV") ?? "VAULT_ID_TOKEN"
        let jwtAvailable = nonEmpty(environment[jwtVariable]) != nil || get("AUTH_JWT_FILE") != nil
        let method: VaultAuthMethod
        if let explicit = get("AUTH_METHOD") {
            guard let parsed = VaultAuthMethod(argument: explicit) else {
                throw CLIError("VAULT_AUTH_METHOD must be token, jwt, kubernetes or approle, not '\(explicit)'")
            }
            method = parsed
        } else if staticToken != nil {
            method = .token
        } else if get("ROLE_ID") != nil {
            method = .appRole
        } else if jwtAvailable {
            method = .jwt
        } else {
            throw CLIError("no vault token: set VAULT_TOKEN (or BAO_TOKEN, or ~/.vault-token), or VAULT_AUTH_METHOD=jwt|kubernetes|approle with its settings")
        }
        let mount = get("AUTH_PATH") ?? method.defaultMount
        switch method {
        case .token:
            guard let staticToken else {
                throw CLIError("VAULT_AUTH_METHOD=token but no token: set VAULT_TOKEN, BAO_TOKEN or ~/.vault-token")
            }
            let renew = try parseBool(get("TOKEN_RENEW"), name: "VAULT_TOKEN_RENEW") ?? false
            return .token(VaultToken(staticToken), renew: renew)
        case .jwt:
            guard let role = get("AUTH_ROLE") else { throw CLIError("jwt login needs VAULT_AUTH_ROLE") }
            let source: VaultSecretSource
            if let file = get("AUTH_JWT_FILE") {
                source = .provider { try readSecretFile(file) }
            } else if let jwt = nonEmpty(environment[jwtVariable]) {
                source = .value(jwt)
            } else {
                throw CLIError("jwt login needs a token in $\(jwtVariable) (set VAULT_AUTH_JWT_ENV to use another variable) or VAULT_AUTH_JWT_FILE")
            }
            return .jwt(role: role, jwt: source, mount: get("AUTH_PATH") ?? "jwt")
        case .kubernetes:
            guard let role = get("AUTH_ROLE") else { throw CLIError("kubernetes login needs VAULT_AUTH_ROLE") }
            let file = get("KUBERNETES_TOKEN_FILE") ?? defaultServiceAccountTokenFile
            // Projected tokens rotate: read the file at each login.
            return .kubernetes(role: role, serviceAccountToken: .provider { try readSecretFile(file) },
                               mount: get("AUTH_PATH") ?? "kubernetes")
        case .appRole:
            guard let roleID = get("ROLE_ID") else { throw CLIError("approle login needs VAULT_ROLE_ID") }
            var secret: VaultSecretSource?
            if let file = get("SECRET_ID_FILE") {
                secret = .provider { try readSecretFile(file) }
            } else if let value = get("SECRET_ID") {
                secret = .value(value)
            }
            return .appRole(roleID: roleID, secretID: secret, mount: mount)
        }
    }

    // MARK: - Helpers

    /// `get("ADDR")` -> `VAULT_ADDR` or `BAO_ADDR` (order by flavor), trimmed, nil when empty.
    static func lookup(_ environment: [String: String], _ flavor: Flavor) -> (String) -> String? {
        { suffix in
            for prefix in flavor.prefixes {
                if let value = nonEmpty(environment[prefix + suffix]) { return value }
            }
            return nil
        }
    }

    /// `~/.vault-token`, as the Vault CLI's token helper stores it.
    static func tokenHelperFile(_ environment: [String: String]) -> String? {
        guard let home = nonEmpty(environment["HOME"]) ?? nonEmpty(NSHomeDirectory()) else { return nil }
        return (try? readSecretFile(home + "/.vault-token")).flatMap(nonEmpty)
    }

    static func readSecretFile(_ path: String) throws -> String {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CLIError("cannot read \(path)")
        }
        guard data.count < 64 << 10, let text = String(data: data, encoding: .utf8) else {
            throw CLIError("\(path) does not hold a token")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Go's strconv.ParseBool, as the Vault CLI reads VAULT_SKIP_VERIFY.
    static func parseBool(_ value: String?, name: String) throws -> Bool? {
        guard let value else { return nil }
        switch value {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: throw CLIError("\(name) must be true or false, not '\(value)'")
        }
    }

    static func nonEmpty(_ value: String?) -> String? {
        guard let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
        return trimmed
    }
}

/// Flags that override the Vault login settings for one run (`@OptionGroup var vault: VaultLoginFlags`);
/// each sets the variable it names, then `KMSOptions` reads the environment as usual.
struct VaultLoginFlags: ParsableArguments {
    @Option(name: .customLong("vault-auth-method"), help: "Vault login: token, jwt, kubernetes or approle (VAULT_AUTH_METHOD).")
    var method: VaultAuthMethod?

    @Option(name: .customLong("vault-auth-path"), help: "Mount path of the Vault auth method (VAULT_AUTH_PATH).")
    var path: String?

    @Option(name: .customLong("vault-auth-role"), help: "Role for jwt/kubernetes login (VAULT_AUTH_ROLE).")
    var role: String?

    @Option(name: .customLong("vault-jwt-file"), help: "File holding the JWT for jwt login (VAULT_AUTH_JWT_FILE).")
    var jwtFile: String?

    @Option(name: .customLong("vault-jwt-env"), help: "Variable holding the JWT for jwt login (VAULT_AUTH_JWT_ENV, default VAULT_ID_TOKEN).")
    var jwtEnv: String?

    /// `environment` with the given flags applied.
    func applied(to environment: [String: String]) -> [String: String] {
        var env = environment
        let pairs: [(String, String?)] = [("VAULT_AUTH_METHOD", method?.rawValue), ("VAULT_AUTH_PATH", path), ("VAULT_AUTH_ROLE", role),
                                          ("VAULT_AUTH_JWT_FILE", jwtFile), ("VAULT_AUTH_JWT_ENV", jwtEnv)]
        for (name, value) in pairs {
            if let value {
                env[name] = value
                env["BAO_" + name.dropFirst("VAULT_".count)] = nil
            }
        }
        return env
    }
}

/// The Vault login methods Signet speaks (`VAULT_AUTH_METHOD`, `--vault-auth-method`); `oidc` and
/// `k8s` are accepted as the aliases the Vault CLI users write.
enum VaultAuthMethod: String, CaseIterable, ExpressibleByArgument, Sendable {
    case token, jwt, kubernetes
    case appRole = "approle"

    init?(argument: String) {
        switch argument.trimmingCharacters(in: .whitespaces).lowercased() {
        case "token": self = .token
        case "jwt", "oidc": self = .jwt
        case "kubernetes", "k8s": self = .kubernetes
        case "approle": self = .appRole
        default: return nil
        }
    }

    /// The auth mount when `VAULT_AUTH_PATH` names none: the method's own name.
    var defaultMount: String { rawValue }

    static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
