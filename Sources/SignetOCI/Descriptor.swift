import Foundation

/// A content descriptor (OCI image spec, descriptor.md).
public struct Descriptor: Hashable, Sendable, Codable, OrderedJSONRepresentable {
    public var mediaType: MediaType
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    /// Embedded content (base64 in JSON).
    public var data: Data?
    public var platform: Platform?
    public var artifactType: MediaType?

    public init(mediaType: MediaType, digest: Digest, size: Int64, urls: [String]? = nil,
                annotations: [String: String]? = nil, data: Data? = nil, platform: Platform? = nil,
                artifactType: MediaType? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.urls = urls
        self.annotations = annotations
        self.data = data
        self.platform = platform
        self.artifactType = artifactType
    }

    /// A descriptor of `content` (SHA-256 digest and byte size).
    public init(mediaType: MediaType, content: Data, annotations: [String: String]? = nil) {
        self.init(mediaType: mediaType, digest: .sha256(content), size: Int64(content.count), annotations: annotations)
    }

    /// Key order as go-containerregistry's `v1.Descriptor` (mediaType, size, digest, data, urls,
    /// annotations, platform, artifactType), so our signature manifests match cosign's bytes.
    public var orderedJSON: OrderedJSON {
        var m: [(String, OrderedJSON)] = [
            ("mediaType", .string(mediaType.rawValue)), ("size", .int(size)), ("digest", .string(digest.description)),
        ]
        if let data { m.append(("data", .string(data.base64EncodedString()))) }
        if let urls, !urls.isEmpty { m.append(("urls", .array(urls.map { .string($0) }))) }
        if let annotations, !annotations.isEmpty { m.append(("annotations", .sortedObject(annotations))) }
        if let platform { m.append(("platform", platform.orderedJSON)) }
        if let artifactType { m.append(("artifactType", .string(artifactType.rawValue))) }
        return .object(m)
    }
}
