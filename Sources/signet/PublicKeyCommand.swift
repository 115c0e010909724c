import ArgumentParser
import Foundation
import SignetSigning

/// `signet public-key --key K`: the PEM public key of a signing key (a cosign key file,
/// `env://VAR`, or a KMS key), on stdout or into `--outfile`.
struct PublicKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "public-key",
        abstract: "Print the public key of a key."
    )

    @Option(name: [.customShort("k"), .long], help: "The signing key: a path, env://VAR or a KMS URI.")
    var key: String

    @Option(help: "Write the PEM to this file (mode 0644) instead of stdout.")
    var outfile: String?

    func run() async throws {
        let signer = try await KeyOptions.signer(for: key)
        let pem = try await signer.publicKey().pemRepresentation
        if let outfile {
            try KeyFiles.write(pem, to: outfile, mode: 0o644, force: true)
            printToStandardError("Public key written to \(outfile)")
        } else {
            FileHandle.standardOutput.write(Data(pem.utf8))
        }
    }
}
