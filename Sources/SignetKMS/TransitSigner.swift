import Foundation
import SignetSigning
import Synchronization

/// Signs through Vault/OpenBao transit: the private key never leaves Vault.
///
/// Each `sign(_:)` is one `POST MOUNT/sign/KEY/HASH` with the payload hashed here
/// (`prehashed: true`); the answer `vault:vN:B64` is parsed, the DER bytes returned and the
/// version `N` remembered (`lastKeyVersion`). The key's type is read once (`GET MOUNT/keys/KEY`),
/// which also reports a missing key or one that cannot sign before anything is signed.
public final class TransitSigner: SignatureSigner {
    public let client: VaultClient
    public let mount: String
    public let keyName: String
    /// The version to sign with; nil = the latest (`key_version: 0`).
    public let keyVersion: Int?

    private struct State {
        var key: TransitKey?
        var lastKeyVersion: Int?
    }
    private let state = Mutex(State())

    public init(client: VaultClient, keyName: String, mount: String = "transit", keyVersion: Int? = nil) {
        self.client = client
        self.keyName = keyName
        self.mount = mount
        self.keyVersion = keyVersion
    }

    /// The key version of the last signature made (from its `vault:vN:` prefix).
    public var lastKeyVersion: Int? { state.withLock { $0.lastKeyVersion } }

    /// The key's description, read once (`refresh` reads it again).
    public func key(refresh: Bool = false) async throws -> TransitKey {
        if !refresh, let cached = state.withLock({ $0.key }) { return cached }
        let key = try await client.transitKey(keyName, mount: mount)
        guard key.supportsSigning else {
            throw SignetKMSError(.keyCannotSign, "transit key '\(keyName)' has type \(key.type), which cannot sign (create an ecdsa-p256 key)")
        }
        state.withLock { $0.key = key }
        return key
    }

    /// The public key of the version this signer uses (the latest unless `keyVersion` is set).
    public func publicKey() async throws -> PublicKey {
        let key = try await key(refresh: true)
        let version = keyVersion ?? key.latestVersion
        guard let publicKey = key.publicKeys[version] else {
            throw SignetKMSError(.keyNotFound, "transit key '\(keyName)' has no public key for version \(version)")
        }
        return publicKey
    }

    /// Signs `payload`; returns the signature bytes (ASN.1 DER for ECDSA) as cosign stores them.
    public func sign(_ payload: Data) async throws -> Data {
        try await signWithVersion(payload).bytes
    }

    /// Signs `payload` and returns the signature with the key version that made it.
    public func signWithVersion(_ payload: Data) async throws -> TransitSignature {
        let key = try await key()
        let signature = try await client.transitSign(payload, key: keyName, keyType: key.type, keyVersion: keyVersion, mount: mount)
        state.withLock { $0.lastKeyVersion = signature.keyVersion }
        return signature
    }
}
