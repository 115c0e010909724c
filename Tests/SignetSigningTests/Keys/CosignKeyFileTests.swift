import Foundation
import Testing
@testable import SignetSigning

@Suite("CosignKeyFile")
struct CosignKeyFileTests {
    static func cosignTestKey() throws -> String {
        try String(contentsOf: KeyTestSupport.cosignVectors.appendingPathComponent("cosign-test-sigstore.key"), encoding: .utf8)
    }

    static func cosignTestPublicKey() throws -> String {
        try String(contentsOf: KeyTestSupport.cosignVectors.appendingPathComponent("cosign-test-sigstore.pub"), encoding: .utf8)
    }

    /// The key from cosign's own tests (pkg/cosign/keys_test.go), password `hello`, under both
    /// PEM labels; its public half must be cosign-test-sigstore.pub.
    @Test(arguments: [CosignKeyFile.pemType, CosignKeyFile.legacyPEMType])
    func decryptsCosignTestKey(label: String) throws {
        let pem = try Self.cosignTestKey().replacingOccurrences(of: CosignKeyFile.pemType, with: label)
        let file = try CosignKeyFile(pemRepresentation: pem)
        #expect(file.label == label)
        #expect(file.scrypt == .cosign)
        #expect(file.salt.count == 32)
        #expect(file.nonce.count == 24)
        let key = try file.decrypt(password: Data("hello".utf8))
        #expect(key.algorithm == .ecdsaP256)
        #expect(key.verifyingKey == (try PublicKey(pemRepresentation: Self.cosignTestPublicKey())))
        #expect(key.verifyingKey.pemRepresentation == (try Self.cosignTestPublicKey()))
        // Re-serializing the parsed file gives cosign's bytes back (same JSON field order).
        #expect(file.pemRepresentation == (try Self.cosignTestKey()).replacingOccurrences(of: CosignKeyFile.pemType, with: label))
    }

    @Test(arguments: ["", "hellO"])
    func wrongPasswordSaysSo(password: String) throws {
        let file = try CosignKeyFile(pemRepresentation: Self.cosignTestKey())
        let error = #expect(throws: SignetSigningError.self) { try file.decrypt(password: Data(password.utf8)) }
        #expect(error?.code == .wrongPassword)
        #expect(error?.message.hasPrefix("incorrect password") == true)
    }

