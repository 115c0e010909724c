import Crypto
import _CryptoExtras
import Foundation
import SwiftASN1

/// A private key held in memory that signs cosign payloads: ECDSA P-256 (what
/// `generate-key-pair` makes), P-384, P-521, Ed25519 or RSA (from `import-key-pair`).
///
/// Signatures are the bytes cosign stores before base64: ECDSA ASN.1 DER over SHA-256/384/512 of
/// the payload (by curve, as sigstore's `LoadSignerVerifier` chooses), Ed25519 over the payload
/// itself, RSA PKCS#1 v1.5 over SHA-256.
public struct PrivateKey: SignatureSigner, Sendable, CustomStringConvertible {
    enum Backing: Sendable {
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case p521(P521.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
    }

    let backing: Backing
    /// The public half.
    public let verifyingKey: PublicKey

    init(backing: Backing) {
        self.backing = backing
        switch backing {
        case .p256(let k):
            verifyingKey = PublicKey(backing: .p256(k.publicKey), der: k.publicKey.derRepresentation)
        case .p384(let k):
            verifyingKey = PublicKey(backing: .p384(k.publicKey), der: k.publicKey.derRepresentation)
        case .p521(let k):
            verifyingKey = PublicKey(backing: .p521(k.publicKey), der: k.publicKey.derRepresentation)
        case .ed25519(let k):
            verifyingKey = PublicKey(k.publicKey)
        case .rsa(let k):
            verifyingKey = PublicKey(backing: .rsa(k.publicKey), der: k.publicKey.derRepresentation)
        }
    }

    /// The key's algorithm.
    public var algorithm: PublicKey.Algorithm { verifyingKey.algorithm }

    /// Makes a new random key. RSA keys are 3072 bits.
    public static func generate(_ algorithm: PublicKey.Algorithm = .ecdsaP256) throws -> PrivateKey {
        switch algorithm {
        case .ecdsaP256: return PrivateKey(backing: .p256(P256.Signing.PrivateKey()))
        case .ecdsaP384: return PrivateKey(backing: .p384(P384.Signing.PrivateKey()))
        case .ecdsaP521: return PrivateKey(backing: .p521(P521.Signing.PrivateKey()))
        case .ed25519: return PrivateKey(backing: .ed25519(Curve25519.Signing.PrivateKey()))
        case .rsa:
            do {
                return PrivateKey(backing: .rsa(try _RSA.Signing.PrivateKey(keySize: .bits3072)))
            } catch {
                throw SignetSigningError(.invalidKey, "could not generate an RSA key", underlying: error)
            }
        default:
            throw SignetSigningError(.unsupportedAlgorithm, "cannot generate a '\(algorithm)' key")
        }
    }

    /// Wraps a P-256 key.
    public init(_ key: P256.Signing.PrivateKey) { self.init(backing: .p256(key)) }

    /// Wraps an Ed25519 key.
    public init(_ key: Curve25519.Signing.PrivateKey) { self.init(backing: .ed25519(key)) }

    /// The PKCS#8 DER encoding (what cosign encrypts into its key files).
    public var pkcs8DERRepresentation: Data {
        switch backing {
        case .p256(let k): k.derRepresentation
        case .p384(let k): k.derRepresentation
        case .p521(let k): k.derRepresentation
        case .ed25519(let k): k.derRepresentation
        case .rsa(let k): k.pkcs8DERRepresentation
        }
    }

    /// Unencrypted PEM `PRIVATE KEY` (PKCS#8). Handle with care.
    public var pkcs8PEMRepresentation: String {
        PEMDocument(type: "PRIVATE KEY", derBytes: Array(pkcs8DERRepresentation)).pemString + "\n"
    }

    /// Signs `payload` synchronously (see `sign(_:)`).
    public func signature(for payload: Data) throws -> Data {
        do {
            switch backing {
            case .p256(let k): return try k.signature(for: SHA256.hash(data: payload)).derRepresentation
            case .p384(let k): return try k.signature(for: SHA384.hash(data: payload)).derRepresentation
            case .p521(let k): return try k.signature(for: SHA512.hash(data: payload)).derRepresentation
            case .ed25519(let k): return try k.signature(for: payload)
            case .rsa(let k):
                return try k.signature(for: SHA256.hash(data: payload), padding: .insecurePKCS1v1_5).rawRepresentation
            }
        } catch {
            throw SignetSigningError(.invalidKey, "signing with the \(algorithm) key failed", underlying: error)
        }
    }

    public func publicKey() async throws -> PublicKey { verifyingKey }

    public func sign(_ payload: Data) async throws -> Data { try signature(for: payload) }

    /// Never prints key material.
    public var description: String { "PrivateKey(\(algorithm))" }
}

extension PrivateKey: SignatureVerifier {
    /// Verifies with the public half (cosign accepts a private key file for `verify --key`).
    public func verify(signature: Data, payload: Data) async throws -> Bool {
        verifyingKey.isValidSignature(signature, for: payload)
    }
}
