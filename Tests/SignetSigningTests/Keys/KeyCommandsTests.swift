import Foundation
import Testing
@testable import SignetSigning
import SignetTestSupport

/// The key commands of the built `signet` binary (`CommandRunner.signetBinary`), run as a user would.
@Suite("signet generate-key-pair / import-key-pair / public-key")
struct KeyCommandsTests {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var binary: URL {
        CommandRunner.signetBinary
    }

    /// Runs `signet` in `directory`; COSIGN_PASSWORD is set only when `password` is given; stdin
    /// is not a terminal.
    static func signet(_ arguments: [String], in directory: URL, password: String? = nil,
                       environment: [String: String] = [:], stdin: Data? = nil) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw BinaryMissing(path: binary.path)
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["COSIGN_PASSWORD"] = password
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        if let stdin {
            try input.fileHandleForWriting.write(contentsOf: stdin)
            try input.fileHandleForWriting.close()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    struct BinaryMissing: Error, CustomStringConvertible {
        let path: String
        var description: String { "the signet binary is missing at \(path): run `swift build` first" }
    }

    static func mode(_ url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    static func decrypt(_ url: URL, password: String) throws -> PrivateKey {
        try CosignKeyFile(pemRepresentation: String(contentsOf: url, encoding: .utf8)).decrypt(password: Data(password.utf8))
    }

    @Test func generateKeyPairWritesCosignFiles() throws {
        let dir = try KeyTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.signet(["generate-key-pair"], in: dir, password: "s3cret")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("Private key written to cosign.key"))
        #expect(result.stderr.contains("Public key written to cosign.pub"))
        let keyURL = dir.appendingPathComponent("cosign.key"), pubURL = dir.appendingPathComponent("cosign.pub")
        #expect(try Self.mode(keyURL) == 0o600)
        #expect(try Self.mode(pubURL) == 0o644)
        let keyPEM = try String(contentsOf: keyURL, encoding: .utf8)
        #expect(keyPEM.hasPrefix("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"))
        let key = try Self.decrypt(keyURL, password: "s3cret")
        #expect(key.algorithm == .ecdsaP256)
        #expect(try String(contentsOf: pubURL, encoding: .utf8) == key.verifyingKey.pemRepresentation)

        // public-key prints the same PEM.
        let printed = try Self.signet(["public-key", "--key", "cosign.key"], in: dir, password: "s3cret")
        #expect(printed.status == 0, "\(printed.stderr)")
        #expect(printed.stdout == key.verifyingKey.pemRepresentation)

        // No silent overwrite...
        let again = try Self.signet(["generate-key-pair"], in: dir, password: "other")
        #expect(again.status != 0)
        #expect(again.stderr.contains("cosign.key already exists"))
        #expect(try String(contentsOf: keyURL, encoding: .utf8) == keyPEM)
        // ...unless --force.
        let forced = try Self.signet(["generate-key-pair", "--force"], in: dir, password: "other")
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try Self.decrypt(keyURL, password: "other").verifyingKey != key.verifyingKey)
        #expect(try Self.mode(keyURL) == 0o600)
        #expect(try Self.mode(pubURL) == 0o644)
    }

