import Foundation
import Testing
@testable import SignetSigning

@Suite("KeyReference and key providers")
struct KeyProviderTests {
    struct ReferenceCase: Sendable, CustomStringConvertible {
        let text: String, scheme: String, value: String
        var description: String { text }
    }

    @Test(arguments: [
        ReferenceCase(text: "cosign.key", scheme: "file", value: "cosign.key"),
        ReferenceCase(text: "/abs/path/cosign.pub", scheme: "file", value: "/abs/path/cosign.pub"),
        ReferenceCase(text: "./dir:with:colons/k.pem", scheme: "file", value: "./dir:with:colons/k.pem"),
        ReferenceCase(text: "file:///tmp/k.pub", scheme: "file", value: "/tmp/k.pub"),
        ReferenceCase(text: "env://COSIGN_KEY", scheme: "env", value: "COSIGN_KEY"),
        ReferenceCase(text: "hashivault://cosign", scheme: "hashivault", value: "cosign"),
        ReferenceCase(text: "OpenBao://transit-key", scheme: "openbao", value: "transit-key"),
        ReferenceCase(text: "awskms:///arn:aws:kms:us-east-1:1:key/x", scheme: "awskms", value: "/arn:aws:kms:us-east-1:1:key/x"),
        ReferenceCase(text: "weird dir/://x", scheme: "file", value: "weird dir/://x"),
        ReferenceCase(text: "1abc://x", scheme: "file", value: "1abc://x"),
    ])
    func parsesReferences(_ c: ReferenceCase) throws {
        let reference = try KeyReference(parsing: c.text)
        #expect(reference.scheme == c.scheme)
        #expect(reference.value == c.value)
        #expect(reference.description == c.text)
    }

    @Test(arguments: ["", "env://", "hashivault://", "a\0b"])
    func rejectsBadReferences(_ text: String) {
        let error = #expect(throws: SignetSigningError.self) { try KeyReference(parsing: text) }
        #expect(error?.code == .invalidKeyReference)
    }

    static let cosignKeyPath = KeyTestSupport.cosignVectors.appendingPathComponent("cosign-test-sigstore.key").path
    static let cosignPublicPath = KeyTestSupport.cosignVectors.appendingPathComponent("cosign-test-sigstore.pub").path

    /// Counts password requests, to check the password is asked only for encrypted keys.
    final class PasswordLog: @unchecked Sendable {
        private let lock = NSLock()
        private var requests: [String] = []
        func record(_ r: LocalKeyProvider.PasswordRequest) { lock.withLock { requests.append(r.reference.rawValue) } }
        var count: Int { lock.withLock { requests.count } }
    }

    static func registry(password: String = "hello", log: PasswordLog = PasswordLog(),
                         environment: [String: String] = [:]) -> KeyProviderRegistry {
        .local(environment: environment) { request in
            log.record(request)
            return Data(password.utf8)
        }
    }

    @Test func signsWithTheCosignKeyFileAndVerifiesWithItsPublicKey() async throws {
        let log = PasswordLog()
        let registry = Self.registry(log: log)
        let signer = try await registry.signer(for: Self.cosignKeyPath)
        #expect(log.count == 1)
        let payload = Data("payload".utf8)
        let signature = try await signer.sign(payload)
        let verifier = try await registry.verifier(for: Self.cosignPublicPath)
        #expect(log.count == 1, "a public key needs no password")
        #expect(try await verifier.verify(signature: signature, payload: payload))
        #expect(try await !verifier.verify(signature: signature, payload: Data("other".utf8)))
        // cosign also accepts the private key file for verification (its public half).
        let fromPrivate = try await registry.verifier(for: Self.cosignKeyPath)
        #expect(try await fromPrivate.verify(signature: signature, payload: payload))
        #expect(log.count == 2)
    }

    @Test func readsKeysFromEnvironment() async throws {
        let environment = [
            "SIGNING_KEY": try String(contentsOfFile: Self.cosignKeyPath, encoding: .utf8),
            "VERIFY_KEY": try String(contentsOfFile: Self.cosignPublicPath, encoding: .utf8),
            "PLAIN_KEY": try KeyTestSupport.fixture("ed25519-pkcs8.pem"),
        ]
        let registry = Self.registry(environment: environment)
        let payload = Data("payload".utf8)
        let signature = try await registry.signer(for: "env://SIGNING_KEY").sign(payload)
        #expect(try await registry.verifier(for: "env://VERIFY_KEY").verify(signature: signature, payload: payload))
        // Unencrypted private keys work too (no password asked).
        let ed = try await registry.signer(for: "env://PLAIN_KEY")
        #expect(try await ed.publicKey().algorithm == .ed25519)

        let error = await #expect(throws: SignetSigningError.self) { try await registry.signer(for: "env://NOT_SET") }
        #expect(error?.code == .invalidKeyReference)
        #expect(error?.message.contains("NOT_SET") == true)
    }

