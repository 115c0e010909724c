import Foundation
import SignetOCI
import SignetPolicy
import SignetPrimitives

/// `ImageDataProvider` over a real registry: what Kyverno's image data loader reads for
/// `image.GetMetadata(ref)` and `imageRegistry` context entries — the manifest (for an index, the
/// `linux/amd64` image's, as go-containerregistry's `remote.Image` picks by default), the config
/// blob, the index itself, and the digest the reference resolved to.
///
/// Bounded: manifests by `RegistryClient` (4 MiB, digest-checked), the config blob by
/// `maximumConfigBytes`, JSON nesting by `JSONValue`'s parser, and every fetch by `timeout`.
public struct RegistryImageDataProvider: ImageDataProvider {
    /// The registry client (credentials, insecure registries, per-request timeouts).
    public let client: RegistryClient
    /// The longest one `imageData(reference:)` may take, all requests included.
    public let timeout: Duration
    /// The largest config blob accepted.
    public let maximumConfigBytes: Int
    /// The platform chosen from an image index (go-containerregistry's default).
    public let platform: Platform

    public init(client: RegistryClient, timeout: Duration = .seconds(30), maximumConfigBytes: Int = 4 << 20,
                platform: Platform = Platform(architecture: "amd64", os: "linux")) {
        self.client = client
        self.timeout = timeout
        self.maximumConfigBytes = maximumConfigBytes
        self.platform = platform
    }

    public func imageData(reference: String) async throws -> KyvernoImageData {
        let ref: Reference
        do { ref = try Reference(parsing: reference) } catch {
            throw SignetPolicyError(.invalidPolicy, "invalid image reference \(reference)", underlying: error)
        }
        let limit = timeout
        return try await withThrowingTaskGroup(of: KyvernoImageData?.self) { group in
            group.addTask { try await fetch(reference, ref) }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let data = first else {
                throw SignetPolicyError(.io, "fetching image data for \(reference) timed out after \(limit)")
            }
            return data
        }
    }

    func fetch(_ text: String, _ ref: Reference) async throws -> KyvernoImageData {
        do {
            let top = try await client.getManifest(ref)
            var manifestBytes = top.bytes
            var index: JSONValue?
            if top.mediaType.isIndex {
                let parsed = try top.imageIndex()
                let chosen = parsed.manifests.first { $0.platform?.os == platform.os && $0.platform?.architecture == platform.architecture
                    && (platform.variant == nil || $0.platform?.variant == platform.variant) }
                guard let chosen else {
                    throw SignetPolicyError(.io, "no image for platform \(platform) in index \(ref)")
                }
                index = try Self.json(top.bytes, "image index of \(ref)")
                manifestBytes = try await client.getManifest(ref.withDigest(chosen.digest)).bytes
            }
            let manifest = try ImageManifest(decoding: manifestBytes)
            guard manifest.config.size <= Int64(maximumConfigBytes) else {
                throw SignetPolicyError(.io, "config of \(ref) is larger than \(maximumConfigBytes) bytes")
            }
            let config = try await client.getBlob(ref, digest: manifest.config.digest, maxSize: maximumConfigBytes)
            // Kyverno: digest references keep their digest, tag references report the resolved one
            let tag: String? = ref.digest == nil ? (ref.tag ?? Reference.defaultTag) : nil
            let digest = ref.digest?.description ?? top.digest.description
            let name = ref.repositoryName
            return KyvernoImageData(
                image: text,
                resolvedImage: tag.map { "\(name):\($0)@\(digest)" } ?? "\(name)@\(digest)",
                registry: ref.registry, repository: ref.repository, identifier: ref.identifier,
                tag: tag, digest: digest,
                manifest: try Self.json(manifestBytes, "manifest of \(ref)"),
                config: try Self.json(config, "config of \(ref)"),
                imageIndex: index)
        } catch let e as SignetPolicyError {
            throw e
        } catch {
            throw SignetPolicyError(.io, "failed to fetch image data for \(text): \(Self.text(error))", underlying: error)
        }
    }

    static func json(_ bytes: Data, _ what: String) throws -> JSONValue {
        do { return try JSONValue(json: bytes) } catch {
            throw SignetPolicyError(.invalidJSON, "cannot decode \(what)", underlying: error)
        }
    }

    static func text(_ error: any Error) -> String {
        if let e = error as? SignetOCIError { return e.message }
        return "\(error)"
    }
}
