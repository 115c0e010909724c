import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning

/// `signet attach signature --payload F --signature F IMAGE`: uploads a signature made offline
/// (`sign --upload=false`) as cosign's `attach signature` does.
struct AttachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach", abstract: "Attach a signature made offline.",
        subcommands: [AttachSignatureCommand.self])
}

struct AttachSignatureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "signature", abstract: "Attach a signature and its payload to an image.")

    @Option(name: .long, help: ArgumentHelp("The signed payload (as written by sign --output-payload).", valueName: "file"))
    var payload: String

    @Option(name: .long, help: ArgumentHelp("The signature, base64 (as written by sign --output-signature) or raw bytes.", valueName: "file"))
    var signature: String

    @Option(name: .long, help: ArgumentHelp("Store the signature in this repository (overrides COSIGN_REPOSITORY).", valueName: "repository"))
    var signatureRepository: String?

    @OptionGroup var registry: RegistryOptions

    @Argument(help: "The image the payload names.")
    var image: String

    func run() async throws {
        let payloadBytes = try SignatureCLI.readData(payload)
        let signatureFile = try SignatureCLI.readData(signature)
        let text = String(decoding: signatureFile, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let signatureBytes = Data(base64Encoded: text) ?? signatureFile
        let client = try registry.makeClient()
        let reference = try await SignatureCLI.resolveDigest(try Reference.cli(image), client: client)
        let parsed: SimpleSigningPayload
        do { parsed = try SimpleSigningPayload(parsing: payloadBytes) } catch let e as SignetSigningError { throw CLIError(e.message) }
        guard parsed.dockerManifestDigest == reference.digest?.description else {
            throw CLIError("payload names image digest \(parsed.dockerManifestDigest), not \(reference.digest!)")
        }
        let store = SignatureStore(client: client)
        do {
            try await store.appendSignature(payload: payloadBytes, signature: signatureBytes, to: reference,
                                            signatureRepository: try SignatureCLI.signatureRepository(flag: signatureRepository))
        } catch let e as SignetOCIError {
            throw CLIError("attaching signature: \(e.message)")
        } catch let e as SignetSigningError {
            throw CLIError("attaching signature: \(e.message)")
        }
    }
}
