import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning

/// `signet tree IMAGE`: the image's signatures, attestations, SBOMs and OCI 1.1 referrers, as cosign's `tree`.
struct TreeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tree", abstract: "Show the signatures, attestations, SBOMs and referrers of an image.")

    @Option(name: .long, help: ArgumentHelp("Signatures live in this repository (overrides COSIGN_REPOSITORY).", valueName: "repository"))
    var signatureRepository: String?

    @OptionGroup var registry: RegistryOptions

    @Argument(help: "The image.")
    var image: String

    func run() async throws {
        let client = try registry.makeClient()
        let given = try Reference.cli(image)
        let reference = try await SignatureCLI.resolveDigest(given, client: client)
        let signatureRepo = try SignatureCLI.signatureRepository(flag: signatureRepository)
        let store = SignatureStore(client: client)
        var lines = ["📦 Supply Chain Security Related artifacts for an image: \(given)"]
        var found = false
        let sections: [(SignatureKind, String)] = [(.attestation, "💾 Attestations"), (.signature, "🔐 Signatures"), (.sbom, "📦 SBOMs")]
        do {
            for (kind, title) in sections {
                let tag = try SignatureStore.signatureReference(image: reference, digest: reference.digest!, kind: kind,
                                                                signatureRepository: signatureRepo)
                guard let fetched = try await store.fetchManifest(tag) else { continue }
                let sigImage = try SignatureImage(parsingManifest: fetched.bytes, maxLayers: 1000)
                guard !sigImage.layers.isEmpty else { continue }
                found = true
                lines.append("└── \(title) for an image tag: \(tag)")
                lines += Self.layerLines(sigImage.layers.map(\.digest))
            }
            let referrers = try await client.referrers(reference)
            for descriptor in referrers where descriptor.artifactType != nil {
                let artifact = reference.repositoryOnly.withDigest(descriptor.digest)
                guard let manifest = try? ImageManifest(decoding: try await client.getManifest(artifact).bytes) else {
                    FileHandle.standardError.write(Data("Error fetching artifact \(artifact)\n".utf8))
                    continue
                }
                found = true
                let type = manifest.annotations?[SigstoreBundle.predicateTypeAnnotation] ?? descriptor.artifactType!.rawValue
                lines.append("└── 🔗 \(type) artifacts via OCI referrer: \(artifact)")
                lines += Self.layerLines(manifest.layers.map(\.digest))
            }
        } catch let e as SignetOCIError {
            throw CLIError(e.message)
        } catch let e as SignetSigningError {
            throw CLIError(e.message)
        }
        if !found {
            print("📦 Supply Chain Security Related artifacts for an image: \(given)")
            print("No Supply Chain Security Related Artifacts found for image \(given),\n start creating one with simply running$ signet sign <img>")
            return
        }
        print(lines.joined(separator: "\n"))
    }

    static func layerLines(_ digests: [Digest]) -> [String] {
        digests.enumerated().map { i, d in "\(i == digests.count - 1 ? "   └──" : "   ├──") 🍒 \(d)" }
    }
}
