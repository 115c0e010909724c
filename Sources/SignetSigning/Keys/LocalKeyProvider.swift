import Foundation

/// Keys held locally: a file (`cosign.key`, `cosign.pub`, a certificate, an unencrypted PEM
/// private key) or `env://VAR` whose value is the PEM, as cosign reads `--key`.
///
/// The library reads nothing on its own: the executable passes the environment it allows and the
/// password source (COSIGN_PASSWORD, else a terminal prompt); the password is asked only when an
/// encrypted key is actually opened.
public struct LocalKeyProvider: KeyProvider {
    /// Why a password is wanted.
    public struct PasswordRequest: Sendable, CustomStringConvertible {
        /// The key being decrypted.
        public let reference: KeyReference
        public var description: String { "password for \(reference)" }
    }

    /// Returns the password for an encrypted key (bytes, possibly empty).
    public typealias PasswordSource = @Sendable (PasswordRequest) async throws -> Data
    /// Reads a file's bytes.
    public typealias FileReader = @Sendable (String) throws -> Data

    /// Key files larger than this are refused (a key is a few kilobytes).
    public static let maximumKeySize = 1 << 20

    private let environment: [String: String]
    private let password: PasswordSource
    private let readFile: FileReader

    /// - Parameters:
    ///   - environment: what `env://VAR` may name (the executable passes its environment).
    ///   - password: called for encrypted keys.
    ///   - readFile: reads a key file; the default reads at most `maximumKeySize` bytes.
    public init(environment: [String: String] = [:],
                password: @escaping PasswordSource,
                readFile: @escaping FileReader = LocalKeyProvider.readKeyFile) {
        self.environment = environment
        self.password = password
        self.readFile = readFile
    }

    /// The PEM text `reference` names.
    public func keyMaterial(for reference: KeyReference) throws -> String {
        let bytes: Data
        switch reference.scheme {
        case KeyReference.fileScheme:
            bytes = try readFile(reference.value)
        case KeyReference.environmentScheme:
            guard let value = environment[reference.value] else {
                throw SignetSigningError(.invalidKeyReference, "environment variable '\(reference.value)' named by '\(reference)' is not set")
            }
            bytes = Data(value.utf8)
        default:
            throw SignetSigningError(.unknownKeyScheme, "the local key provider does not handle '\(reference.scheme)://' keys")
        }
        guard let text = String(data: bytes, encoding: .utf8), text.contains("-----BEGIN ") else {
            throw SignetSigningError(.invalidKey, "'\(reference)' does not contain a PEM key")
        }
        return text
    }

    /// A private key: an encrypted cosign key (decrypted with the password) or an unencrypted
    /// PEM private key.
    public func privateKey(for reference: KeyReference) async throws -> PrivateKey {
        let pem = try keyMaterial(for: reference)
        if CosignKeyFile.isEncryptedKey(pem) {
            let file = try CosignKeyFile(pemRepresentation: pem)
            let secret = try await password(PasswordRequest(reference: reference))
            return try file.decrypt(password: secret)
        }
        return try PrivateKey(pemRepresentation: pem)
    }

    public func signer(for reference: KeyReference) async throws -> any SignatureSigner {
        try await privateKey(for: reference)
    }

    /// A public key (`PUBLIC KEY`, `RSA PUBLIC KEY`, `CERTIFICATE`), or the public half of a
    /// private key file, as cosign accepts for `verify --key`.
    public func verifier(for reference: KeyReference) async throws -> any SignatureVerifier {
        try await publicKey(for: reference)
    }

    /// The public key `reference` names (see `verifier(for:)`).
    public func publicKey(for reference: KeyReference) async throws -> PublicKey {
        let pem = try keyMaterial(for: reference)
        let block = PrivateKey.firstPEMBlock(in: pem)
        if block.contains("PRIVATE KEY-----") {
            return try await privateKey(for: reference).verifyingKey
        }
        return try PublicKey(pemRepresentation: block)
    }

    /// Reads at most `maximumKeySize` bytes of `path`; errors name the path.
    public static func readKeyFile(_ path: String) throws -> Data {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw SignetSigningError(.io, "cannot read key file '\(path)'", underlying: error)
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumKeySize + 1) ?? Data()
        } catch {
            throw SignetSigningError(.io, "cannot read key file '\(path)'", underlying: error)
        }
        guard data.count <= maximumKeySize else {
            throw SignetSigningError(.limitExceeded, "key file '\(path)' is larger than \(maximumKeySize) bytes")
        }
        return data
    }
}

extension KeyProviderRegistry {
    /// A registry with `LocalKeyProvider` for `file` and `env://` keys.
    public static func local(environment: [String: String] = [:],
                             password: @escaping LocalKeyProvider.PasswordSource) -> KeyProviderRegistry {
        let local = LocalKeyProvider(environment: environment, password: password)
        var registry = KeyProviderRegistry()
        registry.register(scheme: KeyReference.fileScheme, provider: local)
        registry.register(scheme: KeyReference.environmentScheme, provider: local)
        return registry
    }
}
