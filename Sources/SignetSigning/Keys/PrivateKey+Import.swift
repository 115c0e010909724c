import Crypto
import _CryptoExtras
import Foundation
import SwiftASN1

extension PrivateKey {
    /// Parses an unencrypted PEM private key, as `cosign import-key-pair` accepts:
    /// `PRIVATE KEY` (PKCS#8: EC P-256/384/521, Ed25519, RSA), `EC PRIVATE KEY` (SEC1) or
    /// `RSA PRIVATE KEY` (PKCS#1). Encrypted cosign keys go through `CosignKeyFile`.
    public init(pemRepresentation pem: String) throws {
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: PrivateKey.firstPEMBlock(in: pem))
        } catch {
            throw SignetSigningError(.invalidKey, "private key is not valid PEM", underlying: error)
        }
        switch document.discriminator {
        case "PRIVATE KEY":
            try self.init(pkcs8DERRepresentation: Data(document.derBytes))
        case "EC PRIVATE KEY":
            try self.init(sec1DERRepresentation: Data(document.derBytes))
        case "RSA PRIVATE KEY":
            try self.init(backing: .rsa(PrivateKey.rsaKey(document.derBytes, format: "PKCS#1")))
        case "ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY":
            throw SignetSigningError(.invalidKey, "'\(document.discriminator)' is an encrypted cosign key: it needs its password")
        case "ENCRYPTED PRIVATE KEY":
            throw SignetSigningError(.unsupportedAlgorithm, "password-protected PKCS#8 keys are not supported: decrypt it first (openssl pkcs8)")
        default:
            throw SignetSigningError(.invalidKey, "PEM block '\(document.discriminator)' is not a private key (want PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)")
        }
    }

    /// Parses a PKCS#8 `PrivateKeyInfo` in DER, choosing the algorithm from its identifier.
    public init(pkcs8DERRepresentation der: Data) throws {
        let info: PKCS8Algorithm
        do {
            info = try PKCS8Algorithm(derEncoded: Array(der))
        } catch {
            throw SignetSigningError(.invalidKey, "private key could not be parsed (PKCS#8 DER)", underlying: error)
        }
        do {
            switch (info.algorithm, info.curve) {
            case (.AlgorithmIdentifier.idEcPublicKey, .NamedCurves.secp256r1?):
                self.init(backing: .p256(try P256.Signing.PrivateKey(derRepresentation: der)))
            case (.AlgorithmIdentifier.idEcPublicKey, .NamedCurves.secp384r1?):
                self.init(backing: .p384(try P384.Signing.PrivateKey(derRepresentation: der)))
            case (.AlgorithmIdentifier.idEcPublicKey, .NamedCurves.secp521r1?):
                self.init(backing: .p521(try P521.Signing.PrivateKey(derRepresentation: der)))
            case (.AlgorithmIdentifier.idEcPublicKey, let curve):
                throw SignetSigningError(.unsupportedAlgorithm, "EC curve \(curve.map { "\($0)" } ?? "(none)") is not supported (want P-256, P-384 or P-521)")
            case (PKCS8Algorithm.ed25519, _):
                self.init(backing: .ed25519(try Curve25519.Signing.PrivateKey(derRepresentation: der)))
            case (.AlgorithmIdentifier.rsaEncryption, _):
                self.init(backing: .rsa(try PrivateKey.rsaKey(Array(der), format: "PKCS#8")))
            default:
                throw SignetSigningError(.unsupportedAlgorithm, "private key algorithm \(info.algorithm) is not supported (want ECDSA, Ed25519 or RSA)")
            }
        } catch let error as SignetSigningError {
            throw error
        } catch {
            throw SignetSigningError(.invalidKey, "private key could not be parsed (PKCS#8 \(info.algorithm))", underlying: error)
        }
    }

    /// Parses a SEC1 `ECPrivateKey` (PEM `EC PRIVATE KEY`); the curve comes from its parameters,
    /// or from the private key's length when they are absent.
    public init(sec1DERRepresentation der: Data) throws {
        let curve: ASN1ObjectIdentifier?
        let scalarLength: Int
        do {
            (curve, scalarLength) = try PrivateKey.sec1Curve(Array(der))
        } catch {
            throw SignetSigningError(.invalidKey, "EC private key could not be parsed (SEC1 DER)", underlying: error)
        }
        do {
            switch (curve, scalarLength) {
            case (.NamedCurves.secp256r1?, _), (nil, 32):
                self.init(backing: .p256(try P256.Signing.PrivateKey(derRepresentation: der)))
            case (.NamedCurves.secp384r1?, _), (nil, 48):
                self.init(backing: .p384(try P384.Signing.PrivateKey(derRepresentation: der)))
            case (.NamedCurves.secp521r1?, _), (nil, 66):
                self.init(backing: .p521(try P521.Signing.PrivateKey(derRepresentation: der)))
            default:
                throw SignetSigningError(.unsupportedAlgorithm, "EC curve \(curve.map { "\($0)" } ?? "of a \(scalarLength)-byte key") is not supported (want P-256, P-384 or P-521)")
            }
        } catch let error as SignetSigningError {
            throw error
        } catch {
            throw SignetSigningError(.invalidKey, "EC private key could not be parsed (SEC1)", underlying: error)
        }
    }

    static func rsaKey(_ der: [UInt8], format: String) throws -> _RSA.Signing.PrivateKey {
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(unsafeDERRepresentation: der)
        } catch {
            throw SignetSigningError(.invalidKey, "RSA private key could not be parsed (\(format))", underlying: error)
        }
        guard key.keySizeInBits >= 2048 else {
            throw SignetSigningError(.unsupportedAlgorithm, "RSA key of \(key.keySizeInBits) bits is too small (at least 2048)")
        }
        return key
    }

    /// `ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0] parameters OPTIONAL, [1] publicKey OPTIONAL }`
    static func sec1Curve(_ der: [UInt8]) throws -> (ASN1ObjectIdentifier?, Int) {
        let root = try DER.parse(der)
        return try DER.sequence(root, identifier: .sequence) { nodes in
            let version = try Int(derEncoded: &nodes)
            guard version == 1 else { throw ASN1Error.invalidASN1Object(reason: "SEC1 version \(version)") }
            let scalar = try ASN1OctetString(derEncoded: &nodes)
            let curve = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try ASN1ObjectIdentifier(derEncoded: $0)
            }
            while nodes.next() != nil {}
            return (curve, scalar.bytes.count)
        }
    }

    /// The text from the first `-----BEGIN` line to its `-----END` line, so that comments or
    /// further blocks around a key do not stop parsing.
    static func firstPEMBlock(in text: String) -> String {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") }),
              let end = lines[begin...].firstIndex(where: { $0.hasPrefix("-----END ") }) else {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return lines[begin...end].map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
    }
}

