import ArgumentParser
import Foundation
import SignetSigning

/// `signet import-key-pair --key F`: an unencrypted PEM private key (PKCS#1 `RSA PRIVATE KEY`,
/// SEC1 `EC PRIVATE KEY`, PKCS#8 `PRIVATE KEY`; EC, RSA or Ed25519) re-encrypted as a cosign key.
struct ImportKeyPairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-key-pair",
        abstract: "Import a PEM private key as a cosign key pair.",
        discussion: "The password comes from COSIGN_PASSWORD, else it is asked twice on the terminal (without echo), else all of a piped standard input is the password."
    )

    @Option(name: [.customShort("k"), .long], help: "The PEM private key file to import.")
    var key: String

    @Option(name: .customLong("output-key-prefix"), help: "Write PREFIX.key and PREFIX.pub.")
    var outputKeyPrefix = "import-cosign"

    @Flag(help: "Overwrite existing key files.")
    var force = false

    func run() async throws {
        let keyPath = outputKeyPrefix + ".key"
        let publicPath = outputKeyPrefix + ".pub"
        let pem = try LocalKeyProvider.readKeyFile(key)
        guard let text = String(data: pem, encoding: .utf8) else {
            throw CLIError("\(key) is not a PEM file")
        }
        let privateKey = try PrivateKey(pemRepresentation: text)
        try KeyFiles.checkCanWrite([keyPath, publicPath], force: force)
        let password = try Passwords.forNewKey(environment: ProcessInfo.processInfo.environment)
        try GenerateKeyPairCommand.writePair(privateKey, password: password, keyPath: keyPath,
                                             publicPath: publicPath, force: force)
    }
}