    /// generate -> encrypt -> PEM -> parse -> decrypt -> sign -> verify, for every key type.
    @Test(arguments: [PublicKey.Algorithm.ecdsaP256, .ecdsaP384, .ecdsaP521, .ed25519, .rsa])
    func roundTrip(algorithm: PublicKey.Algorithm) async throws {
        let key = try PrivateKey.generate(algorithm)
        let password = Data("correct horse battery staple".utf8)
        let pem = try CosignKeyFile(encrypting: key, password: password).pemRepresentation
        #expect(pem.hasPrefix("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"))
        #expect(pem.hasSuffix("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"))
        let reopened = try CosignKeyFile(pemRepresentation: pem).decrypt(password: password)
        #expect(reopened.algorithm == algorithm)
        #expect(reopened.pkcs8DERRepresentation == key.pkcs8DERRepresentation)
        let payload = Data(#"{"critical":{}}"#.utf8)
        let signature = try await reopened.sign(payload)
        #expect(try await key.verifyingKey.verify(signature: signature, payload: payload))
        #expect(try await !key.verifyingKey.verify(signature: signature, payload: payload + Data("x".utf8)))
    }

    /// The envelope is exactly securesystemslib's JSON, field for field.
    @Test func writesTheCosignEnvelope() throws {
        let file = try CosignKeyFile(encrypting: try PrivateKey.generate(), password: Data())
        let json = try #require(String(data: file.jsonRepresentation, encoding: .utf8))
        let pattern = #"^\{"kdf":\{"name":"scrypt","params":\{"N":32768,"r":8,"p":1\},"salt":"[A-Za-z0-9+/]{43}="\},"cipher":\{"name":"nacl/secretbox","nonce":"[A-Za-z0-9+/]{32}"\},"ciphertext":"[A-Za-z0-9+/=]+"\}$"#
        #expect(json.range(of: pattern, options: .regularExpression) != nil, "\(json)")
        // Empty passwords are allowed (COSIGN_PASSWORD="").
        #expect(try CosignKeyFile(pemRepresentation: file.pemRepresentation).decrypt(password: Data()).algorithm == .ecdsaP256)
    }

    @Test func readsHigherScryptCost() throws {
        let key = try PrivateKey.generate()
        let file = try CosignKeyFile(encrypting: key, password: Data("p".utf8), scrypt: .init(n: 65536, r: 8, p: 1))
        let parsed = try CosignKeyFile(pemRepresentation: file.pemRepresentation)
        #expect(parsed.scrypt.n == 65536)
        #expect(try parsed.decrypt(password: Data("p".utf8)).verifyingKey == key.verifyingKey)
    }

    /// Readers accept securesystemslib's three costs (parsing only: deriving N=131072 takes 128 MiB).
    @Test(arguments: [32768, 65536, 131072])
    func acceptsEachScryptCost(n: Int) throws {
        let file = try CosignKeyFile(pemRepresentation: Self.body(Self.envelope(n: n)))
        #expect(file.scrypt == CosignKeyFile.ScryptParameters(n: n, r: 8, p: 1))
    }

    struct Malformed: Sendable, CustomStringConvertible {
        let name: String
        let pem: @Sendable (String) -> String
        let code: SignetSigningError.Code
        var description: String { name }
    }

    static func body(_ json: String) -> String {
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + Data(json.utf8).base64EncodedString(options: .lineLength64Characters)
            .replacingOccurrences(of: "\r\n", with: "\n") + "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
    }

    static func envelope(n: Int = 32768, r: Int = 8, p: Int = 1, kdf: String = "scrypt", cipher: String = "nacl/secretbox",
                         salt: String = "7OuFwelmfY5uHwchiDRsmtjspgfef1F2Ne8aCN5KaZY=",
                         nonce: String = "P4y88hBovSkOLmstlUAhbpt2t+lS5LPH", ciphertext: String = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") -> String {
        #"{"kdf":{"name":"\#(kdf)","params":{"N":\#(n),"r":\#(r),"p":\#(p)},"salt":"\#(salt)"},"cipher":{"name":"\#(cipher)","nonce":"\#(nonce)"},"ciphertext":"\#(ciphertext)"}"#
    }

    static let malformed: [Malformed] = [
        Malformed(name: "empty", pem: { _ in "" }, code: .invalidKey),
        Malformed(name: "not PEM", pem: { _ in "hello" }, code: .invalidKey),
        Malformed(name: "public key label", pem: { $0.replacingOccurrences(of: "ENCRYPTED SIGSTORE PRIVATE KEY", with: "PUBLIC KEY") }, code: .invalidKey),
        Malformed(name: "body not JSON", pem: { _ in body("not json") }, code: .invalidKey),
        Malformed(name: "JSON without fields", pem: { _ in body("{}") }, code: .invalidKey),
        Malformed(name: "huge N", pem: { _ in body(envelope(n: 1 << 30)) }, code: .invalidKey),
        Malformed(name: "N not a power of two", pem: { _ in body(envelope(n: 1000)) }, code: .invalidKey),
        Malformed(name: "r 1024", pem: { _ in body(envelope(r: 1024)) }, code: .invalidKey),
        Malformed(name: "other kdf", pem: { _ in body(envelope(kdf: "pbkdf2")) }, code: .unsupportedAlgorithm),
        Malformed(name: "other cipher", pem: { _ in body(envelope(cipher: "aes-gcm")) }, code: .unsupportedAlgorithm),
        Malformed(name: "short nonce", pem: { _ in body(envelope(nonce: "AAAA")) }, code: .invalidKey),
        Malformed(name: "bad salt", pem: { _ in body(envelope(salt: "!!")) }, code: .invalidKey),
        Malformed(name: "short ciphertext", pem: { _ in body(envelope(ciphertext: "AAAA")) }, code: .invalidKey),
        Malformed(name: "truncated base64", pem: { String($0.dropLast(60)) + "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n" }, code: .invalidKey),
    ]

    @Test(arguments: malformed)
    func malformedFilesAreClearErrors(_ c: Malformed) throws {
        let error = #expect(throws: SignetSigningError.self) { try CosignKeyFile(pemRepresentation: c.pem(Self.cosignTestKey())) }
        #expect(error?.code == c.code, "\(String(describing: error))")
        #expect(error?.message.isEmpty == false)
    }

    /// A well-formed envelope whose ciphertext is garbage: wrong password, never a crash.
    @Test func garbageCiphertextIsWrongPassword() throws {
        let file = try CosignKeyFile(pemRepresentation: Self.body(Self.envelope()))
        let error = #expect(throws: SignetSigningError.self) { try file.decrypt(password: Data("hello".utf8)) }
        #expect(error?.code == .wrongPassword)
    }

    /// A secretbox that opens but holds no PKCS#8 key.
    @Test func decryptedGarbageIsInvalidKey() throws {
        let file = try CosignKeyFile(encryptingPKCS8: Data("not a key".utf8), password: Data("p".utf8))
        let error = #expect(throws: SignetSigningError.self) { try file.decrypt(password: Data("p".utf8)) }
        #expect(error?.code == .invalidKey)
    }
}
