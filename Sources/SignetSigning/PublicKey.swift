import Crypto
import _CryptoExtras
import Foundation
import SwiftASN1
import X509

/// A public key that verifies cosign signatures: ECDSA P-256/P-384/P-521, Ed25519 or RSA.
///
/// ECDSA signatures are ASN.1 DER over SHA-256/384/512 of the payload (by curve, as sigstore's
/// `LoadVerifier` chooses), Ed25519 is over the payload itself, RSA is PKCS#1 v1.5 with SHA-256.
public struct PublicKey: Sendable, Hashable, CustomStringConvertible {
    /// The algorithms a `PublicKey` can hold.
    public struct Algorithm: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public static let ecdsaP256 = Algorithm(name: "ecdsa-p256")
        public static let ecdsaP384 = Algorithm(name: "ecdsa-p384")
        public static let ecdsaP521 = Algorithm(name: "ecdsa-p521")
        public static let ed25519 = Algorithm(name: "ed25519")
        public static let rsa = Algorithm(name: "rsa")
        public var description: String { name }
    }

    enum Backing: Sendable {
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
        case p521(P521.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
    }

    let backing: Backing
    /// The PKIX (SubjectPublicKeyInfo) DER encoding.
    public let derRepresentation: Data

    public var algorithm: Algorithm {
        switch backing {
        case .p256: .ecdsaP256
        case .p384: .ecdsaP384
        case .p521: .ecdsaP521
        case .ed25519: .ed25519
        case .rsa: .rsa
        }
    }

    /// Parses a PEM `PUBLIC KEY` (PKIX), or the first public key found in PEM `CERTIFICATE` or
    /// `RSA PUBLIC KEY` (PKCS#1) blocks.
    public init(pemRepresentation pem: String) throws {
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: pem.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw SignetSigningError(.invalidKey, "public key is not valid PEM", underlying: error)
        }
        switch document.discriminator {
        case "PUBLIC KEY":
            try self.init(derRepresentation: Data(document.derBytes))
        case "RSA PUBLIC KEY":
            do {
                let key = try _RSA.Signing.PublicKey(derRepresentation: document.derBytes)
                self.init(backing: .rsa(key), der: Data(key.derRepresentation))
            } catch {
                throw SignetSigningError(.invalidKey, "RSA public key could not be parsed", underlying: error)
            }
        case "CERTIFICATE":
            do {
                let certificate = try Certificate(derEncoded: document.derBytes)
                var serializer = DER.Serializer()
                try serializer.serialize(certificate.publicKey)
                try self.init(derRepresentation: Data(serializer.serializedBytes))
            } catch let error as SignetSigningError {
                throw error
            } catch {
                throw SignetSigningError(.invalidKey, "certificate could not be parsed", underlying: error)
            }
        default:
            throw SignetSigningError(.invalidKey, "PEM block '\(document.discriminator)' is not a public key")
        }
    }

    /// Parses a PKIX SubjectPublicKeyInfo in DER.
    public init(derRepresentation der: Data) throws {
        let key: Certificate.PublicKey
        do {
            key = try Certificate.PublicKey(derEncoded: Array(der))
        } catch {
            throw SignetSigningError(.invalidKey, "public key could not be parsed (PKIX DER)", underlying: error)
        }
        if let k = P256.Signing.PublicKey(key) {
            self.init(backing: .p256(k), der: der)
        } else if let k = P384.Signing.PublicKey(key) {
            self.init(backing: .p384(k), der: der)
        } else if let k = P521.Signing.PublicKey(key) {
            self.init(backing: .p521(k), der: der)
        } else if let k = Curve25519.Signing.PublicKey(key) {
            self.init(backing: .ed25519(k), der: der)
        } else if let k = _RSA.Signing.PublicKey(key) {
            self.init(backing: .rsa(k), der: der)
        } else {
            throw SignetSigningError(.unsupportedAlgorithm, "public key algorithm is not supported (want ECDSA P-256/384/521, Ed25519 or RSA)")
        }
    }

    public init(_ key: P256.Signing.PublicKey) {
        self.init(backing: .p256(key), der: Data(key.derRepresentation))
    }

    public init(_ key: Curve25519.Signing.PublicKey) {
        self.init(backing: .ed25519(key), der: Data(Certificate.PublicKey(key).subjectPublicKeyInfoBytes))
    }

    init(backing: Backing, der: Data) {
        self.backing = backing
        self.derRepresentation = der
    }

    /// PEM `PUBLIC KEY` with a trailing newline, as `cosign.pub` is written.
    public var pemRepresentation: String {
        PEMDocument(type: "PUBLIC KEY", derBytes: Array(derRepresentation)).pemString + "\n"
    }

    /// Checks `signature` over `payload`; a malformed signature is simply not valid.
    public func isValidSignature(_ signature: Data, for payload: Data) -> Bool {
        switch backing {
        case .p256(let key):
            guard let sig = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: SHA256.hash(data: payload))
        case .p384(let key):
            guard let sig = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: SHA384.hash(data: payload))
        case .p521(let key):
            guard let sig = try? P521.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: SHA512.hash(data: payload))
        case .ed25519(let key):
            return key.isValidSignature(signature, for: payload)
        case .rsa(let key):
            let sig = _RSA.Signing.RSASignature(rawRepresentation: signature)
            return key.isValidSignature(sig, for: SHA256.hash(data: payload), padding: .insecurePKCS1v1_5)
        }
    }

    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool { lhs.derRepresentation == rhs.derRepresentation }
    public func hash(into hasher: inout Hasher) { hasher.combine(derRepresentation) }
    public var description: String { "PublicKey(\(algorithm))" }
}

extension Certificate.PublicKey {
    /// The SubjectPublicKeyInfo DER of this key.
    var subjectPublicKeyInfoBytes: [UInt8] {
        var serializer = DER.Serializer()
        try! serializer.serialize(self)  // serializing an in-memory key cannot fail
        return serializer.serializedBytes
    }
}
