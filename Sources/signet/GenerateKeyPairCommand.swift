import ArgumentParser
import Foundation
import SignetSigning

/// `signet generate-key-pair`: a new ECDSA P-256 key, encrypted as cosign does (scrypt +
/// secretbox, PEM `ENCRYPTED SIGSTORE PRIVATE KEY`), and its public key; or, with `--kms URI`, a
/// key created in a KMS through the key-provider registry (only `PREFIX.pub` is written).
struct GenerateKeyPairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-key-pair",
        abstract: "Generate an encrypted cosign key pair.",
        discussion: "The password comes from COSIGN_PASSWORD, else it is asked twice on the terminal (without echo), else all of a piped standard input is the password."
    )

    @Option(name: .customLong("output-key-prefix"), help: "Write PREFIX.key and PREFIX.pub.")
    var outputKeyPrefix = "cosign"

    @Flag(help: "Overwrite existing key files.")
    var force = false

    @Option(help: "Create the key in a KMS instead (for example hashivault://cosign); writes only PREFIX.pub.")
    var kms: String?

    func run() async throws {
        let keyPath = outputKeyPrefix + ".key"
        let publicPath = outputKeyPrefix + ".pub"
        let environment = ProcessInfo.processInfo.environment

        if let kms {
            try KeyFiles.checkCanWrite([publicPath], force: force)
            let publicKey = try await KeyOptions.registry(environment: environment)
                .createKey(for: KeyReference(parsing: kms))
            try KeyFiles.write(publicKey.pemRepresentation, to: publicPath, mode: 0o644, force: force)
            printToStandardError("Public key written to \(publicPath)")
            return
        }

        try KeyFiles.checkCanWrite([keyPath, publicPath], force: force)
        let password = try Passwords.forNewKey(environment: environment)
        let key = try PrivateKey.generate(.ecdsaP256)
        try Self.writePair(key, password: password, keyPath: keyPath, publicPath: publicPath, force: force)
    }

    /// Encrypts `key` and writes `keyPath` (0600) and `publicPath` (0644), printing what cosign prints.
    static func writePair(_ key: PrivateKey, password: Data, keyPath: String, publicPath: String, force: Bool) throws {
        let file = try CosignKeyFile(encrypting: key, password: password)
        try KeyFiles.write(file.pemRepresentation, to: keyPath, mode: 0o600, force: force)
        printToStandardError("Private key written to \(keyPath)")
        try KeyFiles.write(key.verifyingKey.pemRepresentation, to: publicPath, mode: 0o644, force: force)
        printToStandardError("Public key written to \(publicPath)")
    }
}

/// Writes a line to stderr (cosign's informational messages go there).
func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
