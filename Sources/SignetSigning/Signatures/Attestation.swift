import Foundation
import SignetOCI

/// An in-toto predicate type as cosign's `--type` names it [sigstore/cosign:cmd/cosign/cli/options/predicate.go].
///
/// An open set: the cosign words map to URIs, and any absolute URI is its own type.
public struct AttestationPredicateType: Sendable, Hashable, CustomStringConvertible {
    /// The predicate type URI written into the statement and the `predicateType` annotation.
    public let uri: String
    /// How the predicate file becomes the statement's `predicate`.
    public let encoding: PredicateEncoding

    /// How cosign turns the predicate file into the `predicate` field [cosign pkg/cosign/attestation].
    public enum PredicateEncoding: Sendable, Hashable {
        /// `{"Data": FILE AS STRING, "Timestamp": RFC3339}` (cosign's generic predicate).
        case cosignCustom
        /// The file as a JSON string (`spdx`).
        case string
        /// The file parsed as JSON (every other type, custom URIs included).
        case json
    }

    public init(uri: String, encoding: PredicateEncoding) {
        self.uri = uri
        self.encoding = encoding
    }

    public static let custom = AttestationPredicateType(uri: "https://cosign.sigstore.dev/attestation/v1", encoding: .cosignCustom)
    public static let slsaProvenance02 = AttestationPredicateType(uri: "https://slsa.dev/provenance/v0.2", encoding: .json)
    public static let slsaProvenance1 = AttestationPredicateType(uri: "https://slsa.dev/provenance/v1", encoding: .json)
    public static let spdx = AttestationPredicateType(uri: "https://spdx.dev/Document", encoding: .string)
    public static let spdxJSON = AttestationPredicateType(uri: "https://spdx.dev/Document", encoding: .json)
    public static let cycloneDX = AttestationPredicateType(uri: "https://cyclonedx.org/bom", encoding: .json)
    public static let link = AttestationPredicateType(uri: "https://in-toto.io/Link/v1", encoding: .json)
    public static let vuln = AttestationPredicateType(uri: "https://cosign.sigstore.dev/attestation/vuln/v1", encoding: .json)
    public static let openVEX = AttestationPredicateType(uri: "https://openvex.dev/ns", encoding: .json)

    /// Parses cosign's `--type`: `custom`, `slsaprovenance`, `slsaprovenance02`, `slsaprovenance1`,
    /// `spdx`, `spdxjson`, `cyclonedx`, `link`, `vuln`, `openvex`, or an absolute URI.
    public init(parsing name: String) throws {
        switch name {
        case "custom": self = .custom
        case "slsaprovenance", "slsaprovenance02": self = .slsaProvenance02
        case "slsaprovenance1": self = .slsaProvenance1
        case "spdx": self = .spdx
        case "spdxjson": self = .spdxJSON
        case "cyclonedx": self = .cycloneDX
        case "link": self = .link
        case "vuln": self = .vuln
        case "openvex": self = .openVEX
        default:
            // cosign: url.ParseRequestURI must accept it (an absolute URI or an absolute path).
            guard name.count <= 2048, let url = URL(string: name), url.scheme != nil || name.hasPrefix("/"),
                  !name.contains(where: { $0 == " " || $0.isNewline }) else {
                throw SignetSigningError(.invalidPayload, "invalid predicate type: \(name)")
            }
            // A custom URI carries a JSON predicate [cosign generateCustomPredicate].
            self.init(uri: name, encoding: .json)
        }
    }

    public var description: String { uri }
}

/// Builds the in-toto statements and DSSE envelopes `cosign attest` writes.
///
/// Statement: in-toto v0.1, fields in in-toto-golang's order (`_type`, `predicateType`, `subject`,
/// `predicate`), subject = the image repository with its sha256. Envelope: go-securesystemslib's
/// `{"payloadType","payload","signatures":[{"keyid","sig"}]}`, the signature over the DSSE PAE.
public struct ImageAttester: Sendable {
    /// The layer annotation cosign writes with the predicate type URI.
    public static let predicateTypeAnnotation = "predicateType"
    /// Predicate files larger than this are refused (the statement must fit one payload).
    public static let maxPredicateBytes = 1 << 20

    public let signer: any SignatureSigner

    public init(signer: any SignatureSigner) {
        self.signer = signer
    }

    /// The statement bytes for `predicate` (the file contents) of `type` about `repository`@`digest`.
    public static func statement(predicate: Data, type: AttestationPredicateType, repository: String,
                                 digest: Digest, timestamp: Date = Date()) throws -> Data {
        guard predicate.count <= maxPredicateBytes else {
            throw SignetSigningError(.limitExceeded, "predicate has \(predicate.count) bytes, more than the cap of \(maxPredicateBytes) bytes")
        }
        let body: GoJSON
        switch type.encoding {
        case .cosignCustom:
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            formatter.timeZone = TimeZone(identifier: "UTC")
            body = .object([("Data", .string(String(decoding: predicate, as: UTF8.self))),
                            ("Timestamp", .string(formatter.string(from: timestamp)))])
        case .string:
            body = .string(String(decoding: predicate, as: UTF8.self))
        case .json:
            do { body = try GoJSON(parsing: predicate) } catch {
                throw SignetSigningError(.invalidPayload, "invalid JSON payload for predicate type \(type.uri)", underlying: error)
            }
        }
        return GoJSON.object([
            ("_type", .string(InTotoStatement.typeV01)),
            ("predicateType", .string(type.uri)),
            ("subject", .array([.object([("name", .string(repository)),
                                         ("digest", .map([digest.algorithm: .string(digest.encoded)]))])])),
            ("predicate", body),
        ]).encoded()
    }

