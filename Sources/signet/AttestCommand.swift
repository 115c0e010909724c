import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning

/// `signet attest --key K --predicate F [--type T] IMAGE`: cosign's `attest` with a key.
///
/// The predicate becomes an in-toto statement about the image digest, signed as a DSSE envelope
/// and appended to the `sha256-HEX.att` tag (or, with `--new-bundle-format`, attached as a cosign
/// v3 Sigstore bundle referrer).
struct AttestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attest",
        abstract: "Attest the supplied container image.",
        discussion: """
        --type: custom (default), slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, \
        cyclonedx, link, vuln, openvex, or a predicate type URI. Signet never uploads to a transparency log.
        """)

    @Option(name: .long, help: ArgumentHelp("The private key: a path, env://VAR, or a KMS URI.", valueName: "key"))
    var key: String

    @Option(name: .long, help: ArgumentHelp("The predicate file.", valueName: "file"))
    var predicate: String

    @Option(name: .long, help: ArgumentHelp("The predicate type (a cosign word or a URI).", valueName: "type"))
    var type: String = "custom"

    @Flag(name: .long, help: "Replace earlier attestations of the same predicate type.")
    var replace = false

    @Option(name: .customLong("tlog-upload"), help: "Accepted for cosign compatibility; Signet never uploads to a transparency log.")
    var tlogUpload: Bool = true

    @Flag(name: .customLong("no-upload"), help: "Print the signed envelope instead of uploading it.")
    var noUpload = false

    @Option(name: .long, help: ArgumentHelp("Store attestations in this repository (overrides COSIGN_REPOSITORY).", valueName: "repository"))
    var signatureRepository: String?

    @Flag(name: [.customShort("y"), .long], help: "Accepted for cosign compatibility (Signet asks no confirmation).")
    var yes = false

    @Flag(name: .customLong("new-bundle-format"),
          help: "Attach a cosign v3 Sigstore bundle as an OCI 1.1 referrer instead of a layer of the .att image.")
    var newBundleFormat = false

    @OptionGroup var registry: RegistryOptions

    @Argument(help: "The image to attest, preferably by digest (REPO@sha256:...).")
    var image: String

    func validate() throws {
        if newBundleFormat && (signatureRepository != nil || replace) {
            throw ValidationError("--new-bundle-format attaches to the image's repository: drop --signature-repository and --replace")
        }
    }

    func run() async throws {
        let predicateType: AttestationPredicateType
        do { predicateType = try AttestationPredicateType(parsing: type) } catch let e as SignetSigningError { throw CLIError(e.message) }
        let predicateBytes = try SignatureCLI.readData(predicate)
        let signatureRepo = try SignatureCLI.signatureRepository(flag: signatureRepository)
        let attester = ImageAttester(signer: try await SignatureCLI.keyed { try await KeyOptions.signer(for: key) })
        let client = try registry.makeClient()
        var reference = try Reference.cli(image)
        if reference.digest == nil { SignatureCLI.warn(SignatureCLI.tagReferenceMessage(image)) }
        reference = try await SignatureCLI.resolveDigest(reference, client: client)
        guard let digest = reference.digest else { throw CLIError("no digest for \(image)") }
        let signed: ImageAttester.Signed
        do {
            signed = try await attester.attest(image: reference, digest: digest, predicate: predicateBytes, type: predicateType)
        } catch let e as SignetSigningError { throw CLIError(e.message) }
        if noUpload {
            print(String(decoding: signed.envelopeJSON, as: UTF8.self))
            return
        }
        let store = SignatureStore(client: client)
        do {
            if newBundleFormat {
                let subject = try await client.resolve(reference)
                let bundle = try await attester.bundle(for: signed)
                SignatureCLI.info("Attaching a sigstore bundle to \(reference.repositoryName)@\(digest)")
                try await store.attachAttestationBundle(bundle, predicateType: predicateType.uri, to: reference,
                                                        subjectMediaType: subject.mediaType, subjectSize: subject.size)
            } else {
                try await attester.upload(signed, to: reference, signatureRepository: signatureRepo, replace: replace, store: store)
            }
        } catch let e as SignetOCIError {
            throw CLIError("pushing attestation: \(e.message)")
        } catch let e as SignetSigningError {
            throw CLIError("pushing attestation: \(e.message)")
        }
    }
}