    struct VerifyCase: Sendable, CustomStringConvertible {
        let keyFile: String, signature: String
        var description: String { keyFile }
    }

    /// OpenSSL's signatures verify through the registry with a PKIX public key, a certificate,
    /// or an unencrypted private key file.
    @Test(arguments: [
        VerifyCase(keyFile: "rsa-2048.pub", signature: "rsa-2048.sig"),
        VerifyCase(keyFile: "ec-p256.crt", signature: "ec-p256.sig"),
        VerifyCase(keyFile: "ec-p521-sec1.pem", signature: "ec-p521.sig"),
        VerifyCase(keyFile: "ed25519.pub", signature: "ed25519.sig"),
    ])
    func verifiesOpenSSLSignatures(_ c: VerifyCase) async throws {
        let path = try #require(Bundle.module.url(forResource: "Fixtures/keys/\(c.keyFile)", withExtension: nil)).path
        let verifier = try await Self.registry().verifier(for: path)
        let payload = try PrivateKeyTests.fixtureData("payload.txt")
        let signature = try PrivateKeyTests.fixtureData(c.signature)
        #expect(try await verifier.verify(signature: signature, payload: payload))
        #expect(try await !verifier.verify(signature: signature, payload: payload.dropLast()))
    }

    @Test func wrongPasswordThroughTheRegistry() async throws {
        let registry = Self.registry(password: "nope")
        let error = await #expect(throws: SignetSigningError.self) { try await registry.signer(for: Self.cosignKeyPath) }
        #expect(error?.code == .wrongPassword)
    }

    @Test func unknownSchemeListsKnownOnes() async throws {
        let registry = Self.registry()
        let error = await #expect(throws: SignetSigningError.self) { try await registry.signer(for: "awskms:///alias/x") }
        #expect(error?.code == .unknownKeyScheme)
        #expect(error?.message.contains("'awskms'") == true)
        #expect(error?.message.contains("env, file") == true)
    }

    @Test func missingFileIsAnIOError() async throws {
        let error = await #expect(throws: SignetSigningError.self) { try await Self.registry().signer(for: "/nonexistent/cosign.key") }
        #expect(error?.code == .io)
        #expect(error?.message.contains("/nonexistent/cosign.key") == true)
    }

    @Test func nonPEMFileIsRejected() async throws {
        let dir = try KeyTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("k").path
        try Data([0, 1, 2, 0xff]).write(to: URL(fileURLWithPath: path))
        let error = await #expect(throws: SignetSigningError.self) { try await Self.registry().verifier(for: path) }
        #expect(error?.code == .invalidKey)
        let big = dir.appendingPathComponent("big").path
        try Data(count: LocalKeyProvider.maximumKeySize + 1).write(to: URL(fileURLWithPath: big))
        let bigError = await #expect(throws: SignetSigningError.self) { try await Self.registry().verifier(for: big) }
        #expect(bigError?.code == .limitExceeded)
    }

    /// A KMS-like provider: registration, routing by scheme, createKey; file keys cannot be created.
    struct FakeKMS: KeyProvider {
        let key: PrivateKey
        func signer(for reference: KeyReference) async throws -> any SignatureSigner { key }
        func verifier(for reference: KeyReference) async throws -> any SignatureVerifier { key.verifyingKey }
        func createKey(for reference: KeyReference) async throws -> PublicKey { key.verifyingKey }
    }

    @Test func registeredProvidersAreRouted() async throws {
        let key = try PrivateKey.generate()
        var registry = Self.registry()
        registry.register(scheme: "HashiVault", provider: FakeKMS(key: key))
        let copy = registry.registering(scheme: "openbao", provider: FakeKMS(key: key))
        #expect(registry.schemes == ["env", "file", "hashivault"])
        #expect(copy.schemes == ["env", "file", "hashivault", "openbao"])
        #expect(try await copy.signer(for: "openbao://cosign").publicKey() == key.verifyingKey)
        #expect(try await registry.createKey(for: KeyReference(parsing: "hashivault://new")) == key.verifyingKey)

        let error = await #expect(throws: SignetSigningError.self) { try await registry.createKey(for: KeyReference(parsing: "cosign.key")) }
        #expect(error?.code == .unsupportedOperation)
    }
}