    /// A signed attestation: the statement and its DSSE envelope as cosign serializes it.
    public struct Signed: Sendable, Hashable {
        public let statement: Data
        public let envelope: DSSEEnvelope
        public let predicateType: AttestationPredicateType
        /// The envelope JSON stored as the `.att` layer blob.
        public var envelopeJSON: Data { ImageAttester.encode(envelope) }
    }

    /// go-securesystemslib's envelope JSON: `payloadType`, `payload`, `signatures[{keyid, sig}]`.
    public static func encode(_ envelope: DSSEEnvelope) -> Data {
        GoJSON.object([
            ("payloadType", .string(envelope.payloadType)),
            ("payload", .string(envelope.payload)),
            ("signatures", .array(envelope.signatures.map { .object([("keyid", .string($0.keyid ?? "")), ("sig", .string($0.sig))]) })),
        ]).encoded()
    }

    /// Makes and signs the statement for `image` (its repository names the subject) at `digest`.
    public func attest(image: Reference, digest: Digest, predicate: Data, type: AttestationPredicateType,
                       timestamp: Date = Date()) async throws -> Signed {
        let statement = try Self.statement(predicate: predicate, type: type, repository: image.repositoryName,
                                           digest: digest, timestamp: timestamp)
        let envelope = try await DSSEEnvelope.sign(payload: statement, with: signer)
        return Signed(statement: statement, envelope: envelope, predicateType: type)
    }

    /// The `.att` layer cosign writes for `signed`: DSSE media type, an empty signature annotation
    /// (the signature is inside the envelope) and `predicateType` [cosign pkg/oci/static NewAttestation].
    public static func layer(for signed: Signed) -> SignatureLayer {
        let blob = signed.envelopeJSON
        return SignatureLayer(mediaType: .inTotoDSSE, digest: .sha256(blob), size: Int64(blob.count),
                              annotations: [SignatureLayer.signatureAnnotation: "",
                                            predicateTypeAnnotation: signed.predicateType.uri])
    }

    /// Appends `signed` to the `sha256-HEX.att` image of `image` (a digest reference). With `replace`,
    /// earlier attestations of the same predicate type are dropped first (cosign `--replace`).
    @discardableResult
    public func upload(_ signed: Signed, to image: Reference, signatureRepository: SignatureRepository? = nil,
                       replace: Bool = false, store: SignatureStore) async throws -> SignatureStore.AppendResult {
        let layer = Self.layer(for: signed)
        if replace {
            let digest = try SignatureStore.requireDigest(image)
            let target = try SignatureStore.signatureReference(image: image, digest: digest, kind: .attestation,
                                                               signatureRepository: signatureRepository)
            var current = try await store.currentImage(target)
            let before = current.layers.count
            current.layers.removeAll { $0.annotations[Self.predicateTypeAnnotation] == signed.predicateType.uri }
            if current.layers.count != before {
                let (manifest, config) = current.encoded()
                try await store.client.pushBlob(config, mediaType: .ociConfig, to: target.repositoryOnly)
                try await store.client.putManifest(manifest, mediaType: .ociManifest, to: target)
            }
        }
        return try await store.append(layer, blob: signed.envelopeJSON, to: image, kind: .attestation,
                                      signatureRepository: signatureRepository)
    }

    /// The attestation as a cosign v3 Sigstore bundle (key-based, no tlog entry).
    public func bundle(for signed: Signed) async throws -> Data {
        let publicKey = try await signer.publicKey()
        let hint = Digest.sha256(publicKey.derRepresentation).encoded
        return SigstoreBundle(publicKeyHint: hint, content: .dsseEnvelope(signed.envelope)).encoded()
    }
}

extension SignatureStore {
    /// Attaches an attestation bundle to `image` (a digest reference) as an OCI 1.1 referrer whose
    /// `dev.sigstore.bundle.predicateType` annotation names the attestation's predicate type.
    @discardableResult
    public func attachAttestationBundle(_ bundle: Data, predicateType: String, to image: Reference,
                                        subjectMediaType: MediaType, subjectSize: Int64,
                                        created: String = "1970-01-01T00:00:00Z") async throws -> Descriptor {
        let digest = try Self.requireDigest(image)
        let repository = image.repositoryOnly
        let subject = Descriptor(mediaType: subjectMediaType, digest: digest, size: subjectSize)
        let manifest = SigstoreBundle.referrerManifest(bundle: bundle, subject: subject, predicateType: predicateType, created: created)
        try await client.pushBlob(Data("{}".utf8), mediaType: .ociEmpty, to: repository)
        try await client.pushBlob(bundle, mediaType: .sigstoreBundle, to: repository)
        return try await client.pushReferrer(manifest.jsonData(), mediaType: .ociManifest, artifactType: .sigstoreBundle,
                                             annotations: manifest.annotations, subject: image)
    }
}
