import Foundation
import SignetOCI

/// Signs images as cosign does: the simple-signing payload for the image digest, signed with a
/// `SignatureSigner`, stored as a layer of the `sha256-HEX.sig` image.
public struct ImageSigner: Sendable {
    public let signer: any SignatureSigner

    public init(signer: any SignatureSigner) {
        self.signer = signer
    }

    /// A signed payload, before or after upload.
    public struct Signed: Sendable, Hashable {
        public let payload: Data
        public let signature: Data
        /// The standard base64 of `signature`, as stored in the annotation and written by `--output-signature`.
        public var signatureBase64: String { signature.base64EncodedString() }
    }

    /// Makes the payload for `image` (its repository goes into `docker-reference`) at `digest` with
    /// `annotations` in `optional`, and signs it.
    public func sign(image: Reference, digest: Digest, annotations: [String: String] = [:]) async throws -> Signed {
        let payload = SimpleSigningPayload(dockerReference: image.repositoryName, digest: digest, annotations: annotations).encoded()
        let signature = try await signer.sign(payload)
        return Signed(payload: payload, signature: signature)
    }

    /// Signs `image` (a digest reference) and appends the signature to its signature image.
    public func signAndUpload(image: Reference, annotations: [String: String] = [:],
                              signatureRepository: SignatureRepository? = nil,
                              store: SignatureStore) async throws -> (Signed, SignatureStore.AppendResult) {
        let digest = try SignatureStore.requireDigest(image)
        let signed = try await sign(image: image, digest: digest, annotations: annotations)
        let result = try await store.appendSignature(payload: signed.payload, signature: signed.signature, to: image,
                                                     signatureRepository: signatureRepository)
        return (signed, result)
    }

    /// A cosign v3 style Sigstore bundle for `image`@`digest`: a DSSE envelope over an in-toto
    /// statement with predicate type `https://sigstore.dev/cosign/sign/v1`, key-based (no tlog entry).
    public func bundle(image: Reference, digest: Digest) async throws -> Data {
        let statement = InTotoStatement(subjects: [.init(name: image.repositoryName, digest: [digest.algorithm: digest.encoded])],
                                        predicateType: InTotoStatement.cosignSignPredicateType)
        let envelope = try await DSSEEnvelope.sign(payload: statement.encoded(), with: signer)
        let publicKey = try await signer.publicKey()
        let hint = Digest.sha256(publicKey.derRepresentation).encoded
        return SigstoreBundle(publicKeyHint: hint, content: .dsseEnvelope(envelope)).encoded()
    }
}

extension SignatureStore {
    /// Attaches a Sigstore bundle to `image` (a digest reference) as an OCI 1.1 referrer, as cosign v3
    /// does; registries without the referrers API get the `sha256-HEX` fallback index.
    @discardableResult
    public func attachBundle(_ bundle: Data, to image: Reference, subjectMediaType: MediaType,
                             subjectSize: Int64, created: String = "1970-01-01T00:00:00Z") async throws -> Descriptor {
        let digest = try Self.requireDigest(image)
        let repository = image.repositoryOnly
        let subject = Descriptor(mediaType: subjectMediaType, digest: digest, size: subjectSize)
        let manifest = SigstoreBundle.referrerManifest(bundle: bundle, subject: subject,
                                                       predicateType: InTotoStatement.cosignSignPredicateType, created: created)
        try await client.pushBlob(Data("{}".utf8), mediaType: .ociEmpty, to: repository)
        try await client.pushBlob(bundle, mediaType: .sigstoreBundle, to: repository)
        return try await client.pushReferrer(manifest.jsonData(), mediaType: .ociManifest, artifactType: .sigstoreBundle,
                                             annotations: manifest.annotations, subject: image)
    }
}
