import Foundation
import SignetOCI

/// Where the signatures of one image are read from: a registry, or a `cosign save` layout.
///
/// Implementations return content already checked against its digest.
public protocol SignatureSource: Sendable {
    /// The classic signature manifest (`sha256-HEX.sig`) of `image`, or nil when there is none.
    func classicSignatureManifest(for image: Digest) async throws -> Data?
    /// Descriptors of the OCI 1.1 referrers of `image` whose artifact type is a Sigstore bundle
    /// (from the referrers API or the `sha256-HEX` fallback index).
    func bundleReferrers(for image: Digest) async throws -> [Descriptor]
    /// A manifest by digest (digest-checked).
    func manifest(_ digest: Digest) async throws -> Data
    /// A blob by digest (digest-checked), refusing more than `maxSize` bytes.
    func blob(_ digest: Digest, maxSize: Int) async throws -> Data
}

/// The signatures saved with an image in an OCI layout, as `cosign save` writes it: index.json
/// entries annotated `kind: dev.cosignproject.cosign/image` and `kind: dev.cosignproject.cosign/sigs`
/// [sigstore/cosign:pkg/oci/layout]. Bundle referrers are index entries with the bundle artifact type.
public struct LayoutSignatureSource: SignatureSource {
    public static let kindAnnotation = "kind"
    public static let imageKind = "dev.cosignproject.cosign/image"
    public static let imageIndexKind = "dev.cosignproject.cosign/imageIndex"
    public static let signaturesKind = "dev.cosignproject.cosign/sigs"
    public static let attestationsKind = "dev.cosignproject.cosign/atts"

    public let layout: OCILayout

    public init(layout: OCILayout) {
        self.layout = layout
    }

    /// The digest of the saved image (or image index): the entry of kind `image`/`imageIndex`, else the
    /// single entry without a kind.
    public func imageDigest() throws -> Digest {
        let entries = try layout.index().manifests
        if let entry = entries.first(where: { [Self.imageKind, Self.imageIndexKind].contains($0.annotations?[Self.kindAnnotation] ?? "") }) {
            return entry.digest
        }
        let plain = entries.filter { $0.annotations?[Self.kindAnnotation] == nil && $0.artifactType == nil }
        guard plain.count == 1 else {
            throw SignetSigningError(.invalidPayload, "the oci layout at \(layout.root.path) has no entry of kind \(Self.imageKind)")
        }
        return plain[0].digest
    }

    public func classicSignatureManifest(for image: Digest) async throws -> Data? {
        guard let entry = try layout.index().manifests.first(where: { $0.annotations?[Self.kindAnnotation] == Self.signaturesKind }) else {
            return nil
        }
        return try layout.readBlob(entry.digest)
    }

    public func bundleReferrers(for image: Digest) async throws -> [Descriptor] {
        try layout.index().manifests.filter { $0.artifactType == .sigstoreBundle }
    }

    public func manifest(_ digest: Digest) async throws -> Data {
        try layout.readBlob(digest)
    }

    public func blob(_ digest: Digest, maxSize: Int) async throws -> Data {
        let attributes = try? FileManager.default.attributesOfItem(atPath: layout.blobURL(digest).path)
        if let size = attributes?[.size] as? Int, size > maxSize {
            throw SignetSigningError(.limitExceeded, "blob \(digest) has \(size) bytes, more than the cap of \(maxSize) bytes per payload")
        }
        return try layout.readBlob(digest)
    }
}
