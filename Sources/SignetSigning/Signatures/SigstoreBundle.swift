import Foundation
import SignetOCI

/// A Sigstore bundle (`application/vnd.dev.sigstore.bundle.v0.3+json`, protobuf-specs
/// `sigstore_bundle.proto` in its JSON form) as far as key-based verification needs it.
public struct SigstoreBundle: Sendable, Hashable {
    /// The media types of bundles cosign writes and reads.
    public static let mediaTypes: Set<String> = [
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
    ]
    /// OCI annotation on referrer manifests: `dsse-envelope` or `message-signature`.
    public static let contentAnnotation = "dev.sigstore.bundle.content"
    /// OCI annotation on referrer manifests: the statement's predicate type.
    public static let predicateTypeAnnotation = "dev.sigstore.bundle.predicateType"

    /// What the bundle signs.
    public enum Content: Sendable, Hashable {
        case dsseEnvelope(DSSEEnvelope)
        /// `messageSignature`: a signature over an artifact whose digest is given.
        case messageSignature(digestAlgorithm: String, digest: Data, signature: Data)
    }

    public var mediaType: String
    /// `verificationMaterial.publicKey.hint`, if any.
    public var publicKeyHint: String?
    public var content: Content

    public init(mediaType: String = "application/vnd.dev.sigstore.bundle.v0.3+json", publicKeyHint: String? = nil, content: Content) {
        self.mediaType = mediaType
        self.publicKeyHint = publicKeyHint
        self.content = content
    }

    /// Parses bundle JSON; throws `invalidPayload` for an unknown media type or missing content.
    public init(parsing data: Data) throws {
        struct Raw: Decodable {
            struct Material: Decodable {
                struct Key: Decodable { var hint: String? }
                var publicKey: Key?
            }
            struct MessageSignature: Decodable {
                struct MessageDigest: Decodable { var algorithm: String?; var digest: String? }
                var messageDigest: MessageDigest?
                var signature: String?
            }
            var mediaType: String?
            var verificationMaterial: Material?
            var dsseEnvelope: DSSEEnvelope?
            var messageSignature: MessageSignature?
        }
        let raw: Raw
        do { raw = try JSONDecoder().decode(Raw.self, from: data) } catch {
            throw SignetSigningError(.invalidPayload, "sigstore bundle could not be parsed", underlying: error)
        }
        guard let mediaType = raw.mediaType, Self.mediaTypes.contains(mediaType) else {
            throw SignetSigningError(.invalidPayload, "sigstore bundle media type '\(raw.mediaType ?? "")' is not supported")
        }
        self.mediaType = mediaType
        self.publicKeyHint = raw.verificationMaterial?.publicKey?.hint
        if let envelope = raw.dsseEnvelope {
            content = .dsseEnvelope(envelope)
        } else if let message = raw.messageSignature,
                  let digest = message.messageDigest?.digest.flatMap({ Data(base64Encoded: $0) }),
                  let signature = message.signature.flatMap({ Data(base64Encoded: $0) }) {
            content = .messageSignature(digestAlgorithm: message.messageDigest?.algorithm ?? "", digest: digest, signature: signature)
        } else {
            throw SignetSigningError(.invalidPayload, "sigstore bundle has neither dsseEnvelope nor messageSignature")
        }
    }

    /// The bundle's JSON (protobuf JSON field names, compact).
    public func encoded() -> Data {
        var material: [(String, GoJSON)] = []
        material.append(("publicKey", .object(publicKeyHint.map { [("hint", GoJSON.string($0))] } ?? [])))
        material.append(("tlogEntries", .array([])))
        var fields: [(String, GoJSON)] = [("mediaType", .string(mediaType)), ("verificationMaterial", .object(material))]
        switch content {
        case .dsseEnvelope(let envelope):
            fields.append(("dsseEnvelope", .object([
                ("payload", .string(envelope.payload)),
                ("payloadType", .string(envelope.payloadType)),
                ("signatures", .array(envelope.signatures.map { .object([("sig", .string($0.sig)), ("keyid", .string($0.keyid ?? ""))]) })),
            ])))
        case .messageSignature(let algorithm, let digest, let signature):
            fields.append(("messageSignature", .object([
                ("messageDigest", .object([("algorithm", .string(algorithm)), ("digest", .string(digest.base64EncodedString()))])),
                ("signature", .string(signature.base64EncodedString())),
            ])))
        }
        return GoJSON.object(fields).encoded()
    }

    /// Builds the referrer manifest cosign v3 pushes for a bundle blob: artifactType = bundle media
    /// type, empty config, one layer, `subject` = the image [cosign specs/BUNDLE_SPEC.md].
    public static func referrerManifest(bundle: Data, subject: Descriptor, predicateType: String?, created: String) -> ImageManifest {
        let emptyConfig = Descriptor(mediaType: .ociEmpty, content: Data("{}".utf8))
        let bundleDigest = Digest.sha256(bundle)
        let layer = Descriptor(mediaType: .sigstoreBundle, digest: bundleDigest, size: Int64(bundle.count),
                               annotations: ["org.opencontainers.image.title": "\(bundleDigest.tagSafe).sigstore.json"])
        var annotations = [contentAnnotation: "dsse-envelope", "org.opencontainers.image.created": created]
        if let predicateType { annotations[predicateTypeAnnotation] = predicateType }
        return ImageManifest(mediaType: .ociManifest, artifactType: .sigstoreBundle, config: emptyConfig, layers: [layer],
                             subject: subject, annotations: annotations)
    }
}
