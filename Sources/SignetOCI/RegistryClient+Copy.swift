import Foundation

extension RegistryClient {
    /// The largest blob `copyBlob` moves between registries (it is held in memory on the way).
    public static let maxCopiedBlobSize = 2 << 30

    /// Copies one blob from `source` to `destination` (repositories): nothing when the destination
    /// has it, a cross-repository mount on the same registry, else download (digest-checked) and
    /// upload.
    public func copyBlob(_ descriptor: Descriptor, from source: Reference, to destination: Reference) async throws {
        if try await blobExists(destination, digest: descriptor.digest) { return }
        if source.registry == destination.registry,
           (try? await mountBlob(descriptor.digest, from: source, to: destination)) == true {
            return
        }
        guard descriptor.size >= 0, descriptor.size <= Int64(Self.maxCopiedBlobSize) else {
            throw SignetOCIError(.sizeMismatch, "blob \(descriptor.digest) is \(descriptor.size) bytes, over the \(Self.maxCopiedBlobSize)-byte copy limit")
        }
        let data = try await getBlob(source, digest: descriptor.digest, maxSize: Int(descriptor.size))
        try await pushBlob(data, mediaType: descriptor.mediaType, to: destination)
    }

    /// Copies the manifest `source` names (a tag or digest) with every blob, and for an index every
    /// child manifest, into the repository of `destination`, byte for byte (digests are kept).
    /// The top manifest is written to `destination` (its tag, or by digest when it has none) unless
    /// `tagDestination` is false. Returns the manifest copied and the digests of every manifest
    /// written (the top one and its children), for copying their signatures.
    @discardableResult
    public func copyManifest(_ source: FetchedManifest, from sourceRepository: Reference, to destination: Reference,
                             tagDestination: Bool = true) async throws -> [Digest] {
        var written: [Digest] = []
        try await copyContent(source, from: sourceRepository.repositoryOnly, to: destination.repositoryOnly, depth: 0, written: &written)
        var target = destination.repositoryOnly.withDigest(source.digest)
        if tagDestination, let tag = destination.tag { target = try destination.repositoryOnly.withTag(tag) }
        try await putManifest(source.bytes, mediaType: source.mediaType, to: target)
        written.insert(source.digest, at: 0)
        return written
    }

    private func copyContent(_ fetched: FetchedManifest, from source: Reference, to destination: Reference, depth: Int,
                             written: inout [Digest]) async throws {
        guard depth < 4 else { throw SignetOCIError(.invalidFormat, "image index nested too deeply") }
        if fetched.mediaType.isIndex {
            for child in try fetched.imageIndex().manifests where child.mediaType.isManifest {
                let childManifest = try await getManifest(source.withDigest(child.digest))
                try await copyContent(childManifest, from: source, to: destination, depth: depth + 1, written: &written)
                try await putManifest(childManifest.bytes, mediaType: childManifest.mediaType, to: destination.withDigest(child.digest))
                written.append(child.digest)
            }
        } else {
            let manifest = try fetched.imageManifest()
            for blob in [manifest.config] + manifest.layers {
                try await copyBlob(blob, from: source, to: destination)
            }
        }
    }
}
