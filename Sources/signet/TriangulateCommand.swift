import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning

/// `signet triangulate [--type signature|attestation|sbom|digest] IMAGE`: prints where cosign keeps
/// the image's signatures (`REPO:sha256-HEX.sig`).
struct TriangulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "triangulate", abstract: "Print the reference of an image's signatures, attestations or SBOMs.")

    @Option(name: .long, help: "signature, attestation, sbom or digest.")
    var type: String = "signature"

    @Option(name: .long, help: ArgumentHelp("Signatures live in this repository (overrides COSIGN_REPOSITORY).", valueName: "repository"))
    var signatureRepository: String?

    @OptionGroup var registry: RegistryOptions

    @Argument(help: "The image.")
    var image: String

    func validate() throws {
        guard type == "digest" || SignatureKind(name: type) != nil else {
            throw ValidationError("invalid --type \"\(type)\" (signature, attestation, sbom or digest)")
        }
    }

    func run() async throws {
        let client = try registry.makeClient()
        let reference = try await SignatureCLI.resolveDigest(try Reference.cli(image), client: client)
        if type == "digest" {
            print(reference.description)
            return
        }
        let kind = SignatureKind(name: type)!
        let target = try SignatureStore.signatureReference(image: reference, digest: reference.digest!, kind: kind,
                                                           signatureRepository: try SignatureCLI.signatureRepository(flag: signatureRepository))
        print(target.description)
    }
}
