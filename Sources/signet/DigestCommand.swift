import ArgumentParser
import SignetOCI

/// `signet digest IMAGE`: prints the manifest digest a tag points to (re-hashed locally).
struct DigestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "digest", abstract: "Print the digest of an image.")

    @Argument(help: "The image reference, e.g. localhost:5000/app:1.0.")
    var image: String

    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        let reference = try Reference.cli(image)
        let client = try registry.makeClient()
        // GET (not HEAD) so the printed digest is the hash of the bytes, not the registry's claim.
        let manifest = try await client.getManifest(reference)
        print(manifest.digest)
    }
}
