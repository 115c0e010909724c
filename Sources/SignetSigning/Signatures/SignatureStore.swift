import Foundation
import SignetOCI

/// Which of cosign's tag-addressed artifacts: `.sig` signatures, `.att` attestations, `.sbom` SBOMs.
public struct SignatureKind: Hashable, Sendable, CustomStringConvertible {
    /// The tag suffix, without the dot.
    public let suffix: String
    public init(suffix: String) { self.suffix = suffix }
    public static let signature = SignatureKind(suffix: "sig")
    public static let attestation = SignatureKind(suffix: "att")
    public static let sbom = SignatureKind(suffix: "sbom")
    public static let all: [SignatureKind] = [.signature, .attestation, .sbom]
    public var description: String { suffix }

    /// `signature`, `attestation`, `sbom` (cosign's `--type` words) or the suffixes themselves.
    public init?(name: String) {
        switch name.lowercased() {
        case "signature", "sig": self = .signature
        case "attestation", "att": self = .attestation
        case "sbom": self = .sbom
        default: return nil
        }
    }
}

/// A repository that holds signatures instead of the image's own (`COSIGN_REPOSITORY`,
/// `--signature-repository`). The payload still names the image's repository.
public struct SignatureRepository: Hashable, Sendable, CustomStringConvertible {
    /// The repository (no tag, no digest).
    public let repository: Reference

    public init(_ repository: Reference) {
        self.repository = repository.repositoryOnly
    }

    /// Parses `REGISTRY/REPO` (a tag or digest is refused).
    public init(parsing text: String) throws {
        let ref: Reference
        do { ref = try Reference(parsing: text) } catch {
            throw SignetSigningError(.invalidKeyReference, "signature repository '\(text)' is not a valid repository", underlying: error)
        }
        guard ref.digest == nil, !text.contains("@"), ref.tag == nil || !text.split(separator: "/").last!.contains(":") else {
            throw SignetSigningError(.invalidKeyReference, "signature repository '\(text)' must not have a tag or digest")
        }
        self.init(ref)
    }

    public var description: String { repository.repositoryName }
}

/// Reads and writes cosign signature images (`sha256-HEX.sig`) in a registry.
///
/// Appending is a read-modify-write of the tag. Distribution has no conditional PUT, so after each
/// PUT the tag is read back (at once and again after a short settle delay) and the append is
/// retried with backoff while our layer is missing: concurrent signers then converge on a manifest
/// that holds every signature.
public struct SignatureStore: Sendable {
    public let client: RegistryClient
    public var limits: SignatureLimits
    /// How many read-modify-write rounds before giving up.
    public var maxAttempts: Int
    /// The wait before the second read-back (lets concurrent writers that read before our PUT finish).
    public var settleDelay: Duration
    /// Most layers kept when appending (cosign: 1000).
    public var maxLayersOnWrite: Int

    public init(client: RegistryClient, limits: SignatureLimits = .default, maxAttempts: Int = 12,
                settleDelay: Duration = .milliseconds(60), maxLayersOnWrite: Int = 1000) {
        self.client = client
        self.limits = limits
        self.maxAttempts = maxAttempts
        self.settleDelay = settleDelay
        self.maxLayersOnWrite = maxLayersOnWrite
    }

    /// The tag cosign uses: `sha256-HEX.sig` (or `.att`, `.sbom`).
    public static func tag(for digest: Digest, kind: SignatureKind = .signature) -> String {
        "\(digest.tagSafe).\(kind.suffix)"
    }

    /// Where the signatures of `image`@`digest` live: its own repository, or `signatureRepository`.
    public static func signatureReference(image: Reference, digest: Digest, kind: SignatureKind = .signature,
                                          signatureRepository: SignatureRepository? = nil) throws -> Reference {
        let repository = signatureRepository?.repository ?? image.repositoryOnly
        do {
            return try repository.withTag(tag(for: digest, kind: kind))
        } catch {
            throw SignetSigningError(.registry, "cannot form the signature tag for \(image)", underlying: error)
        }
    }

    /// The signature manifest bytes at `reference`, or nil when the tag does not exist.
    public func fetchManifest(_ reference: Reference) async throws -> FetchedManifest? {
        do {
            return try await client.getManifest(reference, accept: [.ociManifest, .dockerManifest])
        } catch let error as SignetOCIError where error.code == .notFound {
            return nil
        }
    }

    /// The signature image of `image` (a digest reference), or nil when there is none.
    public func signatureImage(for image: Reference, kind: SignatureKind = .signature,
                               signatureRepository: SignatureRepository? = nil) async throws -> SignatureImage? {
        let digest = try Self.requireDigest(image)
        let ref = try Self.signatureReference(image: image, digest: digest, kind: kind, signatureRepository: signatureRepository)
        guard let fetched = try await fetchManifest(ref) else { return nil }
        return try SignatureImage(parsingManifest: fetched.bytes, maxLayers: limits.maxLayers)
    }

    /// What `append` did.
    public enum AppendResult: Sendable, Hashable {
        /// The signature was added.
        case added(manifest: Digest, attempts: Int)
        /// An identical signature was already there.
        case alreadyPresent
    }

    /// Adds a simple-signing layer for `payload` with `signature` to the signature image of `image`
    /// (a digest reference). An identical layer is not added twice.
    @discardableResult
    public func appendSignature(payload: Data, signature: Data, to image: Reference,
                                signatureRepository: SignatureRepository? = nil,
                                extraAnnotations: [String: String] = [:]) async throws -> AppendResult {
        let layer = SignatureLayer(payload: payload, signature: signature, extraAnnotations: extraAnnotations)
        return try await append(layer, blob: payload, to: image, kind: .signature, signatureRepository: signatureRepository)
    }

