import Crypto
import Foundation
import SignetSigning

/// A transit key as `GET MOUNT/keys/NAME` describes it: type, versions and public keys.
public struct TransitKey: Sendable {
    public let name: String
    /// `ecdsa-p256`, `ecdsa-p384`, `ecdsa-p521`, `ed25519`, `rsa-2048`..., `aes256-gcm96`...
    public let type: String
    public let latestVersion: Int
    public let minDecryptionVersion: Int
    public let supportsSigning: Bool
    /// The public key of each version Vault still lists (those below `min_decryption_version` are
    /// not listed by OpenBao/Vault, and not kept here either).
    public let publicKeys: [Int: PublicKey]

    /// The versions whose signatures still verify, newest first.
    public var verificationVersions: [Int] {
        guard latestVersion >= max(minDecryptionVersion, 1) else { return [] }
        return Array((max(minDecryptionVersion, 1)...latestVersion).reversed())
    }

    /// How this key type signs: the hash path segment and whether the input is prehashed.
    var signing: TransitSigningScheme {
        TransitSigningScheme(keyType: type)
    }

    init(name: String, response: KeyData) throws {
        self.name = name
        self.type = response.type
        self.latestVersion = response.latest_version
        self.minDecryptionVersion = response.min_decryption_version ?? 1
        self.supportsSigning = response.supports_signing ?? false
        var keys: [Int: PublicKey] = [:]
        for (version, entry) in response.keys ?? [:] {
            guard let number = Int(version), case .asymmetric(let publicKey) = entry, let publicKey, !publicKey.isEmpty else { continue }
            do {
                keys[number] = try Self.parsePublicKey(publicKey, type: response.type)
            } catch {
                throw SignetKMSError(.invalidResponse, "public key of version \(number) of transit key \(name) could not be read", underlying: error)
            }
        }
        self.publicKeys = keys
    }

    /// PEM for ECDSA and RSA keys; raw base64 for Ed25519 (as transit returns it).
    static func parsePublicKey(_ text: String, type: String) throws -> PublicKey {
        if text.contains("-----BEGIN") { return try PublicKey(pemRepresentation: text) }
        guard let raw = Data(base64Encoded: text) else {
            throw SignetKMSError(.invalidResponse, "public key is neither pem nor base64")
        }
        return PublicKey(try Curve25519.Signing.PublicKey(rawRepresentation: raw))
    }

    /// `data` of `GET MOUNT/keys/NAME`.
    struct KeyData: Decodable {
        let type: String
        let latest_version: Int
        let min_decryption_version: Int?
        let supports_signing: Bool?
        let keys: [String: KeyEntry]?
    }

    /// Asymmetric keys list `{"public_key": ...}` per version; symmetric ones a creation time.
    enum KeyEntry: Decodable {
        case asymmetric(String?)
        case symmetric

        struct Object: Decodable { let public_key: String? }

        init(from decoder: any Decoder) throws {
            if let object = try? Object(from: decoder) {
                self = .asymmetric(object.public_key)
            } else {
                self = .symmetric
            }
        }
    }
}

/// The hash Vault applies (or that the caller applies, prehashed) for a key type, matching how
/// SignetSigning's `PublicKey` verifies: SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512
/// for P-521, none for Ed25519.
struct TransitSigningScheme: Sendable {
    /// Path suffix (`sha2-256`) or nil for Ed25519 (no hash, payload sent as is).
    let hashPath: String?

    init(keyType: String) {
        switch keyType {
        case "ecdsa-p384": hashPath = "sha2-384"
        case "ecdsa-p521": hashPath = "sha2-512"
        case "ed25519": hashPath = nil
        default: hashPath = "sha2-256"
        }
    }

    /// The `input` field: base64 of the digest (prehashed) or of the payload itself.
    func input(for payload: Data) -> String {
        switch hashPath {
        case "sha2-384": Data(SHA384.hash(data: payload)).base64EncodedString()
        case "sha2-512": Data(SHA512.hash(data: payload)).base64EncodedString()
        case nil: payload.base64EncodedString()
        default: Data(SHA256.hash(data: payload)).base64EncodedString()
        }
    }

    var prehashed: Bool { hashPath != nil }
}
