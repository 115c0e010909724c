import Foundation
import SignetOCI

/// The "simple signing" payload cosign signs for a container image
/// [sigstore/sigstore:pkg/signature/payload/payload.go; cosign specs/SIGNATURE_SPEC.md].
///
/// Written byte-exact as cosign writes it:
/// `{"critical":{"identity":{"docker-reference":"REPO"},"image":{"docker-manifest-digest":"sha256:HEX"},"type":"cosign container image signature"},"optional":null}`
/// Parsed tolerantly (any key order, unknown fields ignored, `optional` of any JSON values) for verification.
public struct SimpleSigningPayload: Sendable, Hashable {
    /// The `critical.type` cosign writes and requires.
    public static let cosignType = "cosign container image signature"

    /// `critical.identity.docker-reference`: the repository, without tag or digest (verifiers ignore it).
    public var dockerReference: String
    /// `critical.image.docker-manifest-digest`: the digest of the signed manifest, as written.
    public var dockerManifestDigest: String
    /// `critical.type`.
    public var type: String
    /// `optional`: nil is written as `null`; annotations from `-a` are strings, other tools put
    /// other values (skopeo: `creator`, `timestamp`).
    public var optional: [String: GoJSON]?

    /// A payload for signing `digest` of the image in `dockerReference`, with `annotations` in `optional`
    /// (`nil` or empty annotations give `"optional":null`, as cosign does for no `-a`).
    public init(dockerReference: String, digest: Digest, annotations: [String: String]? = nil) {
        self.dockerReference = dockerReference
        self.dockerManifestDigest = digest.description
        self.type = Self.cosignType
        if let annotations, !annotations.isEmpty {
            self.optional = annotations.mapValues { GoJSON.string($0) }
        } else {
            self.optional = nil
        }
    }

    public init(dockerReference: String, dockerManifestDigest: String, type: String = SimpleSigningPayload.cosignType,
                optional: [String: GoJSON]?) {
        self.dockerReference = dockerReference
        self.dockerManifestDigest = dockerManifestDigest
        self.type = type
        self.optional = optional
    }

    /// Parses payload bytes (key order free). Throws `invalidPayload` when it is not a JSON object
    /// with a `critical` object holding `image.docker-manifest-digest` and `type` strings.
    public init(parsing data: Data) throws {
        let value: GoJSON
        do {
            value = try GoJSON(parsing: data)
        } catch {
            throw SignetSigningError(.invalidPayload, "signature payload is not valid JSON", underlying: error)
        }
        guard case .map = value, let critical = value["critical"], case .map = critical else {
            throw SignetSigningError(.invalidPayload, "signature payload has no 'critical' object")
        }
        guard let digest = critical["image"]?["docker-manifest-digest"]?.stringValue else {
            throw SignetSigningError(.invalidPayload, "signature payload has no critical.image.docker-manifest-digest")
        }
        guard let type = critical["type"]?.stringValue else {
            throw SignetSigningError(.invalidPayload, "signature payload has no critical.type")
        }
        self.dockerManifestDigest = digest
        self.type = type
        self.dockerReference = critical["identity"]?["docker-reference"]?.stringValue ?? ""
        switch value["optional"] {
        case .none, .some(.null): self.optional = nil
        case .some(.map(let m)): self.optional = m
        default:
            throw SignetSigningError(.invalidPayload, "signature payload 'optional' is not an object")
        }
    }

    /// The Go JSON value of this payload (struct order for `critical`, sorted keys for `optional`).
    public var jsonValue: GoJSON {
        .object([
            ("critical", .object([
                ("identity", .object([("docker-reference", .string(dockerReference))])),
                ("image", .object([("docker-manifest-digest", .string(dockerManifestDigest))])),
                ("type", .string(type)),
            ])),
            ("optional", optional.map { GoJSON.map($0) } ?? .null),
        ])
    }

    /// The exact bytes cosign signs: compact Go JSON, no trailing newline.
    public func encoded() -> Data { jsonValue.encoded() }

    /// The string annotations in `optional` (values of other types are left out).
    public var annotations: [String: String] {
        (optional ?? [:]).compactMapValues { $0.stringValue }
    }

    /// Whether every `required` pair is present in `optional` with exactly that string value
    /// (cosign's `-a` check).
    public func matches(annotations required: [String: String]) -> Bool {
        for (key, value) in required {
            guard optional?[key]?.stringValue == value else { return false }
        }
        return true
    }
}
