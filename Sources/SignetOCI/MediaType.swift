/// A media type string; an open set with the well-known values as static members.
public struct MediaType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    // OCI image spec 1.1
    public static let ociManifest: MediaType = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex: MediaType = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig: MediaType = "application/vnd.oci.image.config.v1+json"
    public static let ociEmpty: MediaType = "application/vnd.oci.empty.v1+json"
    public static let ociLayer: MediaType = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip: MediaType = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd: MediaType = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayout: MediaType = "application/vnd.oci.layout.header.v1+json"

    // Docker image manifest v2 schema 2
    public static let dockerManifest: MediaType = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList: MediaType = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig: MediaType = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip: MediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerForeignLayerGzip: MediaType = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    // Sigstore / cosign
    public static let cosignSimpleSigning: MediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
    public static let sigstoreBundle: MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
    public static let inTotoDSSE: MediaType = "application/vnd.dsse.envelope.v1+json"
    public static let cosignArtifactConfig: MediaType = "application/vnd.dev.cosign.artifact.sig.v1+json"

    public static let json: MediaType = "application/json"
    public static let octetStream: MediaType = "application/octet-stream"

    /// The Accept list for manifest requests: OCI manifest, OCI index, Docker v2 manifest, Docker list.
    public static let manifestAcceptList: [MediaType] = [.ociManifest, .ociIndex, .dockerManifest, .dockerManifestList]

    /// True for the image index and Docker manifest list types.
    public var isIndex: Bool { self == .ociIndex || self == .dockerManifestList }
    /// True for the OCI and Docker single-image manifest types.
    public var isImageManifest: Bool { self == .ociManifest || self == .dockerManifest }
    /// True for any manifest or index type.
    public var isManifest: Bool { isIndex || isImageManifest }
}
