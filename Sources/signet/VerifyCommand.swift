import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning

/// `signet verify --key K [-a k=v]... IMAGE`: cosign's `verify` with a key.
///
/// stderr: the checks performed; stdout: a JSON array of the verified payloads (as cosign prints
/// them). Exit codes as cosign: 10 no signatures, 11 no such image tag, 12 no matching signature.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the signatures of an image.",
        discussion: "Exit codes: 10 no signatures found, 11 image tag not found, 12 no matching signatures.")

    @Option(name: .long, help: ArgumentHelp("The public key: a path, env://VAR, or a KMS URI.", valueName: "key"))
    var key: String

    @Option(name: [.customShort("a"), .long], help: ArgumentHelp("An annotation the payload's optional section must hold (repeatable).", valueName: "key=value"))
    var annotations: [String] = []

    @Flag(name: .customLong("insecure-ignore-tlog"), help: "Accepted for cosign compatibility: Signet never consults a transparency log.")
    var insecureIgnoreTlog = false

    @Flag(name: .long, help: "IMAGE is a directory written by `cosign save` / `signet save`: verify offline.")
    var localImage = false

    @Option(name: .long, help: ArgumentHelp("Read signatures from this repository (overrides COSIGN_REPOSITORY).", valueName: "repository"))
    var signatureRepository: String?

    @OptionGroup var registry: RegistryOptions

    @Option(name: .long, help: "How many images to verify at once.")
    var maxWorkers: Int = 4

    @Flag(name: .customLong("report-round-trips"), help: .hidden)
    var reportRoundTrips = false

    @Argument(help: "The images to verify (or the layout directory with --local-image).")
    var images: [String]

    func validate() throws {
        _ = try SignatureCLI.parseAnnotations(annotations)
        guard !images.isEmpty else { throw ValidationError("missing IMAGE") }
    }

    func run() async throws {
        let required = try SignatureCLI.parseAnnotations(annotations)
        if insecureIgnoreTlog {
            SignatureCLI.warn("Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.")
        }
        let verifier = try await SignatureCLI.keyed { try await KeyOptions.verifier(for: key) }
        let client = localImage ? nil : try registry.makeClient()
        let signatureRepo = localImage ? nil : try SignatureCLI.signatureRepository(flag: signatureRepository)
        // Several images are verified concurrently (at most --max-workers at once); output keeps their order.
        let results = try await withThrowingTaskGroup(of: (Int, Report).self) { group in
            var reports = [Report?](repeating: nil, count: images.count)
            var next = 0
            func add() {
                let index = next
                let image = images[index]
                next += 1
                group.addTask {
                    (index, try await self.verify(image, verifier: verifier, required: required, client: client, signatureRepo: signatureRepo))
                }
            }
            while next < min(max(1, maxWorkers), images.count) { add() }
            while let (index, report) = try await group.next() {
                reports[index] = report
                if next < images.count { add() }
            }
            return reports.compactMap { $0 }
        }
        var failure: Int32?
        for report in results {
            FileHandle.standardError.write(Data(report.stderr.utf8))
            if !report.stdout.isEmpty { print(report.stdout) }
            if failure == nil, report.code != 0 { failure = report.code }
        }
        if reportRoundTrips, let client {
            FileHandle.standardError.write(Data("registry round trips: \(client.roundTrips)\n".utf8))
        }
        if let failure { throw ExitCode(failure) }
    }

    /// What one image's verification prints, and its exit code.
    struct Report: Sendable {
        var code: Int32
        var stderr: String
        var stdout: String
    }

    /// Verifies one image: cosign's output and exit code.
    func verify(_ image: String, verifier: any SignatureVerifier, required: [String: String], client: RegistryClient?,
                signatureRepo: SignatureRepository?) async throws -> Report {
        let outcome: VerificationOutcome
        let shownName: String
        do {
            if let client {
                let reference = try Reference.cli(image)
                outcome = try await ImageSignatureVerifier().verify(
                    image: reference, verifier: verifier, annotations: required,
                    signatureRepository: signatureRepo, client: client)
                shownName = reference.description
            } else {
                let layout = try OCILayout(opening: URL(fileURLWithPath: image))
                outcome = try await ImageSignatureVerifier().verify(layout: layout, verifier: verifier, annotations: required)
                shownName = image
            }
        } catch let e as SignetOCIError {
            throw CLIError(e.message)
        } catch let e as SignetSigningError {
            throw CLIError(e.message)
        }

        guard outcome.isVerified else {
            return Report(code: outcome.exitCode, stderr: "Error: \(outcome.message)\n", stdout: "")
        }
        // cosign cmd/cosign/cli/verify/common.go PrintVerificationHeader.
        var header = "\nVerification for \(shownName) --\nThe following checks were performed on each of these signatures:\n"
        if !required.isEmpty { header += "  - The specified annotations were verified.\n" }
        header += "  - The cosign claims were validated\n"
        header += "  - The signatures were verified against the specified public key\n"
        for signature in outcome.signatures {
            header += "  - Signature \(signature.blobDigest) format: \(signature.format == .cosign ? "cosign (classic .sig)" : "sigstore bundle (cosign v3)")\n"
        }
        return Report(code: 0, stderr: header, stdout: GoJSON.array(outcome.signatures.map(\.outputJSON)).encodedString)
    }
}
