import Foundation
import SignetOCI

/// A small random image built in memory: an OCI config and 1-2 random "layers".
public struct TestImage: Sendable {
    public let config: Data
    public let layers: [Data]
    public let manifest: ImageManifest
    /// The manifest's exact bytes (`manifest.jsonData()`).
    public let manifestBytes: Data
    public var digest: Digest { .sha256(manifestBytes) }
    /// Config and layers, for pushing.
    public var blobs: [Data] { [config] + layers }

    /// - Parameters:
    ///   - layerCount: 1 or 2 usually.
    ///   - layerSize: bytes of random data per layer.
    public init(layerCount: Int = 2, layerSize: Int = 512, annotations: [String: String]? = nil) {
        var layers: [Data] = []
        for _ in 0..<layerCount {
            var bytes = [UInt8](repeating: 0, count: layerSize)
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
            layers.append(Data(bytes))
        }
        let diffIDs = layers.map { "\"\(Digest.sha256($0))\"" }.joined(separator: ",")
        let config = Data(#"{"architecture":"amd64","os":"linux","config":{"Labels":{"nonce":"\#(UUID().uuidString)"}},"rootfs":{"type":"layers","diff_ids":[\#(diffIDs)]}}"#.utf8)
        let manifest = ImageManifest(config: Descriptor(mediaType: .ociConfig, content: config),
                                     layers: layers.map { Descriptor(mediaType: .ociLayer, content: $0) },
                                     annotations: annotations)
        self.config = config
        self.layers = layers
        self.manifest = manifest
        self.manifestBytes = manifest.jsonData()
    }

    /// Writes this image into an OCI layout at `directory` (index.json lists it with `annotations`).
    @discardableResult
    public func writeLayout(to directory: URL, annotations: [String: String]? = nil) throws -> OCILayout {
        let layout = try OCILayout.create(at: directory)
        for blob in blobs { try layout.writeBlob(blob) }
        try layout.writeBlob(manifestBytes)
        try layout.appendToIndex(manifest.descriptor(annotations: annotations))
        return layout
    }
}
