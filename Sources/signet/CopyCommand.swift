import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning

/// `signet copy SRC DST [--only sig,att,sbom] [--force] [--platform os/arch]`: cosign's `copy`.
/// The image (an index with every platform, or one platform's manifest with `--platform`) and its
/// signatures, attestations, SBOMs and cosign v3 bundle referrers, byte for byte, so that it
/// verifies at the destination with the same key.
struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy an image with its signatures, attestations and SBOMs to another registry.",
        discussion: """
            DST without a tag takes SRC's tag. Signatures are read from --signature-repository \
            (or COSIGN_REPOSITORY) and written to --destination-signature-repository, else beside \
            the destination image. Existing destination tags holding something else are kept unless --force.
            """)

    @Option(name: .long, help: ArgumentHelp("Copy only these, comma separated (repeatable): sig, att, sbom; the image itself is then not copied.", valueName: "items"))
    var only: [String] = []

    @Flag(name: [.customShort("f"), .long], help: "Overwrite destination tags that hold another manifest.")
    var force = false

    @Option(name: .long, help: ArgumentHelp("Copy only this platform's image of an index, e.g. linux/amd64.", valueName: "os/arch[/variant]"))
    var platform: String?

    @Option(name: .long, help: ArgumentHelp("Where SRC's signatures live (overrides COSIGN_REPOSITORY).", valueName: "repository"))
    var signatureRepository: String?

    @Option(name: .long, help: ArgumentHelp("Where to write the signatures at the destination (default: beside DST).", valueName: "repository"))
    var destinationSignatureRepository: String?

    @OptionGroup var registry: RegistryOptions

    @Argument(help: "The source image (tag or digest).")
    var source: String

    @Argument(help: "The destination image or repository.")
    var destination: String

    /// `--only` values, split on commas.
    var onlyParts: Set<CopyPart>? {
        get throws {
            let names = only.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
            guard !names.isEmpty else { return nil }
            var parts = Set<CopyPart>()
            for name in names {
                guard let part = CopyPart(parsing: name), part != .image else {
                    throw ValidationError("--only takes sig, att and sbom, not '\(name)'")
                }
                parts.insert(part)
            }
            return parts
        }
    }

    func validate() throws {
        _ = try onlyParts
        if let platform, !(2...3).contains(platform.split(separator: "/", omittingEmptySubsequences: false).count) {
            throw ValidationError("--platform takes os/arch[/variant], e.g. linux/amd64")
        }
    }

    func run() async throws {
        let src = try Reference.cli(source)
        let dst = try Reference.cli(destination)
        let sourceSignatures = try SignatureCLI.signatureRepository(flag: signatureRepository)
        let destinationSignatures: SignatureRepository?
        do { destinationSignatures = try destinationSignatureRepository.map(SignatureRepository.init(parsing:)) } catch let e as SignetSigningError {
            throw CLIError(e.message)
        }
        let copier = ImageCopier(client: try registry.makeClient(), parts: try onlyParts ?? CopyPart.all, force: force,
                                 platform: platform, sourceSignatureRepository: sourceSignatures,
                                 destinationSignatureRepository: destinationSignatures)
        let report = try await SignatureCLI.keyed { try await copier.copy(from: src, to: dst) }
        for item in report.items {
            let verb = item.outcome == .copied ? "Copied" : "Unchanged"
            SignatureCLI.info("\(verb) \(item.part) \(item.source) -> \(item.destination)")
        }
        if let digest = report.digest { print("\(dst.repositoryName)@\(digest)") }
    }
}
