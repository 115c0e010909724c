import Foundation
import Testing
@testable import SignetSigning

@Suite("PrivateKey import and signing")
struct PrivateKeyTests {
    struct ImportCase: Sendable, CustomStringConvertible {
        let file: String, label: String, algorithm: PublicKey.Algorithm, publicKey: String, signature: String
        var description: String { file }
    }

    /// Every PEM label `import-key-pair` accepts, made by OpenSSL.
    static let imports: [ImportCase] = [
        ImportCase(file: "ec-p256-pkcs8.pem", label: "PRIVATE KEY", algorithm: .ecdsaP256, publicKey: "ec-p256.pub", signature: "ec-p256.sig"),
        ImportCase(file: "ec-p256-sec1.pem", label: "EC PRIVATE KEY", algorithm: .ecdsaP256, publicKey: "ec-p256.pub", signature: "ec-p256.sig"),
        ImportCase(file: "ec-p384-pkcs8.pem", label: "PRIVATE KEY", algorithm: .ecdsaP384, publicKey: "ec-p384.pub", signature: "ec-p384.sig"),
        ImportCase(file: "ec-p384-sec1.pem", label: "EC PRIVATE KEY", algorithm: .ecdsaP384, publicKey: "ec-p384.pub", signature: "ec-p384.sig"),
        ImportCase(file: "ec-p521-pkcs8.pem", label: "PRIVATE KEY", algorithm: .ecdsaP521, publicKey: "ec-p521.pub", signature: "ec-p521.sig"),
        ImportCase(file: "ec-p521-sec1.pem", label: "EC PRIVATE KEY", algorithm: .ecdsaP521, publicKey: "ec-p521.pub", signature: "ec-p521.sig"),
        ImportCase(file: "ed25519-pkcs8.pem", label: "PRIVATE KEY", algorithm: .ed25519, publicKey: "ed25519.pub", signature: "ed25519.sig"),
        ImportCase(file: "rsa-2048-pkcs8.pem", label: "PRIVATE KEY", algorithm: .rsa, publicKey: "rsa-2048.pub", signature: "rsa-2048.sig"),
        ImportCase(file: "rsa-2048-pkcs1.pem", label: "RSA PRIVATE KEY", algorithm: .rsa, publicKey: "rsa-2048.pub", signature: "rsa-2048.sig"),
    ]

    static func fixtureData(_ name: String) throws -> Data {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/keys/\(name)", withExtension: nil), "fixture \(name) missing")
        return try Data(contentsOf: url)
    }

    @Test(arguments: imports)
    func importsEachLabel(_ c: ImportCase) async throws {
        let pem = try KeyTestSupport.fixture(c.file)
        #expect(pem.contains("-----BEGIN \(c.label)-----"))
        let key = try PrivateKey(pemRepresentation: pem)
        #expect(key.algorithm == c.algorithm)
        let expectedPublic = try PublicKey(pemRepresentation: KeyTestSupport.fixture(c.publicKey))
        #expect(key.verifyingKey == expectedPublic)
        #expect(key.verifyingKey.pemRepresentation == (try KeyTestSupport.fixture(c.publicKey)))

        // Our signature verifies with the OpenSSL-made public key, and OpenSSL's with ours.
        let payload = try Self.fixtureData("payload.txt")
        let signature = try await key.sign(payload)
        #expect(expectedPublic.isValidSignature(signature, for: payload))
        #expect(!expectedPublic.isValidSignature(signature, for: payload + Data([0])))
        #expect(key.verifyingKey.isValidSignature(try Self.fixtureData(c.signature), for: payload))

        // PKCS#8 round trip (what goes into cosign.key).
        let again = try PrivateKey(pkcs8DERRepresentation: key.pkcs8DERRepresentation)
        #expect(again.verifyingKey == key.verifyingKey)
        #expect(try PrivateKey(pemRepresentation: key.pkcs8PEMRepresentation).verifyingKey == key.verifyingKey)
    }

    /// SEC1 and PKCS#8 files of one key give the same key.
    @Test(arguments: ["p256", "p384", "p521"])
    func sec1AndPKCS8Agree(curve: String) throws {
        let a = try PrivateKey(pemRepresentation: KeyTestSupport.fixture("ec-\(curve)-pkcs8.pem"))
        let b = try PrivateKey(pemRepresentation: KeyTestSupport.fixture("ec-\(curve)-sec1.pem"))
        #expect(a.pkcs8DERRepresentation == b.pkcs8DERRepresentation)
    }

