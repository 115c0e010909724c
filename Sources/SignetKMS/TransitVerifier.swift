import Foundation
import SignetSigning
import Synchronization

/// Verifies signatures made with a transit key.
///
/// Local mode (default) reads the key's public keys (`GET MOUNT/keys/KEY`, cached for `cacheTTL`)
/// and accepts a signature that verifies under any version from `min_decryption_version` to
/// `latest_version`: signatures made before a rotation keep verifying, those of versions retired
/// by raising `min_decryption_version` do not. Remote mode asks Vault
/// (`POST MOUNT/verify/KEY/HASH` with `vault:vN:`), trying the same versions newest first.
public final class TransitVerifier: SignatureVerifier {
    /// Where signatures are checked.
    public enum Mode: Sendable, Hashable {
        /// With the public keys, here (one key read per `cacheTTL`).
        case local
        /// By Vault's `transit/verify` (one call per version tried).
        case remote
    }

    public let client: VaultClient
    public let mount: String
    public let keyName: String
    public let mode: Mode
    /// How long the key's versions and public keys are reused before being read again.
    public let cacheTTL: Duration
    /// When nothing verifies and the cached key is at least this old, it is read again once (a
    /// rotation may have happened since).
    public let refreshOnMissAfter: Duration

    private struct Cached {
        let key: TransitKey
        let fetched: ContinuousClock.Instant
    }
    private let cache = Mutex<Cached?>(nil)
    private let reads = Atomic<Int>(0)
    private let clock = ContinuousClock()

    /// How many times this verifier has read the key (`GET MOUNT/keys/KEY`): observability and tests.
    public var keyReads: Int { reads.load(ordering: .relaxed) }

    public init(client: VaultClient, keyName: String, mount: String = "transit", mode: Mode = .local,
                cacheTTL: Duration = .seconds(300), refreshOnMissAfter: Duration = .seconds(10)) {
        self.client = client
        self.keyName = keyName
        self.mount = mount
        self.mode = mode
        self.cacheTTL = cacheTTL
        self.refreshOnMissAfter = refreshOnMissAfter
    }

    /// True when `signature` over `payload` verifies under a still-valid key version.
    public func verify(signature: Data, payload: Data) async throws -> Bool {
        try await verifyingVersion(signature: signature, payload: payload) != nil
    }

    /// The key version `signature` verifies under, or nil when none does.
    public func verifyingVersion(signature: Data, payload: Data) async throws -> Int? {
        let (cached, age) = try await key()
        if let version = try await check(signature, payload, cached) { return version }
        guard age >= refreshOnMissAfter else { return nil }
        let fresh = try await key(refresh: true).key
        return try await check(signature, payload, fresh)
    }

    /// The key description (cached), with its age.
    public func key(refresh: Bool = false) async throws -> (key: TransitKey, age: Duration) {
        let now = clock.now
        if !refresh, let cached = cache.withLock({ $0 }), now - cached.fetched < cacheTTL {
            return (cached.key, now - cached.fetched)
        }
        reads.add(1, ordering: .relaxed)
        let key = try await client.transitKey(keyName, mount: mount)
        cache.withLock { $0 = Cached(key: key, fetched: clock.now) }
        return (key, .zero)
    }

    /// The public keys of the versions that still verify, newest first.
    public func publicKeys() async throws -> [(version: Int, key: PublicKey)] {
        let key = try await key().key
        return key.verificationVersions.compactMap { version in key.publicKeys[version].map { (version, $0) } }
    }

    private func check(_ signature: Data, _ payload: Data, _ key: TransitKey) async throws -> Int? {
        switch mode {
        case .local:
            for version in key.verificationVersions {
                if let publicKey = key.publicKeys[version], publicKey.isValidSignature(signature, for: payload) {
                    return version
                }
            }
            return nil
        case .remote:
            for version in key.verificationVersions {
                let candidate = TransitSignature(keyVersion: version, bytes: signature)
                if try await client.transitVerify(candidate, payload: payload, key: keyName, keyType: key.type, mount: mount) {
                    return version
                }
            }
            return nil
        }
    }
}
