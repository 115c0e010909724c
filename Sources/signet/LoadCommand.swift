import ArgumentParser
import Foundation
import SignetOCI

/// `signet load --dir D IMAGE`, as `cosign load`: pushes the image of a `signet save`/`cosign save`
/// layout (with its signatures and attestations), or the single image of any OCI layout.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Load an image from an OCI image layout into a registry.")

    @Option(name: .long, help: ArgumentHelp("The directory of the OCI image layout to read.", valueName: "dir"))
    var dir: String

    @Argument(help: "Where to push the image (a tag; `latest` when none is given).")
    var image: String

    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        var reference = try Reference.cli(image)
        if reference.tag == nil && reference.digest == nil { reference = try reference.withTag(Reference.defaultTag) }
        let layout: OCILayout
        do { layout = try OCILayout(opening: URL(fileURLWithPath: dir)) } catch let e as SignetOCIError { throw CLIError(e.message) }
        let manifests = try layout.index().manifests
        let imageDescriptor: Descriptor
        if let d = try layout.manifest(kind: OCILayout.imageKind) ?? layout.manifest(kind: OCILayout.imageIndexKind) {
            imageDescriptor = d
        } else {
            let candidates = manifests.filter { $0.mediaType.isManifest }
            guard candidates.count == 1 else {
                throw CLIError("the oci layout at \(dir) holds \(candidates.count) manifests and no cosign image annotation; expected exactly one image")
            }
            imageDescriptor = candidates[0]
        }
        if let wanted = reference.digest, wanted != imageDescriptor.digest {
            throw CLIError("the image in \(dir) is \(imageDescriptor.digest), not \(wanted)")
        }
        let client = try registry.makeClient()
        let digest = try await client.push(imageDescriptor, from: layout, to: reference)
        var signatureRepository = reference.repositoryOnly
        if let repo = ProcessInfo.processInfo.environment["COSIGN_REPOSITORY"], !repo.isEmpty {
            signatureRepository = try Reference.cli(repo).repositoryOnly
        }
        for (suffix, kind) in [("sig", OCILayout.signaturesKind), ("att", OCILayout.attestationsKind)] {
            if let d = try layout.manifest(kind: kind) {
                try await client.push(d, from: layout, to: try signatureRepository.withTag("\(digest.tagSafe).\(suffix)"))
            }
        }
        print("\(reference.repositoryName)@\(digest)")
    }
}
