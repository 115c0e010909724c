import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning

/// `signet triangulate [--type signature|attestation|sbom|digest] IMAGE`: prints where cosign keeps
/// the image's signatures (`REPO:sha256-HEX.sig`).
struct TriangulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "triangulate", abstract: "Print the reference of an image's signatures, attestations or SBOMs.")

    @Option(name: .long, help: "signature, attestation, sbom or digest.")
    var type: TriangulateType = .signature

    @Option(name: .long, help: ArgumentHelp("Signatures live in this repository (overrides COSIGN_REPOSITORY).", valueName: "repository"))
    var signatureRepository: String?

    @OptionGroup var registry: RegistryOptions

    @Argument(help: "The image.")
    var image: String

    func run() async throws {
        let client = try registry.makeClient()
        let reference = try await SignatureCLI.resolveDigest(try Reference.cli(image), client: client)
        guard let kind = type.kind else {
            print(reference.description)
            return
        }
        guard let digest = reference.digest else { throw CLIError("\(image) did not resolve to a digest") }
        let target = try SignatureStore.signatureReference(image: reference, digest: digest, kind: kind,
                                                           signatureRepository: try SignatureCLI.signatureRepository(flag: signatureRepository))
        print(target.description)
    }
}
