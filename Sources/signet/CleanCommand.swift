import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning
#if canImport(Glibc)
import Glibc
#endif

/// `signet clean [--type signature|attestation|sbom|all] [-f] IMAGE`: deletes the image's cosign
/// artifacts, as cosign's `clean`. Without `--force` it asks on a terminal and refuses otherwise.
struct CleanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clean", abstract: "Delete the signatures, attestations or SBOMs of an image.")

    @Option(name: .long, help: "signature, attestation, sbom or all.")
    var type: CleanType = .all

    @Flag(name: [.customShort("f"), .long], help: "Do not prompt for confirmation.")
    var force = false

    @Option(name: .long, help: ArgumentHelp("Signatures live in this repository (overrides COSIGN_REPOSITORY).", valueName: "repository"))
    var signatureRepository: String?

    @OptionGroup var registry: RegistryOptions

    @Argument(help: "The image.")
    var image: String

    var kinds: [SignatureKind] { type.kinds }

    var prompt: String {
        switch type {
        case .all: "this will remove all signatures, SBOMs and attestations from the image"
        case .sbom: "this will remove all SBOMs from the image"
        case .attestation: "this will remove all attestations from the image"
        case .signature: "this will remove all signatures from the image"
        }
    }

    func run() async throws {
        if !force {
            SignatureCLI.warn(prompt)
            guard isatty(STDIN_FILENO) == 1 else {
                throw CLIError("refusing to delete without confirmation: stdin is not a terminal (use -f/--force)")
            }
            FileHandle.standardError.write(Data("Are you sure you would like to continue? [y/N] ".utf8))
            let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            guard answer == "y" || answer == "yes" else { throw CLIError("user declined the prompt") }
        }
        let client = try registry.makeClient()
        let reference = try await SignatureCLI.resolveDigest(try Reference.cli(image), client: client)
        let signatureRepo = try SignatureCLI.signatureRepository(flag: signatureRepository)
        let store = SignatureStore(client: client)
        for kind in kinds {
            let tag = try SignatureStore.signatureReference(image: reference, digest: reference.digest!, kind: kind, signatureRepository: signatureRepo)
            do {
                if try await store.clean(image: reference, kind: kind, signatureRepository: signatureRepo) {
                    SignatureCLI.info("Removed \(tag) from \(image)")
                }
            } catch let e as SignetOCIError {
                FileHandle.standardError.write(Data("could not delete \(tag) from \(image):\n\(e.message)\n".utf8))
            }
            // cosign v3 bundles: referrers of the image (in its own repository).
            do {
                let n = try await store.cleanBundles(image: reference, kind: kind)
                if n > 0 { SignatureCLI.info("Removed \(n) sigstore bundle \(n == 1 ? "referrer" : "referrers") (\(kind == .signature ? "signatures" : "attestations")) from \(image)") }
            } catch let e as SignetOCIError {
                FileHandle.standardError.write(Data("could not delete the sigstore bundles of \(image):\n\(e.message)\n".utf8))
            }
        }
    }
}