    @Test(arguments: [PublicKey.Algorithm.ecdsaP256, .ecdsaP384, .ecdsaP521, .ed25519, .rsa])
    func generatedKeysSignAndVerify(algorithm: PublicKey.Algorithm) async throws {
        let key = try PrivateKey.generate(algorithm)
        #expect(key.algorithm == algorithm)
        let payload = Data("payload".utf8)
        let signature = try await key.sign(payload)
        #expect(try await key.publicKey().isValidSignature(signature, for: payload))
        #expect(try await key.verify(signature: signature, payload: payload))
        #expect(try await !key.verify(signature: signature, payload: Data("other".utf8)))
        // Keys never print their secret.
        #expect(key.description == "PrivateKey(\(algorithm))")
    }

    /// cosign's ECDSA signatures are ASN.1 DER (a SEQUENCE of two INTEGERs).
    @Test func ecdsaSignatureIsDER() throws {
        let signature = try PrivateKey.generate().signature(for: Data("x".utf8))
        #expect(signature.first == 0x30)
        #expect(Int(signature[signature.startIndex + 1]) == signature.count - 2)
    }

    struct Refused: Sendable, CustomStringConvertible {
        let name: String, pem: @Sendable () throws -> String, code: SignetSigningError.Code
        var description: String { name }
    }

    static let refused: [Refused] = [
        Refused(name: "RSA 1024", pem: { try KeyTestSupport.fixture("rsa-1024-pkcs1.pem") }, code: .unsupportedAlgorithm),
        Refused(name: "secp256k1", pem: { try KeyTestSupport.fixture("ec-secp256k1-pkcs8.pem") }, code: .unsupportedAlgorithm),
        Refused(name: "X25519", pem: { try KeyTestSupport.fixture("x25519-pkcs8.pem") }, code: .unsupportedAlgorithm),
        Refused(name: "encrypted PKCS#8", pem: { try KeyTestSupport.fixture("ec-p256-encrypted-pkcs8.pem") }, code: .unsupportedAlgorithm),
        Refused(name: "public key", pem: { try KeyTestSupport.fixture("ec-p256.pub") }, code: .invalidKey),
        Refused(name: "encrypted cosign key", pem: { try String(contentsOf: KeyTestSupport.cosignVectors.appendingPathComponent("cosign-test-sigstore.key"), encoding: .utf8) }, code: .invalidKey),
        Refused(name: "empty", pem: { "" }, code: .invalidKey),
        Refused(name: "garbage", pem: { "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }, code: .invalidKey),
        Refused(name: "not base64", pem: { "-----BEGIN PRIVATE KEY-----\n%%%%\n-----END PRIVATE KEY-----\n" }, code: .invalidKey),
        Refused(name: "EC label, RSA body", pem: {
            try KeyTestSupport.fixture("rsa-2048-pkcs1.pem").replacingOccurrences(of: "RSA PRIVATE KEY", with: "EC PRIVATE KEY")
        }, code: .invalidKey),
        Refused(name: "RSA label, EC body", pem: {
            try KeyTestSupport.fixture("ec-p256-sec1.pem").replacingOccurrences(of: "EC PRIVATE KEY", with: "RSA PRIVATE KEY")
        }, code: .invalidKey),
        Refused(name: "truncated PKCS#8", pem: {
            let der = try PrivateKey(pemRepresentation: KeyTestSupport.fixture("ec-p256-pkcs8.pem")).pkcs8DERRepresentation
            return "-----BEGIN PRIVATE KEY-----\n" + der.dropLast(10).base64EncodedString() + "\n-----END PRIVATE KEY-----\n"
        }, code: .invalidKey),
    ]

    @Test(arguments: refused)
    func refusedKeysAreClearErrors(_ c: Refused) throws {
        let pem = try c.pem()
        let error = #expect(throws: SignetSigningError.self) { try PrivateKey(pemRepresentation: pem) }
        #expect(error?.code == c.code, "\(String(describing: error))")
    }

    /// Random bytes under a PEM label never crash the parsers.
    @Test(arguments: ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"])
    func randomBodiesDoNotCrash(label: String) {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 5, 16, 40, 121, 300] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let pem = "-----BEGIN \(label)-----\n" + Data(bytes).base64EncodedString() + "\n-----END \(label)-----\n"
            #expect(throws: SignetSigningError.self) { try PrivateKey(pemRepresentation: pem) }
        }
    }
}
