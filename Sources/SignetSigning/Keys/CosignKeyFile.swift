import Crypto
import _CryptoExtras
import Foundation
import SwiftASN1

/// An encrypted cosign private key file (`cosign.key`), as go-securesystemslib's `encrypted`
/// package writes it for cosign (FORMATS.md section 2).
///
/// PEM `ENCRYPTED SIGSTORE PRIVATE KEY` (cosign before 2.0.1: `ENCRYPTED COSIGN PRIVATE KEY`) whose
/// body is the JSON
/// `{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"B64"},"cipher":{"name":"nacl/secretbox","nonce":"B64"},"ciphertext":"B64"}`;
/// the secretbox key is scrypt(password, salt, N, r, p, 32) and the plaintext is the PKCS#8 DER
/// private key.
public struct CosignKeyFile: Sendable, Hashable {
    /// scrypt cost parameters.
    public struct ScryptParameters: Sendable, Hashable, CustomStringConvertible {
        public let n: Int
        public let r: Int
        public let p: Int

        public init(n: Int, r: Int, p: Int) {
            self.n = n
            self.r = r
            self.p = p
        }

        /// What cosign writes (go-securesystemslib's default): N = 32768, r = 8, p = 1.
        public static let cosign = ScryptParameters(n: 32768, r: 8, p: 1)
        /// The N values readers accept (securesystemslib's interactive/legacy/sensitive costs);
        /// anything else is refused so that a hostile file cannot ask for gigabytes of memory.
        public static let acceptedN: Set<Int> = [32768, 65536, 131072]

        public var description: String { "N=\(n), r=\(r), p=\(p)" }

        func validate() throws {
            guard Self.acceptedN.contains(n), r == 8, p == 1 else {
                throw SignetSigningError(.invalidKey, "unsupported scrypt parameters \(self) (want N in 32768, 65536 or 131072, r=8, p=1)")
            }
        }
    }

    /// The PEM label cosign writes since 2.0.1.
    public static let pemType = "ENCRYPTED SIGSTORE PRIVATE KEY"
    /// The PEM label of older cosign keys, still read.
    public static let legacyPEMType = "ENCRYPTED COSIGN PRIVATE KEY"
    /// Salt length written (securesystemslib: 32 bytes).
    public static let saltSize = 32

    /// The PEM label this file had (written files use `pemType`).
    public let label: String
    public let scrypt: ScryptParameters
    public let salt: Data
    public let nonce: Data
    /// `tag || ciphertext` of the secretbox.
    public let ciphertext: Data

