import Foundation

/// An OCI image layout on disk (OCI image spec, image-layout.md): `oci-layout`, `index.json`,
/// `blobs/ALG/HEX`. The directory is given by the caller; nothing else is read.
public struct OCILayout: Sendable {
    /// The layout's root directory.
    public let root: URL

    /// The `oci-layout` file content we write.
    public static let layoutFileContent = Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)

    /// Opens an existing layout; throws if `oci-layout` or `index.json` is missing or malformed.
    public init(opening root: URL) throws {
        self.root = root
        let layoutFile = root.appendingPathComponent("oci-layout")
        guard let data = FileManager.default.contents(atPath: layoutFile.path) else {
            throw SignetOCIError(.invalidFormat, "\(root.path) is not an oci image layout (no oci-layout file)")
        }
        struct Header: Decodable { let imageLayoutVersion: String }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw SignetOCIError(.invalidFormat, "\(root.path)/oci-layout is not valid (expected imageLayoutVersion)")
        }
        guard header.imageLayoutVersion.hasPrefix("1.") else {
            throw SignetOCIError(.invalidFormat, "unsupported oci layout version \(header.imageLayoutVersion)")
        }
        _ = try index()
    }

    /// Creates (or reuses) a layout at `root`: writes `oci-layout` and an empty `index.json` if absent.
    public static func create(at root: URL) throws -> OCILayout {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: root.appendingPathComponent("blobs/sha256"), withIntermediateDirectories: true)
            let layoutFile = root.appendingPathComponent("oci-layout")
            if !fm.fileExists(atPath: layoutFile.path) { try layoutFileContent.write(to: layoutFile) }
        } catch {
            throw SignetOCIError(.io, "cannot create oci layout at \(root.path): \(error.localizedDescription.lowercased())", underlying: error)
        }
        let layout = OCILayout(unchecked: root)
        if !fm.fileExists(atPath: root.appendingPathComponent("index.json").path) {
            try layout.writeIndex(ImageIndex(manifests: []))
        }
        return layout
    }

    private init(unchecked root: URL) { self.root = root }

    /// The path of a blob (whether or not it exists).
    public func blobURL(_ digest: Digest) -> URL {
        root.appendingPathComponent("blobs").appendingPathComponent(digest.algorithm).appendingPathComponent(digest.encoded)
    }

    /// The layout's `index.json`.
    public func index() throws -> ImageIndex {
        let url = root.appendingPathComponent("index.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SignetOCIError(.invalidFormat, "\(root.path) is not an oci image layout (no index.json)")
        }
        return try ImageIndex(decoding: data)
    }

    /// Replaces `index.json`.
    public func writeIndex(_ index: ImageIndex) throws {
        try write(index.jsonData(), to: root.appendingPathComponent("index.json"))
    }

    /// Adds `descriptor` to `index.json` (a descriptor with the same digest and annotations is not repeated).
    public func appendToIndex(_ descriptor: Descriptor) throws {
        var idx = try index()
        if !idx.manifests.contains(descriptor) { idx.manifests.append(descriptor) }
        try writeIndex(idx)
    }

    /// True if the blob file exists.
    public func hasBlob(_ digest: Digest) -> Bool { FileManager.default.fileExists(atPath: blobURL(digest).path) }

    /// Reads a blob and checks its digest.
    public func readBlob(_ digest: Digest) throws -> Data {
        guard let data = FileManager.default.contents(atPath: blobURL(digest).path) else {
            throw SignetOCIError(.notFound, "blob \(digest) is missing from the oci layout at \(root.path)")
        }
        guard digest.matches(data) else {
            throw SignetOCIError(.digestMismatch, "blob \(digest) in the oci layout at \(root.path) does not match its digest")
        }
        return data
    }

    /// Writes a blob (SHA-256) and returns its digest.
    @discardableResult
    public func writeBlob(_ data: Data) throws -> Digest {
        let digest = Digest.sha256(data)
        let url = blobURL(digest)
        if !FileManager.default.fileExists(atPath: url.path) {
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            } catch {
                throw SignetOCIError(.io, "cannot write to \(root.path): \(error.localizedDescription.lowercased())", underlying: error)
            }
            try write(data, to: url)
        }
        return digest
    }

    /// Reads a manifest blob named by `descriptor` (digest-checked) with the descriptor's media type.
    public func manifest(_ descriptor: Descriptor) throws -> FetchedManifest {
        let bytes = try readBlob(descriptor.digest)
        return FetchedManifest(bytes: bytes, mediaType: descriptor.mediaType, digest: descriptor.digest)
    }

    private func write(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw SignetOCIError(.io, "cannot write \(url.path): \(error.localizedDescription.lowercased())", underlying: error)
        }
    }
}
