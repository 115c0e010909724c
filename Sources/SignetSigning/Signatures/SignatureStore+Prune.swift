import Foundation
import SignetOCI

/// A cosign signature-kind tag `sha256-HEX.sig` / `.att` / `.sbom`, parsed.
public struct SignatureTag: Hashable, Sendable, CustomStringConvertible {
    public let imageDigest: Digest
    public let kind: SignatureKind

    public init(imageDigest: Digest, kind: SignatureKind) {
        self.imageDigest = imageDigest
        self.kind = kind
    }

    /// Parses `sha256-<64 hex>.sig|att|sbom`; nil for any other tag.
    public init?(tag: String) {
        guard tag.hasPrefix("sha256-"), let dot = tag.lastIndex(of: ".") else { return nil }
        let hex = tag[tag.index(tag.startIndex, offsetBy: 7)..<dot]
        guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
              let kind = SignatureKind(name: String(tag[tag.index(after: dot)...])),
              let digest = try? Digest(parsing: "sha256:\(hex)") else { return nil }
        self.init(imageDigest: digest, kind: kind)
    }

    public var tag: String { SignatureStore.tag(for: imageDigest, kind: kind) }
    public var description: String { tag }
}

/// The result of looking for signature tags whose image is gone.
public struct PruneReport: Sendable {
    /// Tags whose image digest no longer exists in the image repository.
    public var orphans: [SignatureTag] = []
    /// Tags whose image still exists (never touched).
    public var kept: [SignatureTag] = []
    /// Tags that could not be checked (errors): never deleted.
    public var unchecked: [(tag: SignatureTag, reason: String)] = []
    /// Orphan tags that were deleted (with `delete: true`).
    public var deleted: [SignatureTag] = []
    /// Orphans not deleted because their manifest is shared with a kept tag.
    public var sharedWithKept: [SignatureTag] = []
    /// Signature-kind tags seen.
    public var checked: Int { orphans.count + kept.count + unchecked.count }

    /// `sha256-HEX` referrers fallback indexes (cosign v3 bundles on registries without the
    /// referrers API) whose image is gone, by the image digest they name.
    public var orphanIndexes: [Digest] = []
    /// Fallback indexes of existing images (or that could not be checked): never touched.
    public var keptIndexes: Int = 0
    /// Orphan indexes deleted, and the referrer manifests deleted with them.
    public var deletedIndexes: [Digest] = []
    public var deletedReferrers: Int = 0
}

/// A referrers fallback tag: `sha256-<64 hex>` exactly (OCI distribution spec, referrers tag schema).
func fallbackIndexDigest(_ tag: String) -> Digest? {
    guard tag.hasPrefix("sha256-"), tag.utf8.count == 71 else { return nil }
    return try? Digest(parsing: "sha256:" + tag.dropFirst(7))
}

extension SignatureStore {
    /// Finds (and with `delete`, removes) signature tags in the signature repository (default: the
    /// image repository) whose `sha256-HEX` image no longer exists in `imageRepository`.
    ///
    /// An image counts as existing unless the registry answers 404 for it; any other answer leaves
    /// the tag unchecked. Before deleting, an orphan's manifest digest must not be the manifest of a
    /// kept tag (a DELETE removes every tag of a manifest).
    /// `progress(done, total)` is called as tags are checked.
    public func prune(imageRepository: Reference, signatureRepository: SignatureRepository? = nil, delete: Bool = false,
                      concurrency: Int = 8,
                      progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> PruneReport {
        let images = imageRepository.repositoryOnly
        let storage = signatureRepository?.repository ?? images
        let allTags = try await client.listTags(storage)
        let tags = allTags.compactMap(SignatureTag.init(tag:))
        // Fallback indexes live beside the image (referrers are in the image's repository).
        let indexTags = (signatureRepository == nil ? allTags : try await client.listTags(images)).compactMap(fallbackIndexDigest)
        var report = PruneReport()
        enum Status: Sendable { case exists, gone, failed(String) }
        let client = self.client
        let statuses: [(SignatureTag, Status)] = try await withThrowingTaskGroup(of: (SignatureTag, Status).self) { group in
            var results: [(SignatureTag, Status)] = []
            var iterator = tags.makeIterator()
            func add(_ tag: SignatureTag) {
                group.addTask {
                    do {
                        let found = try await client.headManifest(images.withDigest(tag.imageDigest))
                        return (tag, found == nil ? .gone : .exists)
                    } catch let error as SignetOCIError {
                        return (tag, error.code == .notFound ? .gone : .failed(error.message))
                    } catch {
                        return (tag, .failed("\(error)"))
                    }
                }
            }
            for _ in 0..<max(1, concurrency) { if let next = iterator.next() { add(next) } }
            while let result = try await group.next() {
                results.append(result)
                progress?(results.count, tags.count)
                if let next = iterator.next() { add(next) }
            }
            return results
        }
        for (tag, status) in statuses.sorted(by: { $0.0.tag < $1.0.tag }) {
            switch status {
            case .exists: report.kept.append(tag)
            case .gone: report.orphans.append(tag)
            case .failed(let reason): report.unchecked.append((tag, reason))
            }
        }
        for subject in indexTags {
            let gone: Bool
            do {
                gone = try await client.headManifest(images.withDigest(subject)) == nil
            } catch let error as SignetOCIError where error.code == .notFound {
                gone = true
            } catch {
                gone = false  // not checked: kept
            }
            if gone { report.orphanIndexes.append(subject) } else { report.keptIndexes += 1 }
        }
        if delete {
            for subject in report.orphanIndexes {
                if let removed = try await client.deleteFallbackIndex(images, subject: subject) {
                    report.deletedIndexes.append(subject)
                    report.deletedReferrers += removed.count
                }
            }
        }
        guard delete, !report.orphans.isEmpty else { return report }
        // Manifest digests of everything we keep (kept and unchecked tags): never delete those.
        var protected = Set<Digest>()
        for tag in report.kept + report.unchecked.map(\.tag) {
            if let d = try await client.headManifest(try storage.withTag(tag.tag)) { protected.insert(d.digest) }
        }
        for tag in report.orphans {
            guard let d = try await client.headManifest(try storage.withTag(tag.tag)) else { continue }
            if protected.contains(d.digest) {
                report.sharedWithKept.append(tag)
                continue
            }
            if try await client.deleteManifest(storage.withDigest(d.digest)) { report.deleted.append(tag) }
        }
        return report
    }
}