    /// Parses the PEM; does not decrypt.
    public init(pemRepresentation pem: String) throws {
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: PrivateKey.firstPEMBlock(in: pem))
        } catch {
            throw SignetSigningError(.invalidKey, "encrypted key is not valid PEM", underlying: error)
        }
        guard document.discriminator == Self.pemType || document.discriminator == Self.legacyPEMType else {
            throw SignetSigningError(.invalidKey, "PEM block '\(document.discriminator)' is not an encrypted cosign key (want \(Self.pemType))")
        }
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(document.derBytes))
        } catch {
            throw SignetSigningError(.invalidKey, "encrypted key body is not the expected JSON envelope", underlying: error)
        }
        guard envelope.kdf.name == "scrypt" else {
            throw SignetSigningError(.unsupportedAlgorithm, "key derivation '\(envelope.kdf.name)' is not supported (want scrypt)")
        }
        guard envelope.cipher.name == "nacl/secretbox" else {
            throw SignetSigningError(.unsupportedAlgorithm, "cipher '\(envelope.cipher.name)' is not supported (want nacl/secretbox)")
        }
        guard let salt = Data(base64Encoded: envelope.kdf.salt), !salt.isEmpty else {
            throw SignetSigningError(.invalidKey, "encrypted key salt is not base64")
        }
        guard let nonce = Data(base64Encoded: envelope.cipher.nonce), nonce.count == SecretBox.nonceSize else {
            throw SignetSigningError(.invalidKey, "encrypted key nonce is not \(SecretBox.nonceSize) bytes of base64")
        }
        guard let ciphertext = Data(base64Encoded: envelope.ciphertext), ciphertext.count > SecretBox.overhead else {
            throw SignetSigningError(.invalidKey, "encrypted key ciphertext is not base64 or too short")
        }
        let parameters = ScryptParameters(n: envelope.kdf.params.N, r: envelope.kdf.params.r, p: envelope.kdf.params.p)
        try parameters.validate()
        self.init(label: document.discriminator, scrypt: parameters, salt: salt, nonce: nonce, ciphertext: ciphertext)
    }

    init(label: String, scrypt: ScryptParameters, salt: Data, nonce: Data, ciphertext: Data) {
        self.label = label
        self.scrypt = scrypt
        self.salt = salt
        self.nonce = nonce
        self.ciphertext = ciphertext
    }

    /// Encrypts `key` (as PKCS#8 DER) under `password` with a fresh random salt and nonce.
    public init(encrypting key: PrivateKey, password: some DataProtocol, scrypt: ScryptParameters = .cosign) throws {
        try self.init(encryptingPKCS8: key.pkcs8DERRepresentation, password: password, scrypt: scrypt)
    }

    /// Encrypts PKCS#8 DER bytes under `password`.
    public init(encryptingPKCS8 plaintext: Data, password: some DataProtocol, scrypt: ScryptParameters = .cosign) throws {
        try scrypt.validate()
        let salt = Self.randomBytes(Self.saltSize)
        let nonce = Self.randomBytes(SecretBox.nonceSize)
        let key = try Self.deriveKey(password: password, salt: salt, scrypt: scrypt)
        let box = try SecretBox.seal(plaintext, key: key, nonce: nonce)
        self.init(label: Self.pemType, scrypt: scrypt, salt: salt, nonce: nonce, ciphertext: box)
    }

    /// The JSON body, byte for byte as Go's encoding/json writes securesystemslib's struct.
    public var jsonRepresentation: Data {
        let json = #"{"kdf":{"name":"scrypt","params":{"N":\#(scrypt.n),"r":\#(scrypt.r),"p":\#(scrypt.p)},"salt":"\#(salt.base64EncodedString())"},"cipher":{"name":"nacl/secretbox","nonce":"\#(nonce.base64EncodedString())"},"ciphertext":"\#(ciphertext.base64EncodedString())"}"#
        return Data(json.utf8)
    }

    /// The PEM file contents, ending with a newline.
    public var pemRepresentation: String {
        PEMDocument(type: label, derBytes: Array(jsonRepresentation)).pemString + "\n"
    }

    /// Decrypts the PKCS#8 DER; a wrong password is `.wrongPassword`.
    public func decryptPKCS8(password: some DataProtocol) throws -> Data {
        let key = try Self.deriveKey(password: password, salt: salt, scrypt: scrypt)
        do {
            return try SecretBox.open(ciphertext, key: key, nonce: nonce)
        } catch let error as SignetSigningError where error.code == .authenticationFailed {
            throw SignetSigningError(.wrongPassword, "incorrect password: the encrypted key could not be decrypted")
        }
    }

    /// Decrypts and parses the private key.
    public func decrypt(password: some DataProtocol) throws -> PrivateKey {
        let der = try decryptPKCS8(password: password)
        do {
            return try PrivateKey(pkcs8DERRepresentation: der)
        } catch let error as SignetSigningError {
            throw SignetSigningError(error.code, "decrypted key is not a usable PKCS#8 private key: \(error.message)", underlying: error.underlying)
        }
    }

    /// Whether `pem` looks like an encrypted cosign key (either label), without parsing it.
    public static func isEncryptedKey(_ pem: String) -> Bool {
        pem.contains("-----BEGIN \(pemType)-----") || pem.contains("-----BEGIN \(legacyPEMType)-----")
    }

    static func deriveKey(password: some DataProtocol, salt: Data, scrypt: ScryptParameters) throws -> [UInt8] {
        do {
            let key = try KDF.Scrypt.deriveKey(from: Array(password), salt: salt, outputByteCount: SecretBox.keySize,
                                               rounds: scrypt.n, blockSize: scrypt.r, parallelism: scrypt.p)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw SignetSigningError(.invalidKey, "scrypt key derivation failed (\(scrypt))", underlying: error)
        }
    }

    static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    private struct Envelope: Decodable {
        struct KDF: Decodable {
            struct Params: Decodable {
                let N: Int
                let r: Int
                let p: Int
            }
            let name: String
            let params: Params
            let salt: String
        }
        struct Cipher: Decodable {
            let name: String
            let nonce: String
        }
        let kdf: KDF
        let cipher: Cipher
        let ciphertext: String
    }
}
