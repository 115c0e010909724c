import Foundation
import SignetOCI

/// One signature layer of a cosign signature image: the payload blob's descriptor and its annotations.
public struct SignatureLayer: Sendable, Hashable {
    /// `dev.cosignproject.cosign/signature`: the base64 (standard, padded) signature.
    public static let signatureAnnotation = "dev.cosignproject.cosign/signature"
    /// `dev.sigstore.cosign/certificate`: PEM certificate (keyless signatures).
    public static let certificateAnnotation = "dev.sigstore.cosign/certificate"
    /// `dev.sigstore.cosign/chain`: PEM certificate chain.
    public static let chainAnnotation = "dev.sigstore.cosign/chain"
    /// `dev.sigstore.cosign/bundle`: the Rekor SET bundle (JSON).
    public static let bundleAnnotation = "dev.sigstore.cosign/bundle"
    /// `dev.sigstore.cosign/rfc3161timestamp`.
    public static let timestampAnnotation = "dev.sigstore.cosign/rfc3161timestamp"

    public var mediaType: MediaType
    public var digest: Digest
    public var size: Int64
    public var annotations: [String: String]

    public init(mediaType: MediaType, digest: Digest, size: Int64, annotations: [String: String]) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
    }

    /// A simple-signing layer for `payload` signed with `signature` (raw bytes, stored base64).
    public init(payload: Data, signature: Data, extraAnnotations: [String: String] = [:]) {
        var annotations = extraAnnotations
        annotations[Self.signatureAnnotation] = signature.base64EncodedString()
        self.init(mediaType: .cosignSimpleSigning, digest: .sha256(payload), size: Int64(payload.count), annotations: annotations)
    }

    /// The base64 signature annotation, if present.
    public var signatureBase64: String? { annotations[Self.signatureAnnotation] }

    /// The descriptor as go-containerregistry writes it: mediaType, size, digest, annotations.
    var jsonValue: GoJSON {
        var fields: [(String, GoJSON)] = [
            ("mediaType", .string(mediaType.rawValue)),
            ("size", .integer(size)),
            ("digest", .string(digest.description)),
        ]
        if !annotations.isEmpty { fields.append(("annotations", .map(annotations.mapValues { .string($0) }))) }
        return .object(fields)
    }
}

/// A cosign signature image (`sha256-HEX.sig`): an OCI manifest whose layers are the signed payloads
/// [cosign specs/SIGNATURE_SPEC.md; FORMATS.md section 1].
///
/// Config blob: `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":...},...],"os":"","rootfs":{"type":"layers","diff_ids":[...]},"config":{}}`
/// with one history entry and one diff_id per layer, as go-containerregistry's `mutate.Append` on an empty image writes it.
public struct SignatureImage: Sendable, Hashable {
    /// Layers in manifest order (signatures and, in foreign images, anything else that was there).
    public var layers: [SignatureLayer]

    public init(layers: [SignatureLayer] = []) {
        self.layers = layers
    }

    /// The layers of the simple-signing media type.
    public var signatureLayers: [SignatureLayer] { layers.filter { $0.mediaType == .cosignSimpleSigning } }

    /// Appends `layer` unless an identical one (same payload digest and same annotations) is
    /// already there; returns whether it was added.
    @discardableResult
    public mutating func append(_ layer: SignatureLayer) -> Bool {
        if contains(layer) { return false }
        layers.append(layer)
        return true
    }

    /// Whether an identical signature layer is present.
    public func contains(_ layer: SignatureLayer) -> Bool {
        layers.contains { $0.digest == layer.digest && $0.mediaType == layer.mediaType && $0.annotations == layer.annotations }
    }

    /// The config blob bytes.
    public func configBytes() -> Data {
        let zeroTime = GoJSON.string("0001-01-01T00:00:00Z")
        return GoJSON.object([
            ("architecture", .string("")),
            ("created", zeroTime),
            ("history", .array(layers.map { _ in .object([("created", zeroTime)]) })),
            ("os", .string("")),
            ("rootfs", .object([
                ("type", .string("layers")),
                ("diff_ids", .array(layers.map { .string($0.digest.description) })),
            ])),
            ("config", .object([])),
        ]).encoded()
    }

    /// The manifest bytes for this image with the given config blob.
    public func manifestBytes(config: Data) -> Data {
        GoJSON.object([
            ("schemaVersion", .integer(2)),
            ("mediaType", .string(MediaType.ociManifest.rawValue)),
            ("config", .object([
                ("mediaType", .string(MediaType.ociConfig.rawValue)),
                ("size", .integer(Int64(config.count))),
                ("digest", .string(Digest.sha256(config).description)),
            ])),
            ("layers", .array(layers.map(\.jsonValue))),
        ]).encoded()
    }

    /// Manifest and config bytes together.
    public func encoded() -> (manifest: Data, config: Data) {
        let config = configBytes()
        return (manifestBytes(config: config), config)
    }

    /// Parses a signature manifest (OCI or Docker v2). Layers beyond `maxLayers` are an error
    /// naming the cap (cosign CVE-2023-46737: a hostile registry can list millions).
    public init(parsingManifest data: Data, maxLayers: Int = SignatureLimits.default.maxLayers) throws {
        struct Manifest: Decodable {
            struct Layer: Decodable {
                var mediaType: String
                var digest: String
                var size: Int64
                var annotations: [String: String]?
            }
            var schemaVersion: Int?
            var mediaType: String?
            var layers: [Layer]?
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw SignetSigningError(.invalidPayload, "signature manifest could not be parsed", underlying: error)
        }
        let rawLayers = manifest.layers ?? []
        guard rawLayers.count <= maxLayers else {
            throw SignetSigningError(.limitExceeded,
                "signature manifest lists \(rawLayers.count) layers, more than the cap of \(maxLayers) signature layers")
        }
        var layers: [SignatureLayer] = []
        for raw in rawLayers {
            let digest: Digest
            do { digest = try Digest(parsing: raw.digest) } catch {
                throw SignetSigningError(.invalidPayload, "signature layer digest '\(raw.digest)' is not valid", underlying: error)
            }
            layers.append(SignatureLayer(mediaType: MediaType(raw.mediaType), digest: digest, size: raw.size,
                                         annotations: raw.annotations ?? [:]))
        }
        self.layers = layers
    }
}

/// Caps that protect verification against hostile registries (cosign CVE-2023-46737, CVE-2024-29902/3).
public struct SignatureLimits: Sendable, Hashable {
    /// At most this many signature layers (or bundles) are read for one image.
    public var maxLayers: Int
    /// At most this many bytes per payload (or bundle) blob.
    public var maxPayloadBytes: Int

    public init(maxLayers: Int = 100, maxPayloadBytes: Int = 1 << 20) {
        self.maxLayers = maxLayers
        self.maxPayloadBytes = maxPayloadBytes
    }

    /// 100 layers, 1 MiB per payload.
    public static let `default` = SignatureLimits()
}
