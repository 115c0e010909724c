import ArgumentParser
import Foundation
import SignetOCI

/// `signet save --dir D IMAGE`, as `cosign save`: the image, its `.sig` signatures and `.att`
/// attestations in one OCI image layout, marked with `kind` annotations.
struct SaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Save an image and its signatures to an OCI image layout.")

    @Option(name: .long, help: ArgumentHelp("The directory of the OCI image layout to write.", valueName: "dir"))
    var dir: String

    @Argument(help: "The image reference.")
    var image: String

    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        let reference = try Reference.cli(image)
        let client = try registry.makeClient()
        let layout = try OCILayout.create(at: URL(fileURLWithPath: dir))
        let root = try await client.getManifest(reference)
        let pinned = reference.withDigest(root.digest)
        let kind = root.mediaType.isIndex ? OCILayout.imageIndexKind : OCILayout.imageKind
        try await client.copy(pinned, to: layout, annotations: [OCILayout.kindAnnotation: kind])
        // Signatures live beside the image, or in $COSIGN_REPOSITORY.
        var signatureRepository = reference.repositoryOnly
        if let repo = ProcessInfo.processInfo.environment["COSIGN_REPOSITORY"], !repo.isEmpty {
            signatureRepository = try Reference.cli(repo).repositoryOnly
        }
        for (suffix, kind) in [("sig", OCILayout.signaturesKind), ("att", OCILayout.attestationsKind)] {
            let tagged = try signatureRepository.withTag("\(root.digest.tagSafe).\(suffix)")
            if try await client.headManifest(tagged) != nil {
                try await client.copy(tagged, to: layout, annotations: [OCILayout.kindAnnotation: kind])
            }
        }
    }
}