/// The algorithm identifier of a PKCS#8 `PrivateKeyInfo`
/// (`SEQUENCE { version, SEQUENCE { algorithm OID, parameters ANY OPTIONAL }, privateKey OCTET STRING, ... }`).
struct PKCS8Algorithm {
    static let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]

    let algorithm: ASN1ObjectIdentifier
    /// The named curve for EC keys.
    let curve: ASN1ObjectIdentifier?

    init(derEncoded der: [UInt8]) throws {
        let root = try DER.parse(der)
        (algorithm, curve) = try DER.sequence(root, identifier: .sequence) { nodes in
            let version = try Int(derEncoded: &nodes)
            guard version == 0 || version == 1 else {
                throw ASN1Error.invalidASN1Object(reason: "PKCS#8 version \(version)")
            }
            let result = try DER.sequence(of: ASN1Any.self, identifier: .sequence, nodes: &nodes)
            guard let first = result.first else { throw ASN1Error.invalidASN1Object(reason: "empty algorithm identifier") }
            let algorithm = try ASN1ObjectIdentifier(asn1Any: first)
            let curve = result.count > 1 ? try? ASN1ObjectIdentifier(asn1Any: result[1]) : nil
            _ = try ASN1OctetString(derEncoded: &nodes)
            while nodes.next() != nil {}
            return (algorithm, curve)
        }
    }
}
