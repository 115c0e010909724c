import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning

/// `signet sign --key K [-a k=v]... IMAGE`: cosign's `sign` with a key (FORMATS.md section 1).
struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign an image.",
        discussion: """
        Signs the image digest with the key and appends the signature to the sha256-HEX.sig tag in the \
        image's repository, or in COSIGN_REPOSITORY / --signature-repository. A tag is resolved to its \
        digest first. Signet never uploads to a public transparency log.
        """)

    @Option(name: .long, help: ArgumentHelp("The private key: a path, env://VAR, or a KMS URI.", valueName: "key"))
    var key: String

    @Option(name: [.customShort("a"), .long], help: ArgumentHelp("An annotation to put into the payload's optional section (repeatable).", valueName: "key=value"))
    var annotations: [String] = []

    @Option(name: .customLong("tlog-upload"), help: "Accepted for cosign compatibility; Signet never uploads to a transparency log.")
    var tlogUpload: Bool = true

    @Option(name: .customLong("upload"), help: "Push the signature to the registry (--upload=false with --output-signature/--output-payload signs offline).")
    var upload: Bool = true

    @Option(name: .long, help: ArgumentHelp("Write the base64 signature to this file.", valueName: "file"))
    var outputSignature: String?

    @Option(name: .long, help: ArgumentHelp("Write the signed payload to this file.", valueName: "file"))
    var outputPayload: String?

    @Option(name: .long, help: ArgumentHelp("Read the image digest from this file (as kaniko's --digest-file writes it).", valueName: "file"))
    var digestFile: String?

    @Option(name: .long, help: ArgumentHelp("Store signatures in this repository (overrides COSIGN_REPOSITORY).", valueName: "repository"))
    var signatureRepository: String?

    @Flag(name: [.customShort("y"), .long], help: "Accepted for cosign compatibility (Signet asks no confirmation).")
    var yes = false

    @OptionGroup var registry: RegistryOptions

    @Option(name: .long, help: "How many images to sign at once.")
    var maxWorkers: Int = 4

    @Flag(name: .customLong("new-bundle-format"),
          help: "Attach a cosign v3 Sigstore bundle (DSSE envelope, in-toto statement) as an OCI 1.1 referrer instead of a layer of the .sig image.")
    var newBundleFormat = false

    @Flag(name: .customLong("report-round-trips"), help: .hidden)
    var reportRoundTrips = false

    @Argument(help: "The images to sign, preferably by digest (REPO@sha256:...).")
    var images: [String]

    func validate() throws {
        if !upload && outputSignature == nil && outputPayload == nil {
            throw ValidationError("--upload=false needs --output-signature and/or --output-payload")
        }
        _ = try SignatureCLI.parseAnnotations(annotations)
        guard !images.isEmpty else { throw ValidationError("missing IMAGE") }
        if newBundleFormat {
            // The bundle carries a statement, not a simple-signing payload; referrers live in the
            // image's own repository.
            if !annotations.isEmpty { throw ValidationError("--new-bundle-format takes no -a annotations") }
            if signatureRepository != nil { throw ValidationError("--new-bundle-format attaches to the image's repository: drop --signature-repository") }
            if outputSignature != nil || outputPayload != nil || !upload {
                throw ValidationError("--new-bundle-format uploads the bundle: --output-signature, --output-payload and --upload=false do not apply")
            }
        }
        if images.count > 1 && (outputSignature != nil || outputPayload != nil || digestFile != nil) {
            throw ValidationError("--output-signature, --output-payload and --digest-file take a single IMAGE")
        }
    }

    func run() async throws {
        let annotationMap = try SignatureCLI.parseAnnotations(annotations)
        let signatureRepo = try SignatureCLI.signatureRepository(flag: signatureRepository)
        let signer = ImageSigner(signer: try await SignatureCLI.keyed { try await KeyOptions.signer(for: key) })
        let client = try registry.makeClient()
        // Several images are signed concurrently (at most --max-workers at once; each image's tag is
        // written by one task, so they do not contend).
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                let image = images[next]
                next += 1
                group.addTask {
                    try await self.sign(image, signer: signer, annotations: annotationMap, signatureRepo: signatureRepo, client: client)
                }
            }
            while next < min(max(1, maxWorkers), images.count) { add() }
            while try await group.next() != nil {
                if next < images.count { add() }
            }
        }
        if reportRoundTrips {
            FileHandle.standardError.write(Data("registry round trips: \(client.roundTrips)\n".utf8))
        }
    }

    func sign(_ image: String, signer: ImageSigner, annotations annotationMap: [String: String],
              signatureRepo: SignatureRepository?, client: RegistryClient) async throws {
        var reference = try Reference.cli(image)
        if let digestFile {
            let text = try SignatureCLI.readFile(digestFile).trimmingCharacters(in: .whitespacesAndNewlines)
            let digest: Digest
            do { digest = try Digest(parsing: text) } catch { throw CLIError("\(digestFile) does not hold a digest (sha256:HEX)") }
            if let given = reference.digest, given != digest {
                throw CLIError("image \(image) names digest \(given) but \(digestFile) holds \(digest)")
            }
            reference = reference.withDigest(digest)
        }
        if reference.digest == nil {
            SignatureCLI.warn(SignatureCLI.tagReferenceMessage(image))
            let descriptor: Descriptor
            do { descriptor = try await client.resolve(reference) } catch let e as SignetOCIError where e.code == .notFound {
                throw CLIError("image \(reference) not found")
            }
            reference = reference.withDigest(descriptor.digest)
        }
        guard let digest = reference.digest else { throw CLIError("no digest for \(image)") }

        if newBundleFormat {
            let store = SignatureStore(client: client)
            do {
                let subject = try await client.resolve(reference)
                let bundle = try await signer.bundle(image: reference, digest: digest)
                SignatureCLI.info("Attaching a sigstore bundle to \(reference.repositoryName)@\(digest)")
                try await store.attachBundle(bundle, to: reference, subjectMediaType: subject.mediaType, subjectSize: subject.size)
            } catch let e as SignetOCIError {
                throw CLIError(e.code == .notFound ? "image \(reference) not found" : "pushing the bundle: \(e.message)")
            } catch let e as SignetSigningError {
                throw CLIError("signing the bundle: \(e.message)")
            }
            return
        }

        let signed = try await signer.sign(image: reference, digest: digest, annotations: annotationMap)
        if let outputSignature { try SignatureCLI.write(Data(signed.signatureBase64.utf8), to: outputSignature) }
        if let outputPayload { try SignatureCLI.write(signed.payload, to: outputPayload) }
        guard upload else { return }

        let destination = signatureRepo?.repository ?? reference.repositoryOnly
        SignatureCLI.info("Pushing signature to: \(destination.repositoryName)")
        let store = SignatureStore(client: client)
        do {
            try await store.appendSignature(payload: signed.payload, signature: signed.signature, to: reference,
                                            signatureRepository: signatureRepo)
        } catch let e as SignetOCIError {
            throw CLIError("pushing signature: \(e.message)")
        } catch let e as SignetSigningError {
            throw CLIError("pushing signature: \(e.message)")
        }
    }
}

