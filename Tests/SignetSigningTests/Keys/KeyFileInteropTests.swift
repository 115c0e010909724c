import Foundation
import Testing
@testable import SignetSigning

/// Cross-checks `CosignKeyFile` against an independent implementation: Fixtures/keys/
/// cosign_key_check.py (hashlib scrypt, libsodium secretbox through ctypes, `cryptography` for
/// PKCS#8). Needs python3 with `cryptography` and libsodium23; fails naming what is missing.
@Suite("Cosign key files against libsodium")
struct KeyFileInteropTests {
    static func python(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let script = try #require(Bundle.module.url(forResource: "Fixtures/keys/cosign_key_check.py", withExtension: nil))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// Signet encrypts, libsodium decrypts: the public key it finds is ours.
    @Test(arguments: [PublicKey.Algorithm.ecdsaP256, .ed25519, .rsa])
    func libsodiumOpensSignetKeys(algorithm: PublicKey.Algorithm) throws {
        let dir = try KeyTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try PrivateKey.generate(algorithm)
        let path = dir.appendingPathComponent("cosign.key")
        try CosignKeyFile(encrypting: key, password: Data("pässword".utf8)).pemRepresentation
            .write(to: path, atomically: true, encoding: .utf8)
        let result = try Self.python(["decrypt", path.path, "pässword"])
        #expect(result.status == 0, "cosign_key_check.py failed: \(result.stderr)")
        #expect(result.stdout == key.verifyingKey.pemRepresentation)

        let wrong = try Self.python(["decrypt", path.path, "password"])
        #expect(wrong.status != 0)
    }

    /// libsodium encrypts, Signet decrypts.
    @Test(arguments: ["ec-p256-pkcs8.pem", "ec-p384-sec1.pem", "ed25519-pkcs8.pem", "rsa-2048-pkcs1.pem"])
    func signetOpensLibsodiumKeys(fixture: String) throws {
        let source = try #require(Bundle.module.url(forResource: "Fixtures/keys/\(fixture)", withExtension: nil))
        let result = try Self.python(["encrypt", source.path, "hunter2"])
        #expect(result.status == 0, "cosign_key_check.py failed: \(result.stderr)")
        let key = try CosignKeyFile(pemRepresentation: result.stdout).decrypt(password: Data("hunter2".utf8))
        #expect(key.verifyingKey == (try PrivateKey(pemRepresentation: KeyTestSupport.fixture(fixture)).verifyingKey))
    }
}
