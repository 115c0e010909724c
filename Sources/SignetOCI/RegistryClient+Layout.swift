import Foundation

extension OCILayout {
    /// The `index.json` annotation cosign uses to mark what a manifest is (`cosign save`).
    public static let kindAnnotation = "kind"
    /// `kind` of the signed image itself.
    public static let imageKind = "dev.cosignproject.cosign/image"
    /// `kind` of a signed image index.
    public static let imageIndexKind = "dev.cosignproject.cosign/imageIndex"
    /// `kind` of the `.sig` signature manifest.
    public static let signaturesKind = "dev.cosignproject.cosign/sigs"
    /// `kind` of the `.att` attestation manifest.
    public static let attestationsKind = "dev.cosignproject.cosign/atts"

    /// The first manifest in `index.json` whose `kind` annotation is `kind`.
    public func manifest(kind: String) throws -> Descriptor? {
        try index().manifests.first { $0.annotations?[OCILayout.kindAnnotation] == kind }
    }
}

extension RegistryClient {
    /// Copies the manifest `reference` names (and, for an index, its child manifests) with every blob
    /// into `layout`, and adds it to `index.json` with `annotations`. Returns the added descriptor.
    @discardableResult
    public func copy(_ reference: Reference, to layout: OCILayout, annotations: [String: String]? = nil) async throws -> Descriptor {
        let fetched = try await getManifest(reference)
        try await copyContent(fetched, repository: reference.repositoryOnly, to: layout, depth: 0)
        var descriptor = fetched.descriptor
        descriptor.annotations = annotations
        try layout.appendToIndex(descriptor)
        return descriptor
    }

    private func copyContent(_ fetched: FetchedManifest, repository: Reference, to layout: OCILayout, depth: Int) async throws {
        guard depth < 4 else { throw SignetOCIError(.invalidFormat, "image index nested too deeply") }
        if fetched.mediaType.isIndex {
            for child in try fetched.imageIndex().manifests where child.mediaType.isManifest {
                guard !layout.hasBlob(child.digest) else { continue }
                let childManifest = try await getManifest(repository.withDigest(child.digest))
                try await copyContent(childManifest, repository: repository, to: layout, depth: depth + 1)
            }
        } else {
            let manifest = try fetched.imageManifest()
            for blob in [manifest.config] + manifest.layers where !layout.hasBlob(blob.digest) {
                let data = try await getBlob(repository, digest: blob.digest)
                try layout.writeBlob(data)
            }
        }
        try layout.writeBlob(fetched.bytes)
    }

    /// Pushes the manifest `descriptor` from `layout` (with its blobs and, for an index, its child
    /// manifests) to `reference` (a tag or digest). Returns the manifest digest.
    @discardableResult
    public func push(_ descriptor: Descriptor, from layout: OCILayout, to reference: Reference) async throws -> Digest {
        try await pushContent(descriptor, from: layout, repository: reference.repositoryOnly, depth: 0)
        let bytes = try layout.readBlob(descriptor.digest)
        let target = reference.digest == nil && reference.tag == nil ? reference.withDigest(descriptor.digest) : reference
        return try await putManifest(bytes, mediaType: descriptor.mediaType, to: target)
    }

    private func pushContent(_ descriptor: Descriptor, from layout: OCILayout, repository: Reference, depth: Int) async throws {
        guard depth < 4 else { throw SignetOCIError(.invalidFormat, "image index nested too deeply") }
        let fetched = try layout.manifest(descriptor)
        if fetched.mediaType.isIndex {
            for child in try fetched.imageIndex().manifests where child.mediaType.isManifest {
                try await pushContent(child, from: layout, repository: repository, depth: depth + 1)
                try await putManifest(try layout.readBlob(child.digest), mediaType: child.mediaType, to: repository.withDigest(child.digest))
            }
        } else {
            let manifest = try fetched.imageManifest()
            for blob in [manifest.config] + manifest.layers {
                guard layout.hasBlob(blob.digest) else {
                    throw SignetOCIError(.notFound, "blob \(blob.digest) is missing from the oci layout at \(layout.root.path)")
                }
                try await pushBlob(try layout.readBlob(blob.digest), mediaType: blob.mediaType, to: repository)
            }
        }
    }

    /// Pushes an image held in memory: every blob in `blobs` then the manifest, to `reference`.
    @discardableResult
    public func pushImage(manifest: Data, mediaType: MediaType = .ociManifest, blobs: [Data], to reference: Reference) async throws -> Digest {
        for blob in blobs { try await pushBlob(blob, to: reference.repositoryOnly) }
        let target = reference.digest == nil && reference.tag == nil ? reference.withDigest(.sha256(manifest)) : reference
        return try await putManifest(manifest, mediaType: mediaType, to: target)
    }
}