/// Helpers shared by the signature commands (sign, verify, attach, triangulate, tree, clean, prune).
enum SignatureCLI {
    /// cosign's warning for signing a tag (internal/ui/warnings.go).
    static func tagReferenceMessage(_ image: String) -> String {
        """
        Image reference \(image) uses a tag, not a digest, to identify the image to sign.
            This can lead you to sign a different image than the intended one. Please use a
            digest (example.com/ubuntu@sha256:abc123...) rather than tag
            (example.com/ubuntu:latest) for the input to cosign. The ability to refer to
            images by tag will be removed in a future release.

        """
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("WARNING: \(message)\n".utf8))
    }

    static func info(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    /// `k=v` pairs into a map (the value may contain `=`).
    static func parseAnnotations(_ pairs: [String]) throws -> [String: String] {
        var map: [String: String] = [:]
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw ValidationError("annotation '\(pair)' is not key=value")
            }
            map[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        return map
    }

    /// `--signature-repository`, else `COSIGN_REPOSITORY`, else nil.
    static func signatureRepository(flag: String?) throws -> SignatureRepository? {
        let env = ProcessInfo.processInfo.environment["COSIGN_REPOSITORY"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = flag ?? env else { return nil }
        do { return try SignatureRepository(parsing: text) } catch let e as SignetSigningError { throw CLIError(e.message) }
    }

    static func readFile(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        return String(decoding: data, as: UTF8.self)
    }

    static func readData(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        return data
    }

    static func write(_ data: Data, to path: String) throws {
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw CLIError("cannot write \(path): \(error.localizedDescription.lowercased())")
        }
    }

    /// Runs a key lookup, turning library errors into `Error: ...` messages.
    static func keyed<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as SignetSigningError { throw CLIError(e.message) }
    }

    /// Resolves `reference` to a digest reference (a digest is kept as given).
    static func resolveDigest(_ reference: Reference, client: RegistryClient) async throws -> Reference {
        if reference.digest != nil { return reference }
        do {
            return reference.withDigest(try await client.resolve(reference).digest)
        } catch let e as SignetOCIError where e.code == .notFound {
            throw CLIError("image \(reference) not found")
        }
    }
}
