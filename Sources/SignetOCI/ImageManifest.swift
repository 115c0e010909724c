import Foundation

/// An OCI image manifest (also reads Docker v2 schema 2 manifests, which have the same shape).
public struct ImageManifest: Hashable, Sendable, Codable, OrderedJSONRepresentable {
    public var schemaVersion: Int
    public var mediaType: MediaType?
    public var artifactType: MediaType?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(schemaVersion: Int = 2, mediaType: MediaType? = .ociManifest, artifactType: MediaType? = nil,
                config: Descriptor, layers: [Descriptor], subject: Descriptor? = nil,
                annotations: [String: String]? = nil) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.artifactType = artifactType
        self.config = config
        self.layers = layers
        self.subject = subject
        self.annotations = annotations
    }

    /// Decodes manifest JSON; throws `SignetOCIError(.invalidFormat)`.
    public init(decoding data: Data) throws {
        do { self = try JSONDecoder().decode(ImageManifest.self, from: data) } catch {
            throw SignetOCIError(.invalidFormat, "invalid image manifest: \(describeDecodingError(error))", underlying: error)
        }
        guard schemaVersion == 2 else {
            throw SignetOCIError(.invalidFormat, "invalid image manifest: unsupported schemaVersion \(schemaVersion)")
        }
    }

    /// Key order: schemaVersion, mediaType, artifactType, config, layers, subject, annotations.
    public var orderedJSON: OrderedJSON {
        var m: [(String, OrderedJSON)] = [("schemaVersion", .int(Int64(schemaVersion)))]
        if let mediaType { m.append(("mediaType", .string(mediaType.rawValue))) }
        if let artifactType { m.append(("artifactType", .string(artifactType.rawValue))) }
        m.append(("config", config.orderedJSON))
        m.append(("layers", .array(layers.map(\.orderedJSON))))
        if let subject { m.append(("subject", subject.orderedJSON)) }
        if let annotations, !annotations.isEmpty { m.append(("annotations", .sortedObject(annotations))) }
        return .object(m)
    }

    /// A descriptor of this manifest's `jsonData()` (media type defaults to the OCI manifest type).
    public func descriptor(annotations: [String: String]? = nil) -> Descriptor {
        Descriptor(mediaType: mediaType ?? .ociManifest, content: jsonData(), annotations: annotations)
    }
}

/// An OCI image index (also reads Docker manifest lists).
public struct ImageIndex: Hashable, Sendable, Codable, OrderedJSONRepresentable {
    public var schemaVersion: Int
    public var mediaType: MediaType?
    public var artifactType: MediaType?
    public var manifests: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(schemaVersion: Int = 2, mediaType: MediaType? = .ociIndex, artifactType: MediaType? = nil,
                manifests: [Descriptor], subject: Descriptor? = nil, annotations: [String: String]? = nil) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.artifactType = artifactType
        self.manifests = manifests
        self.subject = subject
        self.annotations = annotations
    }

    /// Decodes index JSON; throws `SignetOCIError(.invalidFormat)`.
    public init(decoding data: Data) throws {
        do { self = try JSONDecoder().decode(ImageIndex.self, from: data) } catch {
            throw SignetOCIError(.invalidFormat, "invalid image index: \(describeDecodingError(error))", underlying: error)
        }
        guard schemaVersion == 2 else {
            throw SignetOCIError(.invalidFormat, "invalid image index: unsupported schemaVersion \(schemaVersion)")
        }
    }

    /// Key order: schemaVersion, mediaType, artifactType, manifests, subject, annotations.
    public var orderedJSON: OrderedJSON {
        var m: [(String, OrderedJSON)] = [("schemaVersion", .int(Int64(schemaVersion)))]
        if let mediaType { m.append(("mediaType", .string(mediaType.rawValue))) }
        if let artifactType { m.append(("artifactType", .string(artifactType.rawValue))) }
        m.append(("manifests", .array(manifests.map(\.orderedJSON))))
        if let subject { m.append(("subject", subject.orderedJSON)) }
        if let annotations, !annotations.isEmpty { m.append(("annotations", .sortedObject(annotations))) }
        return .object(m)
    }
}

/// A manifest as fetched from a registry: its exact bytes (already checked against `digest`).
public struct FetchedManifest: Hashable, Sendable {
    public let bytes: Data
    public let mediaType: MediaType
    public let digest: Digest

    public init(bytes: Data, mediaType: MediaType, digest: Digest) {
        self.bytes = bytes
        self.mediaType = mediaType
        self.digest = digest
    }

    /// A descriptor for these bytes.
    public var descriptor: Descriptor { Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count)) }

    /// The bytes decoded as an image manifest; throws if they are an index or malformed.
    public func imageManifest() throws -> ImageManifest {
        guard !mediaType.isIndex else {
            throw SignetOCIError(.invalidFormat, "\(digest) is an image index (\(mediaType)), not an image manifest")
        }
        return try ImageManifest(decoding: bytes)
    }

    /// The bytes decoded as an image index; throws if they are an image manifest or malformed.
    public func imageIndex() throws -> ImageIndex {
        guard !mediaType.isImageManifest else {
            throw SignetOCIError(.invalidFormat, "\(digest) is an image manifest (\(mediaType)), not an image index")
        }
        return try ImageIndex(decoding: bytes)
    }
}

/// A short lowercase description of a JSONDecoder error.
func describeDecodingError(_ error: any Error) -> String {
    if let e = error as? SignetOCIError { return e.message }
    guard let e = error as? DecodingError else { return "not valid JSON" }
    func path(_ c: DecodingError.Context) -> String {
        let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? "" : " at \(p)"
    }
    switch e {
    case .dataCorrupted(let c):
        if let u = c.underlyingError as? SignetOCIError { return u.message + path(c) }
        return c.codingPath.isEmpty ? "not valid JSON" : "bad value\(path(c))"
    case .keyNotFound(let k, let c): return "missing field \"\(k.stringValue)\"\(path(c))"
    case .typeMismatch(_, let c): return "wrong type\(path(c))"
    case .valueNotFound(_, let c): return "missing value\(path(c))"
    @unknown default: return "not valid JSON"
    }
}
