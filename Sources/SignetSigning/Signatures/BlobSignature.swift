import Crypto
import Foundation
import SignetOCI

/// Signatures over arbitrary files, as `cosign sign-blob` / `verify-blob` make and read them:
/// the signature is made over the blob bytes themselves (the signer hashes them: SHA-256 for
/// ECDSA P-256), printed base64 (standard alphabet, padded).
///
/// Two bundle files carry it [sigstore/cosign pkg/cosign LocalSignedPayload; protobuf-specs
/// sigstore_bundle.proto]:
/// - cosign's `--bundle` file: `{"base64Signature":"B64"}` (plus `cert` and `rekorBundle` when
///   there are a certificate or a transparency-log entry, which key-based signing without a log
///   does not have);
/// - the Sigstore bundle (`--new-bundle-format`): `messageSignature` with the blob's SHA-256
///   `messageDigest` and the signature.
public enum BlobSignature {
    /// Files larger than this are refused (they are read into memory to be hashed and signed).
    public static let maxBlobSize = 2 << 30
    /// Signature and bundle files larger than this are refused.
    public static let maxSignatureFileSize = 1 << 20

    /// A bundle file, as read by `verify-blob --bundle`.
    public enum Bundle: Sendable, Equatable {
        /// cosign's `LocalSignedPayload`: the signature (and a certificate PEM, unused with keys).
        case cosign(signature: Data, certificate: String?)
        /// A Sigstore bundle with a `messageSignature`.
        case sigstore(digestAlgorithm: String, digest: Data, signature: Data)

        /// Reads either form: a Sigstore bundle when it has a `mediaType`, else cosign's.
        public init(parsing data: Data) throws {
            guard data.count <= BlobSignature.maxSignatureFileSize else {
                throw SignetSigningError(.limitExceeded, "bundle is larger than \(BlobSignature.maxSignatureFileSize) bytes")
            }
            struct Probe: Decodable {
                var mediaType: String?
                var base64Signature: String?
                var cert: String?
            }
            let probe: Probe
            do { probe = try JSONDecoder().decode(Probe.self, from: data) } catch {
                throw SignetSigningError(.invalidPayload, "bundle is not valid json", underlying: error)
            }
            if probe.mediaType != nil {
                let bundle = try SigstoreBundle(parsing: data)
                guard case .messageSignature(let algorithm, let digest, let signature) = bundle.content else {
                    throw SignetSigningError(.invalidPayload, "sigstore bundle holds a dsse envelope, not a blob signature")
                }
                self = .sigstore(digestAlgorithm: algorithm, digest: digest, signature: signature)
            } else if let b64 = probe.base64Signature {
                self = .cosign(signature: try BlobSignature.decodeSignature(Data(b64.utf8)),
                               certificate: probe.cert.flatMap { $0.isEmpty ? nil : $0 })
            } else {
                throw SignetSigningError(.invalidPayload, "bundle has neither base64Signature nor mediaType")
            }
        }

        /// The signature bytes (DER for ECDSA).
        public var signature: Data {
            switch self {
            case .cosign(let signature, _): signature
            case .sigstore(_, _, let signature): signature
            }
        }
    }

    /// cosign's `--bundle` JSON for a key-based signature without a transparency log:
    /// `{"base64Signature":"B64"}` (Go's encoder: no spaces, no trailing newline).
    public static func cosignBundle(signature: Data) -> Data {
        GoJSON.object([("base64Signature", .string(signature.base64EncodedString()))]).encoded()
    }

    /// The Sigstore bundle (v0.3) for a blob signature: `messageDigest` = SHA-256 of the blob.
    public static func sigstoreBundle(blob: Data, signature: Data, publicKey: PublicKey?) -> Data {
        let hint = publicKey.map { Digest.sha256($0.derRepresentation).encoded }
        let digest = Data(SHA256.hash(data: blob))
        return SigstoreBundle(publicKeyHint: hint,
                              content: .messageSignature(digestAlgorithm: "SHA2_256", digest: digest, signature: signature)).encoded()
    }

    /// Decodes a signature given as base64 text (a file or a flag); surrounding whitespace is
    /// ignored, as cosign does.
    public static func decodeSignature(_ text: Data) throws -> Data {
        guard text.count <= maxSignatureFileSize else {
            throw SignetSigningError(.limitExceeded, "signature is larger than \(maxSignatureFileSize) bytes")
        }
        let trimmed = String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, let data = Data(base64Encoded: trimmed) else {
            throw SignetSigningError(.invalidSignature, "signature is not valid base64")
        }
        return data
    }

    /// Signs `blob` with `signer`; returns the raw signature bytes.
    public static func sign(blob: Data, signer: any SignatureSigner) async throws -> Data {
        try await signer.sign(blob)
    }

    /// Whether `signature` over `blob` verifies with `verifier`. For a Sigstore bundle the
    /// `messageDigest` must also be the blob's SHA-256 (a bundle for another file never verifies).
    public static func verify(blob: Data, bundle: Bundle, verifier: any SignatureVerifier) async throws -> Bool {
        if case .sigstore(let algorithm, let digest, _) = bundle {
            guard algorithm == "SHA2_256", digest == Data(SHA256.hash(data: blob)) else { return false }
        }
        return try await verifier.verify(signature: bundle.signature, payload: blob)
    }

    /// Whether `signature` over `blob` verifies with `verifier`.
    public static func verify(blob: Data, signature: Data, verifier: any SignatureVerifier) async throws -> Bool {
        try await verifier.verify(signature: signature, payload: blob)
    }
}
