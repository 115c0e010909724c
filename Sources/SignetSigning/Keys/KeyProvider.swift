/// Turns a `KeyReference` of one scheme into signers and verifiers: local files and `env://`
/// (`LocalKeyProvider`), or a KMS (SignetKMS registers `hashivault` and `openbao`).
public protocol KeyProvider: Sendable {
    /// A signer for `reference` (`sign --key`).
    func signer(for reference: KeyReference) async throws -> any SignatureSigner
    /// A verifier for `reference` (`verify --key`).
    func verifier(for reference: KeyReference) async throws -> any SignatureVerifier
    /// Creates a new signing key at `reference` and returns its public key
    /// (`generate-key-pair --kms URI`). Providers that cannot create keys keep the default, which
    /// throws `.unsupportedOperation`.
    func createKey(for reference: KeyReference) async throws -> PublicKey
    /// Closes the provider's connections, if it holds any (a KMS client); local providers keep
    /// the default, which does nothing.
    func shutdown() async throws
}

extension KeyProvider {
    public func shutdown() async throws {}

    public func createKey(for reference: KeyReference) async throws -> PublicKey {
        throw SignetSigningError(.unsupportedOperation, "the '\(reference.scheme)' key provider cannot create keys")
    }
}

/// The key providers known to the program, keyed by URI scheme (lowercase).
///
/// Built by the executable (which owns configuration): `LocalKeyProvider` for `file` and `env`,
/// then the KMS providers. Unknown schemes are an error naming the known ones.
public struct KeyProviderRegistry: Sendable {
    private var providers: [String: any KeyProvider]

    /// An empty registry.
    public init() { providers = [:] }

    /// A registry with these providers (scheme -> provider).
    public init(providers: [String: any KeyProvider]) {
        self.providers = [:]
        for (scheme, provider) in providers { register(scheme: scheme, provider: provider) }
    }

    /// Adds or replaces the provider for `scheme` (case-insensitive).
    public mutating func register(scheme: String, provider: any KeyProvider) {
        providers[scheme.lowercased()] = provider
    }

    /// A copy with `provider` registered for `scheme`.
    public func registering(scheme: String, provider: any KeyProvider) -> KeyProviderRegistry {
        var copy = self
        copy.register(scheme: scheme, provider: provider)
        return copy
    }

    /// The registered schemes, sorted.
    public var schemes: [String] { providers.keys.sorted() }

    /// Closes every provider's connections (`serve` runs this on graceful shutdown); the first
    /// error is thrown after all were asked.
    public func shutdown() async throws {
        var first: (any Error)?
        for scheme in schemes {
            do { try await providers[scheme]?.shutdown() } catch { first = first ?? error }
        }
        if let first { throw first }
    }

    /// The provider for `reference`'s scheme.
    public func provider(for reference: KeyReference) throws -> any KeyProvider {
        guard let provider = providers[reference.scheme] else {
            let known = schemes.isEmpty ? "none" : schemes.joined(separator: ", ")
            throw SignetSigningError(.unknownKeyScheme, "unknown key scheme '\(reference.scheme)' in '\(reference)': known schemes are \(known) (a plain path is a file)")
        }
        return provider
    }

    /// A signer for `reference`.
    public func signer(for reference: KeyReference) async throws -> any SignatureSigner {
        try await provider(for: reference).signer(for: reference)
    }

    /// A verifier for `reference`.
    public func verifier(for reference: KeyReference) async throws -> any SignatureVerifier {
        try await provider(for: reference).verifier(for: reference)
    }

    /// Creates a key at `reference` (KMS providers only) and returns its public key.
    public func createKey(for reference: KeyReference) async throws -> PublicKey {
        try await provider(for: reference).createKey(for: reference)
    }

    /// `signer(for:)` of `KeyReference(parsing: key)`.
    public func signer(for key: String) async throws -> any SignatureSigner {
        try await signer(for: KeyReference(parsing: key))
    }

    /// `verifier(for:)` of `KeyReference(parsing: key)`.
    public func verifier(for key: String) async throws -> any SignatureVerifier {
        try await verifier(for: KeyReference(parsing: key))
    }
}
