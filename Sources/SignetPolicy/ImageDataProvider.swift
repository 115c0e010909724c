import SignetPrimitives

/// Kyverno's image data for one reference: what `image.GetMetadata(ref)` (CEL) and the
/// `imageRegistry` context entry (JMESPath) read (kyverno/sdk `imagedataloader.ImageData`,
/// kyverno `engine/context/loaders/imagedata.go`).
public struct KyvernoImageData: Sendable, Hashable {
    /// The reference as written.
    public var image: String
    /// `registry/repository[:tag]@digest`.
    public var resolvedImage: String
    public var registry: String
    public var repository: String
    /// The tag or the digest of the reference.
    public var identifier: String
    public var tag: String?
    /// The digest the reference resolved to.
    public var digest: String
    /// The image manifest (a platform image's, when the reference names an index).
    public var manifest: JSONValue
    /// The image configuration.
    public var config: JSONValue
    /// The image index, when the reference names one.
    public var imageIndex: JSONValue?

    public init(image: String, resolvedImage: String, registry: String, repository: String, identifier: String,
                tag: String?, digest: String, manifest: JSONValue, config: JSONValue, imageIndex: JSONValue? = nil) {
        self.image = image
        self.resolvedImage = resolvedImage
        self.registry = registry
        self.repository = repository
        self.identifier = identifier
        self.tag = tag
        self.digest = digest
        self.manifest = manifest
        self.config = config
        self.imageIndex = imageIndex
    }

    /// The map `image.GetMetadata` returns (Go `ImageDescriptor` JSON: empty fields omitted).
    public var celMetadata: JSONValue {
        var o: [String: JSONValue] = [:]
        for (k, v) in [("image", image), ("resolvedImage", resolvedImage), ("registry", registry),
                       ("repository", repository), ("identifier", identifier), ("tag", tag ?? ""), ("digest", digest)] where !v.isEmpty {
            o[k] = .string(v)
        }
        if let imageIndex { o["imageIndex"] = imageIndex }
        o["manifest"] = manifest
        o["config"] = config
        return .object(o)
    }

    /// The value of an `imageRegistry` context entry before its `jmesPath`.
    public var contextEntry: JSONValue {
        ["image": .string(image), "resolvedImage": .string(resolvedImage), "registry": .string(registry),
         "repository": .string(repository), "identifier": .string(identifier), "manifestList": imageIndex ?? .null,
         "manifest": manifest, "configData": config]
    }
}

/// Reads image data from registries (`SignetVerification.RegistryImageDataProvider` implements
/// it over SignetOCI). Asynchronous: callers fetch before evaluating (see `PrefetchedImageData` and `PolicyEngine.withImageData`).
public protocol ImageDataProvider: Sendable {
    /// The data of `reference`; throws when the registry cannot answer.
    func imageData(reference: String) async throws -> KyvernoImageData
}

/// Fetched image data for one evaluation, keyed by the reference string a policy names.
///
/// Design: policy evaluation is pure and synchronous (CEL functions and JMESPath context loading
/// cannot await), so registry reads happen before it. The references fetched are the container
/// images of the resource (`spec.containers`, `initContainers`, `ephemeralContainers`, in Pods,
/// Pod templates and CronJob job templates), which is what `image.GetMetadata(container.image)`
/// and `imageRegistry.reference: "{{ element.image }}"` name in practice; a policy naming another
/// reference gets Kyverno's "not found" error for it.
public struct PrefetchedImageData: Sendable {
    /// Successful reads.
    public var images: [String: KyvernoImageData] = [:]
    /// Failed reads: reference → error message (reported by the functions that need them).
    public var failures: [String: String] = [:]

    public init(images: [String: KyvernoImageData] = [:], failures: [String: String] = [:]) {
        self.images = images
        self.failures = failures
    }

    /// The most references one resource may cause to be fetched.
    public static let maximumReferences = 64
    /// The most registry reads in flight at once.
    public static let maximumConcurrentFetches = 8

    /// Fetches the container images of `resource` through `provider` (at most `maximumReferences`).
    public static func fetch(for resource: JSONValue, provider: any ImageDataProvider) async -> PrefetchedImageData {
        await fetch(references: containerImages(of: resource), provider: provider)
    }

    /// Fetches `references` (deduplicated, at most `maximumReferences`) concurrently.
    public static func fetch(references: [String], provider: any ImageDataProvider) async -> PrefetchedImageData {
        var seen = Set<String>()
        let unique = references.filter { seen.insert($0).inserted }.prefix(maximumReferences)
        var out = PrefetchedImageData()
        await withTaskGroup(of: (String, Result<KyvernoImageData, any Error>).self) { group in
            var pending = unique.makeIterator()
            func start() -> Bool {
                guard let ref = pending.next() else { return false }
                group.addTask {
                    do { return (ref, .success(try await provider.imageData(reference: ref))) } catch { return (ref, .failure(error)) }
                }
                return true
            }
            // at most `maximumConcurrentFetches` registry reads at once
            for _ in 0..<maximumConcurrentFetches where !start() { break }
            while let (ref, result) = await group.next() {
                switch result {
                case .success(let d): out.images[ref] = d
                case .failure(let e): out.failures[ref] = (e as? SignetPolicyError)?.message ?? "\(e)"
                }
                _ = start()
            }
        }
        return out
    }

    /// `image.GetMetadata` maps by reference.
    public var celImages: [String: JSONValue] { images.mapValues(\.celMetadata) }
    /// `imageRegistry` context values by reference.
    public var contextImages: [String: JSONValue] { images.mapValues(\.contextEntry) }

    /// The container image references of a Pod, a Pod template owner or a CronJob (bounded).
    public static func containerImages(of resource: JSONValue) -> [String] {
        let specs: [JSONValue?] = [resource["spec"], resource["spec"]?["template"]?["spec"],
                                   resource["spec"]?["jobTemplate"]?["spec"]?["template"]?["spec"]]
        var out: [String] = []
        for case let spec? in specs {
            for key in ["initContainers", "containers", "ephemeralContainers"] {
                for c in (spec[key]?.arrayValue ?? []).prefix(maximumReferences) {
                    if let image = c["image"]?.stringValue, !image.isEmpty { out.append(image) }
                }
            }
        }
        return out
    }
}

extension KyvernoTestRunner {
    /// A test `context` file's `spec.images` as Kyverno's CLI stores them for `image.GetMetadata`:
    /// the JSON of its `ImageData` entry (`image`, `resolvedImage`, `registry`, `repository`
    /// always; `tag`, `digest`, `imageIndex`, `manifest`, `config` when set), keyed by `image`.
    static func contextImages(_ document: JSONValue) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for entry in document["spec"]?["images"]?.arrayValue ?? [] {
            guard let image = entry["image"]?.stringValue else { continue }
            var o: [String: JSONValue] = [:]
            for k in ["image", "resolvedImage", "registry", "repository"] { o[k] = .string(entry[k]?.stringValue ?? "") }
            for k in ["tag", "digest"] { if let s = entry[k]?.stringValue, !s.isEmpty { o[k] = .string(s) } }
            for k in ["imageIndex", "manifest", "config"] { if let v = entry[k], v != .null { o[k] = v } }
            out[image] = .object(o)
        }
        return out
    }
}
