import Foundation
import SignetSigning
import Synchronization

/// The key provider for `hashivault://KEY` and `openbao://KEY`: signers, verifiers and key
/// creation through the transit engine of one Vault/OpenBao.
///
/// The `VaultClient` is built on first use, so registering the provider costs nothing for
/// commands that never touch Vault, and a missing address or token is reported only then.
public final class HashiVaultKeyProvider: KeyProvider {
    /// Provider settings besides the connection.
    public struct Options: Sendable {
        /// Transit mount (`TRANSIT_SECRET_ENGINE_PATH`, default `transit`).
        public var mount: String
        /// How `verifier(for:)` checks signatures.
        public var verification: TransitVerifier.Mode
        /// How long key versions and public keys are cached by verifiers.
        public var cacheTTL: Duration
        /// Type of keys `createKey(for:)` makes.
        public var keyType: String

        public init(mount: String = "transit", verification: TransitVerifier.Mode = .local,
                    cacheTTL: Duration = .seconds(60), keyType: String = "ecdsa-p256") {
            self.mount = mount
            self.verification = verification
            self.cacheTTL = cacheTTL
            self.keyType = keyType
        }
    }

    /// The schemes this provider answers to.
    public static let schemes = ["hashivault", "openbao"]

    public let options: Options
    private let makeClient: @Sendable () throws -> VaultClient
    private let client = Mutex<VaultClient?>(nil)
    /// One verifier per transit key name, so its key cache (and `cacheTTL`, after which a rotation is
    /// seen) serves every verification of that key instead of one `GET keys/KEY` per verification.
    private let verifiers = Mutex<[String: TransitVerifier]>([:])
    /// Bound on `verifiers` (key names come from policies): past it the map starts over.
    static let maximumCachedVerifiers = 1024

    /// Uses `client` for every key.
    public init(client: VaultClient, options: Options = Options()) {
        self.options = options
        self.makeClient = { client }
        self.client.withLock { $0 = client }
    }

    /// Builds the client on first use with `makeClient` (which may throw a configuration error,
    /// e.g. no address or no token).
    public init(options: Options = Options(), makeClient: @escaping @Sendable () throws -> VaultClient) {
        self.options = options
        self.makeClient = makeClient
    }

    /// The Vault client (built on first call).
    public func vaultClient() throws -> VaultClient {
        try client.withLock { current in
            if let current { return current }
            let made = try makeClient()
            current = made
            return made
        }
    }

    /// Closes the client's connections, if one was built.
    public func shutdown() async throws {
        if let current = client.withLock({ $0 }) { try await current.shutdown() }
    }

    public func signer(for reference: KeyReference) async throws -> any SignatureSigner {
        try TransitSigner(client: vaultClient(), keyName: Self.keyName(reference), mount: options.mount)
    }

    /// The verifier of the key `reference` names: the same `TransitVerifier` for every call with that
    /// key (`hashivault://K` and `openbao://K` alike), so its key is read once per `options.cacheTTL`.
    public func verifier(for reference: KeyReference) async throws -> any SignatureVerifier {
        try transitVerifier(for: reference)
    }

    /// `verifier(for:)` with its concrete type.
    public func transitVerifier(for reference: KeyReference) throws -> TransitVerifier {
        let name = try Self.keyName(reference)
        let client = try vaultClient()
        return verifiers.withLock { map in
            if let existing = map[name] { return existing }
            if map.count >= Self.maximumCachedVerifiers { map.removeAll() }
            let made = TransitVerifier(client: client, keyName: name, mount: options.mount,
                                       mode: options.verification, cacheTTL: options.cacheTTL)
            map[name] = made
            return made
        }
    }

    /// Creates the transit key (`options.keyType`, ecdsa-p256 by default) when absent and returns
    /// the public key of its latest version (`generate-key-pair --kms`).
    public func createKey(for reference: KeyReference) async throws -> PublicKey {
        let name = try Self.keyName(reference)
        let (key, _) = try await vaultClient().createTransitKey(name, type: options.keyType, mount: options.mount)
        guard let publicKey = key.publicKeys[key.latestVersion] else {
            throw SignetKMSError(.invalidResponse, "transit key '\(name)' has no public key for version \(key.latestVersion)")
        }
        return publicKey
    }

    /// The key name of `hashivault://NAME` (cosign's rule: word characters, `-` and `.` inside).
    public static func keyName(_ reference: KeyReference) throws -> String {
        let name = reference.value
        let allowed: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
        let edge: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard schemes.contains(reference.scheme), let first = name.first, let last = name.last,
              edge(first), edge(last), name.allSatisfy(allowed) else {
            throw SignetKMSError(.invalidKeyReference, "'\(reference)' is not a valid \(reference.scheme):// key reference (want hashivault://KEY with KEY made of letters, digits, '_', '-' and '.')")
        }
        return name
    }
}
