import Foundation
import SignetOCI

/// What `ImageCopier` copies (`signet copy --only`): an open set named as cosign names them.
public struct CopyPart: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(name: String) { self.name = name }
    public var description: String { name }

    /// The image (or index with every platform) itself.
    public static let image = CopyPart(name: "img")
    /// `.sig` signatures and cosign v3 signature bundles.
    public static let signature = CopyPart(name: "sig")
    /// `.att` attestations and other bundle referrers.
    public static let attestation = CopyPart(name: "att")
    /// `.sbom` SBOMs and SBOM referrers.
    public static let sbom = CopyPart(name: "sbom")
    public static let all: Set<CopyPart> = [.image, .signature, .attestation, .sbom]

    /// Parses `sig`, `att`, `sbom` (and `img`); nil otherwise.
    public init?(parsing text: String) {
        let known: [CopyPart] = [.image, .signature, .attestation, .sbom]
        guard let part = known.first(where: { $0.name == text }) else { return nil }
        self = part
    }

    /// The signature-tag kind this part copies, if any.
    var signatureKind: SignatureKind? {
        switch self {
        case .signature: .signature
        case .attestation: .attestation
        case .sbom: .sbom
        default: nil
        }
    }
}

/// What a copy did, one line per manifest.
public struct CopyReport: Sendable {
    public enum Outcome: String, Sendable { case copied, unchanged }
    public struct Item: Sendable {
        public var part: CopyPart
        public var source: String
        public var destination: String
        public var outcome: Outcome
    }
    public var items: [Item] = []
    /// The digest written at the destination (the selected platform's manifest with `platform`).
    public var digest: Digest?
}

/// Copies an image (single or index with every platform) with its signatures, attestations, SBOMs
/// and cosign v3 bundle referrers to another repository or registry, as `cosign copy` does, so that
/// it still verifies there: manifests are copied byte for byte, so digests and therefore the
/// `sha256-HEX.sig` tags stay the same.
public struct ImageCopier: Sendable {
    public let client: RegistryClient
    /// What to copy (default: everything).
    public var parts: Set<CopyPart>
    /// Overwrite destination tags that hold something else.
    public var force: Bool
    /// `os/arch[/variant]`: copy only that platform's manifest of an index.
    public var platform: String?
    /// Where the source's signatures live (`COSIGN_REPOSITORY`), if not beside the image.
    public var sourceSignatureRepository: SignatureRepository?
    /// Where to write the signatures at the destination, if not beside the image.
    public var destinationSignatureRepository: SignatureRepository?
    /// At most this many referrers are copied per manifest.
    public var maxReferrers = 1000

    public init(client: RegistryClient, parts: Set<CopyPart> = CopyPart.all, force: Bool = false, platform: String? = nil,
                sourceSignatureRepository: SignatureRepository? = nil, destinationSignatureRepository: SignatureRepository? = nil) {
        self.client = client
        self.parts = parts
        self.force = force
        self.platform = platform
        self.sourceSignatureRepository = sourceSignatureRepository
        self.destinationSignatureRepository = destinationSignatureRepository
    }

    /// Copies `source` (a tag or digest) to `destination` (a repository, tag or matching digest).
    /// Without a destination tag the source's tag is used; without either, the image is written by
    /// digest only.
    public func copy(from source: Reference, to destination: Reference) async throws -> CopyReport {
        var top = try await fetch(source)
        let sourceRepo = source.repositoryOnly
        if let platform, top.mediaType.isIndex {
            let wanted = platform.split(separator: "/").map(String.init)
            guard wanted.count >= 2, wanted.count <= 3 else {
                throw SignetSigningError(.invalidPayload, "platform '\(platform)' is not os/arch[/variant]")
            }
            let children = try top.imageIndex().manifests
            guard let child = children.first(where: { d in
                guard let p = d.platform else { return false }
                return p.os == wanted[0] && p.architecture == wanted[1] && (wanted.count < 3 || p.variant == wanted[2])
            }) else {
                let known = children.compactMap { $0.platform?.description }.joined(separator: ", ")
                throw SignetSigningError(.invalidPayload, "\(source) has no \(platform) image (it has \(known))")
            }
            top = try await client.getManifest(sourceRepo.withDigest(child.digest))
        }
        if let d = destination.digest, d != top.digest {
            throw SignetSigningError(.invalidPayload, "destination digest \(d) is not the source's \(top.digest)")
        }
        var target = destination.repositoryOnly
        if let tag = destination.tag ?? (destination.digest == nil ? source.tag : nil) {
            target = try wrap { try target.withTag(tag) }
        }
        let destinationRepo = destination.repositoryOnly
        var report = CopyReport(digest: top.digest)

        // The manifests whose attachments follow: the top one and, for an index, every child.
        var digests = [top.digest]
        if top.mediaType.isIndex {
            digests += try top.imageIndex().manifests.filter { $0.mediaType.isManifest }.map(\.digest)
        }
        if parts.contains(.image) {
            let outcome = try await copyManifest(top, from: sourceRepo, to: target.tag == nil ? destinationRepo.withDigest(top.digest) : target,
                                                 sourceName: "\(sourceRepo.repositoryName)@\(top.digest)")
            report.items.append(CopyReport.Item(part: .image, source: "\(sourceRepo.repositoryName)@\(top.digest)",
                                                destination: target.tag.map { "\(destinationRepo.repositoryName):\($0)" } ?? "\(destinationRepo.repositoryName)@\(top.digest)",
                                                outcome: outcome))
        }
        for digest in digests {
            for part in [CopyPart.signature, .attestation, .sbom] where parts.contains(part) {
                guard let kind = part.signatureKind else { continue }
                let from = try wrap { try SignatureStore.signatureReference(image: sourceRepo, digest: digest, kind: kind,
                                                                           signatureRepository: sourceSignatureRepository) }
                let to = try wrap { try SignatureStore.signatureReference(image: destinationRepo, digest: digest, kind: kind,
                                                                         signatureRepository: destinationSignatureRepository) }
                guard let fetched = try await fetchIfPresent(from) else { continue }
                let outcome = try await copyManifest(fetched, from: from.repositoryOnly, to: to, sourceName: from.description)
                report.items.append(CopyReport.Item(part: part, source: from.description, destination: to.description, outcome: outcome))
            }
            if parts.contains(.signature) || parts.contains(.attestation) || parts.contains(.sbom) {
                report.items += try await copyReferrers(of: digest, from: sourceRepo, to: destinationRepo)
            }
        }
        return report
    }