    /// Appends `layer` (whose blob is `blob`) to the `kind` image of `image`, retrying on lost updates.
    public func append(_ layer: SignatureLayer, blob: Data, to image: Reference, kind: SignatureKind,
                       signatureRepository: SignatureRepository?) async throws -> AppendResult {
        let digest = try Self.requireDigest(image)
        let target = try Self.signatureReference(image: image, digest: digest, kind: kind, signatureRepository: signatureRepository)
        let repository = target.repositoryOnly
        try await client.pushBlob(blob, mediaType: layer.mediaType, to: repository)
        var pushedConfigs = Set<Digest>()
        var attempt = 0
        while true {
            attempt += 1
            do {
                if let result = try await appendRound(layer, target: target, repository: repository, attempt: attempt,
                                                      pushedConfigs: &pushedConfigs) {
                    return result
                }
            } catch let error as SignetOCIError where Self.isTransient(error) && attempt < maxAttempts {
                // distribution's filesystem driver can answer 500 while a tag is rewritten concurrently.
            }
            guard attempt < maxAttempts else {
                throw SignetSigningError(.registry,
                    "signature for \(image) was overwritten by concurrent writers \(attempt) times; giving up (cap of \(maxAttempts) attempts)")
            }
            // Backoff with jitter before the next read-modify-write round.
            let base = 20 * (1 << min(attempt, 6))
            try await Task.sleep(for: .milliseconds(base + Int.random(in: 0...base)))
        }
    }

    /// One read-modify-write round: the result when done, nil when our layer did not survive.
    func appendRound(_ layer: SignatureLayer, target: Reference, repository: Reference, attempt: Int,
                     pushedConfigs: inout Set<Digest>) async throws -> AppendResult? {
        let clock = ContinuousClock()
        let started = clock.now
        var current = try await currentImage(target)
        if current.contains(layer) {
            // Ours is there (an identical signature, or our previous round survived).
            if attempt == 1 { return .alreadyPresent }
            if try await survives(layer, at: target) { return .added(manifest: try await manifestDigest(target), attempts: attempt) }
            return nil
        }
        guard current.layers.count < maxLayersOnWrite else {
            throw SignetSigningError(.limitExceeded,
                "signature image \(target) already has \(current.layers.count) layers, the cap of \(maxLayersOnWrite) layers")
        }
        current.append(layer)
        let (manifest, config) = current.encoded()
        let configDigest = Digest.sha256(config)
        if !pushedConfigs.contains(configDigest) {
            try await client.pushBlob(config, mediaType: .ociConfig, to: repository)
            pushedConfigs.insert(configDigest)
        }
        let manifestDigest = try await client.putManifest(manifest, mediaType: .ociManifest, to: target)
        // A concurrent writer that read before our PUT writes within about one round of its own:
        // wait at least twice our round's duration (it grows when the registry or machine is slow).
        let round = clock.now - started
        if try await survives(layer, at: target, atLeast: round * 2) { return .added(manifest: manifestDigest, attempts: attempt) }
        return nil
    }

    /// Server errors and throttling: worth another round.
    static func isTransient(_ error: SignetOCIError) -> Bool {
        if error.code == .tooManyRequests { return true }
        if let status = error.status, status >= 500 { return true }
        return false
    }

    /// The current signature image at `target` (empty when the tag does not exist).
    func currentImage(_ target: Reference) async throws -> SignatureImage {
        guard let fetched = try await fetchManifest(target) else { return SignatureImage() }
        return try SignatureImage(parsingManifest: fetched.bytes, maxLayers: maxLayersOnWrite)
    }

    /// Whether `layer` is at `target` now and still after the settle delay (at least `atLeast`).
    func survives(_ layer: SignatureLayer, at target: Reference, atLeast: Duration = .zero) async throws -> Bool {
        guard try await currentImage(target).contains(layer) else { return false }
        let delay = max(settleDelay, atLeast)
        if delay > .zero {
            let ms = Int(delay.wholeMilliseconds)
            try await Task.sleep(for: .milliseconds(ms + Int.random(in: 0...(ms / 2 + 1))))
            return try await currentImage(target).contains(layer)
        }
        return true
    }

    func manifestDigest(_ target: Reference) async throws -> Digest {
        try await client.resolve(target).digest
    }

    /// Deletes the `kind` artifacts of `image` (a digest reference); returns whether there was one.
    @discardableResult
    public func clean(image: Reference, kind: SignatureKind, signatureRepository: SignatureRepository? = nil) async throws -> Bool {
        let digest = try Self.requireDigest(image)
        let target = try Self.signatureReference(image: image, digest: digest, kind: kind, signatureRepository: signatureRepository)
        return try await client.deleteManifest(target)
    }

    /// Deletes the cosign v3 Sigstore bundles of `kind` attached to `image` as referrers (and their
    /// entries in the `sha256-HEX` fallback index): signatures are the bundles whose predicate type
    /// is cosign's sign predicate, attestations the others. Returns how many were deleted.
    @discardableResult
    public func cleanBundles(image: Reference, kind: SignatureKind) async throws -> Int {
        _ = try Self.requireDigest(image)
        guard kind == .signature || kind == .attestation else { return 0 }
        let sign = InTotoStatement.cosignSignPredicateType
        let deleted = try await client.deleteReferrers(of: image) { d in
            guard d.artifactType == .sigstoreBundle else { return false }
            let predicate = d.annotations?[SigstoreBundle.predicateTypeAnnotation]
            let isSignature = predicate == nil || predicate == sign
            return kind == .signature ? isSignature : !isSignature
        }
        return deleted.count
    }

    static func requireDigest(_ image: Reference) throws -> Digest {
        guard let digest = image.digest else {
            throw SignetSigningError(.registry, "image reference \(image) has no digest; resolve it first")
        }
        return digest
    }
}
