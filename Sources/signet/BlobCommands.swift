import ArgumentParser
import Foundation
import SignetOCI
import SignetSigning

/// `signet sign-blob --key K [--output-signature F] [--bundle F] FILE`: cosign's `sign-blob` with
/// a key (file, `env://`, `hashivault://`, `openbao://`). stderr `Using payload from: FILE`;
/// stdout the base64 signature.
struct SignBlobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sign-blob", abstract: "Sign a file (a release artifact) as cosign sign-blob does.")

    @Option(name: .long, help: ArgumentHelp("The private key: a path, env://VAR, or a KMS URI (hashivault://KEY).", valueName: "key"))
    var key: String

    @Option(name: [.customLong("output-signature"), .customLong("output")], help: ArgumentHelp("Also write the base64 signature to this file.", valueName: "file"))
    var outputSignature: String?

    @Option(name: .long, help: ArgumentHelp("Write everything needed to verify the blob to this file (cosign's bundle JSON, or a Sigstore bundle with --new-bundle-format).", valueName: "file"))
    var bundle: String?

    @Flag(name: .customLong("new-bundle-format"), help: "Write --bundle as a Sigstore bundle (messageSignature) as cosign v3 does.")
    var newBundleFormat = false

    @Option(name: .customLong("b64"), help: "Base64-encode the signature printed and written (default true).")
    var base64 = true

    @Option(name: .customLong("tlog-upload"), help: "Accepted for cosign compatibility: Signet never uploads to a transparency log.")
    var tlogUpload = false

    @Flag(name: [.customShort("y"), .long], help: "Accepted for cosign compatibility (no prompt is ever shown).")
    var yes = false

    @Argument(help: "The file to sign (`-` for standard input).")
    var file: String

    func validate() throws {
        if newBundleFormat && bundle == nil { throw ValidationError("--new-bundle-format needs --bundle FILE") }
    }

    func run() async throws {
        let blob = try BlobFiles.readBlob(file)
        SignatureCLI.info("Using payload from: \(file)")
        let signer = try await SignatureCLI.keyed { try await KeyOptions.signer(for: key) }
        let signature = try await SignatureCLI.keyed { try await BlobSignature.sign(blob: blob, signer: signer) }
        let text = base64 ? Data(signature.base64EncodedString().utf8) : signature
        if let outputSignature {
            try SignatureCLI.write(text, to: outputSignature)
            SignatureCLI.info("Wrote signature to file \(outputSignature)")
        }
        if let bundle {
            let bytes: Data
            if newBundleFormat {
                let publicKey = try await SignatureCLI.keyed { try await signer.publicKey() }
                bytes = BlobSignature.sigstoreBundle(blob: blob, signature: signature, publicKey: publicKey)
            } else {
                bytes = BlobSignature.cosignBundle(signature: signature)
            }
            try SignatureCLI.write(bytes, to: bundle)
            SignatureCLI.info("Wrote bundle to file \(bundle)")
        }
        if outputSignature == nil {
            FileHandle.standardOutput.write(text)
            if base64 { FileHandle.standardOutput.write(Data("\n".utf8)) }
        }
    }
}

/// `signet verify-blob --key K (--signature S | --bundle B) FILE`: cosign's `verify-blob` with a
/// key; `Verified OK` on stderr, else `Error: ...` and exit 1. Works with `hashivault://` keys
/// (every key version from `min_decryption_version`), which cosign's own verify-blob cannot
/// (sigstore/cosign#4467).
struct VerifyBlobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify-blob", abstract: "Verify a file's signature as cosign verify-blob does.")

    @Option(name: .long, help: ArgumentHelp("The public key: a path, env://VAR, or a KMS URI (hashivault://KEY).", valueName: "key"))
    var key: String

    @Option(name: .long, help: ArgumentHelp("The signature: a file holding it base64, or the base64 text itself.", valueName: "signature"))
    var signature: String?

    @Option(name: .long, help: ArgumentHelp("A bundle written by sign-blob --bundle (cosign's or a Sigstore bundle).", valueName: "file"))
    var bundle: String?

    @Flag(name: .customLong("insecure-ignore-tlog"), help: "Accepted for cosign compatibility: Signet never consults a transparency log.")
    var insecureIgnoreTlog = false

    @Argument(help: "The file whose signature is checked (`-` for standard input).")
    var file: String

    func validate() throws {
        if signature == nil && bundle == nil { throw ValidationError("--signature or --bundle is required") }
    }

    func run() async throws {
        let blob = try BlobFiles.readBlob(file)
        let verifier = try await SignatureCLI.keyed { try await KeyOptions.verifier(for: key) }
        let ok: Bool = try await SignatureCLI.keyed {
            if let bundle {
                let parsed = try BlobSignature.Bundle(parsing: try BlobFiles.readSmall(bundle))
                if let signature {
                    // Both given: the signature must be the bundle's.
                    guard try BlobFiles.signatureBytes(signature) == parsed.signature else { return false }
                }
                return try await BlobSignature.verify(blob: blob, bundle: parsed, verifier: verifier)
            }
            guard let signature else { return false }
            return try await BlobSignature.verify(blob: blob, signature: try BlobFiles.signatureBytes(signature), verifier: verifier)
        }
        guard ok else { throw CLIError("invalid signature when validating ASN.1 encoded signature") }
        SignatureCLI.info("Verified OK")
    }
}

/// Reading blobs and signature files for the blob commands: bounded, `-` for standard input.
enum BlobFiles {
    static func readBlob(_ path: String) throws -> Data {
        if path == "-" {
            let data = (try? FileHandle.standardInput.read(upToCount: BlobSignature.maxBlobSize + 1)) ?? Data()
            guard data.count <= BlobSignature.maxBlobSize else { throw CLIError("standard input is larger than \(BlobSignature.maxBlobSize) bytes") }
            return data
        }
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
            throw CLIError("cannot read \(path): no such file")
        }
        if let size = attributes[.size] as? NSNumber, size.int64Value > Int64(BlobSignature.maxBlobSize) {
            throw CLIError("\(path) is larger than \(BlobSignature.maxBlobSize) bytes")
        }
        do { return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw CLIError("cannot read \(path): \(error.localizedDescription)")
        }
    }

    static func readSmall(_ path: String) throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIError("cannot read \(path): no such file") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: BlobSignature.maxSignatureFileSize + 1)) ?? Data()
        guard data.count <= BlobSignature.maxSignatureFileSize else { throw CLIError("\(path) is larger than \(BlobSignature.maxSignatureFileSize) bytes") }
        return data
    }

    /// `--signature`: a file holding the base64 signature, else the base64 text itself (as cosign).
    static func signatureBytes(_ value: String) throws -> Data {
        if FileManager.default.fileExists(atPath: value) {
            return try BlobSignature.decodeSignature(try readSmall(value))
        }
        return try BlobSignature.decodeSignature(Data(value.utf8))
    }
}
