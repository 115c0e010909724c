import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning

/// `signet verify-attestation --key K [--type T] IMAGE`: cosign's `verify-attestation` with a key.
///
/// stderr: the checks performed; stdout: each verified DSSE envelope, one JSON document a line.
/// Exit codes as cosign: 10 no attestations, 11 no such image tag, 12 none matching (wrong key,
/// wrong subject, or no attestation of the requested predicate type).
struct VerifyAttestationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-attestation",
        abstract: "Verify the attestations of an image.",
        discussion: "Exit codes: 10 no attestations found, 11 image tag not found, 12 no matching attestations.")

    @Option(name: .long, help: ArgumentHelp("The public key: a path, env://VAR, or a KMS URI.", valueName: "key"))
    var key: String

    @Option(name: .long, help: ArgumentHelp("The predicate type to require (a cosign word or a URI).", valueName: "type"))
    var type: String = "custom"

    @Flag(name: .customLong("insecure-ignore-tlog"), help: "Accepted for cosign compatibility: Signet never consults a transparency log.")
    var insecureIgnoreTlog = false

    @Option(name: .long, help: ArgumentHelp("Read attestations from this repository (overrides COSIGN_REPOSITORY).", valueName: "repository"))
    var signatureRepository: String?

    @OptionGroup var registry: RegistryOptions

    @Argument(help: "The images to verify.")
    var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("missing IMAGE") }
    }

    func run() async throws {
        let predicateType: AttestationPredicateType
        do { predicateType = try AttestationPredicateType(parsing: type) } catch let e as SignetSigningError { throw CLIError(e.message) }
        if insecureIgnoreTlog {
            SignatureCLI.warn("Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the attestation.")
        }
        let verifier = try await SignatureCLI.keyed { try await KeyOptions.verifier(for: key) }
        let client = try registry.makeClient()
        let signatureRepo = try SignatureCLI.signatureRepository(flag: signatureRepository)
        var failure: Int32?
        for image in images {
            let reference = try Reference.cli(image)
            let outcome: AttestationOutcome
            do {
                outcome = try await ImageAttestationVerifier().verify(image: reference, verifier: verifier, predicateType: predicateType.uri,
                                                                      signatureRepository: signatureRepo, client: client)
            } catch let e as SignetOCIError {
                throw CLIError(e.message)
            } catch let e as SignetSigningError {
                throw CLIError(e.message)
            }
            guard outcome.isVerified else {
                FileHandle.standardError.write(Data("Error: \(outcome.message)\n".utf8))
                if failure == nil { failure = outcome.exitCode }
                continue
            }
            // cosign cmd/cosign/cli/verify/common.go PrintVerificationHeader.
            var header = "\nVerification for \(reference) --\nThe following checks were performed on each of these signatures:\n"
            header += "  - The cosign claims were validated\n"
            header += "  - The signatures were verified against the specified public key\n"
            FileHandle.standardError.write(Data(header.utf8))
            for attestation in outcome.attestations { print(String(decoding: attestation.outputJSON, as: UTF8.self)) }
        }
        if let failure { throw ExitCode(failure) }
    }
}
