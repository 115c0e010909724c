import Foundation

/// Where Vault (or OpenBao) is and how to talk to it; the executable fills it from `VAULT_*` / `BAO_*`.
public struct VaultConfiguration: Sendable {
    /// `VAULT_ADDR`, e.g. `https://vault.example.com:8200` (a path prefix is kept).
    public var address: URL
    /// `VAULT_NAMESPACE`, sent as `X-Vault-Namespace` (Vault Enterprise / OpenBao namespaces).
    public var namespace: String?
    /// TLS settings for `https` addresses.
    public var tls: VaultTLSOptions
    /// Per-request timeout.
    public var requestTimeout: Duration
    /// How long to keep trying to connect before reporting Vault unreachable.
    public var connectTimeout: Duration
    /// Connections kept per host (bounds concurrency against one Vault).
    public var maximumConnections: Int

    public init(address: URL, namespace: String? = nil, tls: VaultTLSOptions = VaultTLSOptions(),
                requestTimeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(5),
                maximumConnections: Int = 16) {
        self.connectTimeout = connectTimeout
        self.address = address
        self.namespace = namespace
        self.tls = tls
        self.requestTimeout = requestTimeout
        self.maximumConnections = maximumConnections
    }

    /// Parses `address` (`VAULT_ADDR`); a missing scheme means `https`, as the Vault CLI assumes.
    public init(address: String, namespace: String? = nil, tls: VaultTLSOptions = VaultTLSOptions()) throws {
        var text = address.trimmingCharacters(in: .whitespaces)
        if !text.contains("://") { text = "https://" + text }
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw SignetKMSError(.invalidConfiguration, "vault address '\(address)' is not an http(s) url")
        }
        self.init(address: url, namespace: namespace, tls: tls)
    }
}

/// TLS settings, as `VAULT_CACERT`, `VAULT_CAPATH`, `VAULT_CLIENT_CERT`, `VAULT_CLIENT_KEY`,
/// `VAULT_SKIP_VERIFY` and `VAULT_TLS_SERVER_NAME` give them. Paths are read when the client is built.
public struct VaultTLSOptions: Sendable, Hashable {
    /// A PEM file of CA certificates to trust instead of the system roots.
    public var caCertificateFile: String?
    /// A directory of PEM CA certificates to trust instead of the system roots.
    public var caCertificateDirectory: String?
    /// Client certificate (PEM) for TLS client authentication (`cert` auth or mTLS listeners).
    public var clientCertificateFile: String?
    /// The client certificate's private key (PEM).
    public var clientKeyFile: String?
    /// Do not verify the server's certificate (tests only).
    public var skipVerify: Bool
    /// The name to send as SNI and to verify the certificate against, instead of the address host.
    public var serverName: String?

    public init(caCertificateFile: String? = nil, caCertificateDirectory: String? = nil,
                clientCertificateFile: String? = nil, clientKeyFile: String? = nil,
                skipVerify: Bool = false, serverName: String? = nil) {
        self.caCertificateFile = caCertificateFile
        self.caCertificateDirectory = caCertificateDirectory
        self.clientCertificateFile = clientCertificateFile
        self.clientKeyFile = clientKeyFile
        self.skipVerify = skipVerify
        self.serverName = serverName
    }
}