    /// Which part a referrer belongs to: cosign signature bundles are `sig`, SBOM artifacts `sbom`,
    /// anything else (attestation bundles, other artifacts) `att`.
    static func part(of referrer: Descriptor) -> CopyPart {
        guard let type = referrer.artifactType else { return .attestation }
        if type == .sigstoreBundle || SigstoreBundle.mediaTypes.contains(type.rawValue) {
            let predicate = referrer.annotations?[SigstoreBundle.predicateTypeAnnotation]
            return predicate == nil || predicate == InTotoStatement.cosignSignPredicateType ? .signature : .attestation
        }
        return sbomArtifactTypes.contains(type) ? .sbom : .attestation
    }

    /// Artifact types of SBOM referrers (SPDX and CycloneDX, as `oras attach` and syft push them).
    static let sbomArtifactTypes: Set<MediaType> = [
        "application/spdx+json", "text/spdx", "text/spdx+json", "application/vnd.cyclonedx+json",
        "application/vnd.cyclonedx+xml", "application/vnd.cyclonedx", "application/vnd.syft+json",
    ]

    private func copyReferrers(of digest: Digest, from source: Reference, to destination: Reference) async throws -> [CopyReport.Item] {
        let referrers = try await wrapOCI { try await client.referrers(source.withDigest(digest)) }
        guard referrers.count <= maxReferrers else {
            throw SignetSigningError(.limitExceeded, "\(source.repositoryName)@\(digest) has \(referrers.count) referrers, over \(maxReferrers)")
        }
        let subject = destination.withDigest(digest)
        var items: [CopyReport.Item] = []
        for referrer in referrers where parts.contains(Self.part(of: referrer)) && referrer.mediaType.isManifest {
            let fetched = try await wrapOCI { try await client.getManifest(source.withDigest(referrer.digest)) }
            let existed = try await wrapOCI { try await client.headManifest(destination.withDigest(referrer.digest)) } != nil
            try await wrapOCI {
                // Blobs (and children) first, then the manifest with its subject: pushReferrer keeps
                // the `sha256-HEX` fallback index in step on registries without the referrers API.
                _ = try await client.copyManifest(fetched, from: source, to: destination.withDigest(referrer.digest), tagDestination: false)
                try await client.pushReferrer(fetched.bytes, mediaType: fetched.mediaType, artifactType: referrer.artifactType,
                                              annotations: referrer.annotations, subject: subject)
            }
            items.append(CopyReport.Item(part: Self.part(of: referrer), source: "\(source.repositoryName)@\(referrer.digest)",
                                         destination: "\(destination.repositoryName)@\(referrer.digest)",
                                         outcome: existed ? .unchanged : .copied))
        }
        return items
    }

    /// Copies one manifest (with its content) to `target`, refusing to overwrite a different
    /// manifest at a destination tag without `force`.
    private func copyManifest(_ fetched: FetchedManifest, from source: Reference, to target: Reference,
                              sourceName: String) async throws -> CopyReport.Outcome {
        if target.tag != nil, let existing = try await wrapOCI({ try await client.headManifest(target) }) {
            if existing.digest == fetched.digest {
                // Same manifest: make sure its content is complete, then nothing to write.
                return .unchanged
            }
            guard force else {
                throw SignetSigningError(.registry, "\(target) already exists (\(existing.digest)), not \(sourceName): use --force to overwrite")
            }
        }
        try await wrapOCI { _ = try await client.copyManifest(fetched, from: source, to: target) }
        return .copied
    }

    private func fetch(_ reference: Reference) async throws -> FetchedManifest {
        do {
            return try await client.getManifest(reference)
        } catch let e as SignetOCIError where e.code == .notFound {
            throw SignetSigningError(.registry, "image \(reference) not found", underlying: e)
        } catch let e as SignetOCIError {
            throw SignetSigningError(.registry, e.message, underlying: e)
        }
    }

    private func fetchIfPresent(_ reference: Reference) async throws -> FetchedManifest? {
        do {
            guard try await client.headManifest(reference) != nil else { return nil }
            return try await client.getManifest(reference)
        } catch let e as SignetOCIError where e.code == .notFound {
            return nil
        } catch let e as SignetOCIError {
            throw SignetSigningError(.registry, e.message, underlying: e)
        }
    }

    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as SignetOCIError { throw SignetSigningError(.registry, e.message, underlying: e) }
    }

    private func wrapOCI<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as SignetOCIError { throw SignetSigningError(.registry, e.message, underlying: e) }
    }
}