    @Test func outputPrefixAndEmptyPassword() throws {
        let dir = try KeyTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let result = try Self.signet(["generate-key-pair", "--output-key-prefix", "sub/release"], in: dir, password: "")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("Private key written to sub/release.key"))
        #expect(try Self.decrypt(dir.appendingPathComponent("sub/release.key"), password: "").algorithm == .ecdsaP256)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("sub/release.pub").path))
    }

    /// Without COSIGN_PASSWORD and without a terminal, cosign reads the password from standard
    /// input, all of it, unmodified (an empty stdin is an empty password).
    @Test func pipedPasswordIsUsedAsIs() throws {
        let dir = try KeyTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.signet(["generate-key-pair"], in: dir, stdin: Data("piped pw\n".utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("Enter password"), "no prompt without a terminal")
        let key = try Self.decrypt(dir.appendingPathComponent("cosign.key"), password: "piped pw\n")
        let printed = try Self.signet(["public-key", "--key", "cosign.key"], in: dir, stdin: Data("piped pw\n".utf8))
        #expect(printed.stdout == key.verifyingKey.pemRepresentation, "\(printed.stderr)")
        let wrong = try Self.signet(["public-key", "--key", "cosign.key"], in: dir, stdin: Data("piped pw".utf8))
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("incorrect password"))

        let other = try KeyTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: other) }
        let empty = try Self.signet(["generate-key-pair"], in: other)
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(try Self.decrypt(other.appendingPathComponent("cosign.key"), password: "").algorithm == .ecdsaP256)
    }

    /// On a terminal (a pty made by util-linux `script`) the password is asked twice without
    /// echo; answers are typed only after each prompt appears, so any echo would show.
    @Test(arguments: [("tty-pass", "tty-pass", true), ("first-pw", "second-pw", false)])
    func terminalPrompt(first: String, second: String, matches: Bool) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            Issue.record("/usr/bin/script (util-linux) is missing: this test needs it to make a terminal")
            return
        }
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else { throw BinaryMissing(path: Self.binary.path) }
        let dir = try KeyTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", "'\(Self.binary.path)' generate-key-pair", "/dev/null"]
        process.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["COSIGN_PASSWORD"] = nil
        process.environment = env
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        var transcript = ""
        func waitFor(_ text: String, occurrence: Int) {
            let deadline = Date().addingTimeInterval(60)
            while transcript.components(separatedBy: text).count - 1 < occurrence && Date() < deadline {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                transcript += String(decoding: chunk, as: UTF8.self)
            }
        }
        waitFor("Enter password for private key: ", occurrence: 1)
        try input.fileHandleForWriting.write(contentsOf: Data((first + "\n").utf8))
        waitFor("Enter password for private key again: ", occurrence: 1)
        try input.fileHandleForWriting.write(contentsOf: Data((second + "\n").utf8))
        transcript += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()

        #expect(!transcript.contains(first) && !transcript.contains(second), "password echoed: \(transcript)")
        if matches {
            #expect(process.terminationStatus == 0, "\(transcript)")
            #expect(try Self.decrypt(dir.appendingPathComponent("cosign.key"), password: first).algorithm == .ecdsaP256)
        } else {
            #expect(process.terminationStatus != 0)
            #expect(transcript.contains("passwords do not match"), "\(transcript)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("cosign.key").path))
        }
    }

    @Test func publicKeyOfTheCosignTestKey() throws {
        let dir = try KeyTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = KeyTestSupport.cosignVectors.appendingPathComponent("cosign-test-sigstore.key").path
        let expected = try String(contentsOf: KeyTestSupport.cosignVectors.appendingPathComponent("cosign-test-sigstore.pub"), encoding: .utf8)

        let ok = try Self.signet(["public-key", "--key", key], in: dir, password: "hello")
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == expected)

        let fromEnv = try Self.signet(["public-key", "--key", "env://MY_KEY"], in: dir, password: "hello",
                                      environment: ["MY_KEY": try String(contentsOfFile: key, encoding: .utf8)])
        #expect(fromEnv.stdout == expected, "\(fromEnv.stderr)")

        let toFile = try Self.signet(["public-key", "--key", key, "--outfile", "out.pub"], in: dir, password: "hello")
        #expect(toFile.status == 0, "\(toFile.stderr)")
        #expect(try String(contentsOf: dir.appendingPathComponent("out.pub"), encoding: .utf8) == expected)
        #expect(try Self.mode(dir.appendingPathComponent("out.pub")) == 0o644)

        let wrong = try Self.signet(["public-key", "--key", key], in: dir, password: "wrong")
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("incorrect password"))
        #expect(!wrong.stderr.contains("wrong"), "the password must not be echoed in errors")
    }

    struct ErrorCase: Sendable, CustomStringConvertible {
        let arguments: [String], message: String
        var description: String { arguments.joined(separator: " ") }
    }

    @Test(arguments: [
        ErrorCase(arguments: ["public-key", "--key", "awskms:///alias/x"], message: "unknown key scheme 'awskms'"),
        ErrorCase(arguments: ["public-key", "--key", "missing.key"], message: "missing.key"),
        ErrorCase(arguments: ["generate-key-pair", "--kms", "cosign.key"], message: "cannot create keys"),
        ErrorCase(arguments: ["generate-key-pair", "--kms", "gcpkms://x"], message: "known schemes are"),
        ErrorCase(arguments: ["import-key-pair", "--key", "missing.pem"], message: "missing.pem"),
    ])
    func errorsAreClear(_ c: ErrorCase) throws {
        let dir = try KeyTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.signet(c.arguments, in: dir, password: "x")
        #expect(result.status != 0)
        #expect(result.stderr.contains(c.message), "\(result.stderr)")
    }

    @Test(arguments: PrivateKeyTests.imports)
    func importKeyPair(_ c: PrivateKeyTests.ImportCase) throws {
        let dir = try KeyTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try #require(Bundle.module.url(forResource: "Fixtures/keys/\(c.file)", withExtension: nil))
        let result = try Self.signet(["import-key-pair", "--key", source.path], in: dir, password: "imported")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("Private key written to import-cosign.key"))
        let key = try Self.decrypt(dir.appendingPathComponent("import-cosign.key"), password: "imported")
        #expect(key.algorithm == c.algorithm)
        let expectedPub = try KeyTestSupport.fixture(c.publicKey)
        #expect(try String(contentsOf: dir.appendingPathComponent("import-cosign.pub"), encoding: .utf8) == expectedPub)
        #expect(try Self.mode(dir.appendingPathComponent("import-cosign.key")) == 0o600)
    }

    @Test(arguments: ["rsa-1024-pkcs1.pem", "ec-secp256k1-pkcs8.pem", "ec-p256.pub"])
    func importRefusesUnusableKeys(_ file: String) throws {
        let dir = try KeyTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try #require(Bundle.module.url(forResource: "Fixtures/keys/\(file)", withExtension: nil))
        let result = try Self.signet(["import-key-pair", "--key", source.path], in: dir, password: "x")
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("Error: "), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("import-cosign.key").path))
    }
}
