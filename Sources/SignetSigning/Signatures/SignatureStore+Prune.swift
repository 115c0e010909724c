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

/// What `prune` did with one signature tag or referrers fallback index.
public enum PruneAction: String, Sendable, Hashable, CaseIterable {
    /// Deleted (`delete: true`).
    case deleted
    /// Left alone (see the reason).
    case kept
    /// Would be deleted with `delete: true` (a dry run).
    case wouldDelete = "would-delete"
}

/// Why `prune` did what it did with an entry; an open set.
public struct PruneReason: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }

    /// HEAD of the image digest answered 200: the image exists.
    public static let imageExists = PruneReason("image-exists")
    /// HEAD of the image digest answered 404: the image is gone.
    public static let imageGone = PruneReason("image-gone")
    /// HEAD of the image digest failed (5xx, timeout, 401...): not known, so kept.
    public static let checkFailed = PruneReason("check-failed")
    /// The orphan's manifest is also the manifest of a kept tag (a DELETE would remove both).
    public static let sharedManifest = PruneReason("shared-manifest")
    /// The image came back between the check and the delete.
    public static let imageReappeared = PruneReason("image-reappeared")
    /// The tag had already disappeared when it was to be deleted.
    public static let alreadyGone = PruneReason("already-gone")
    /// Deleting it failed: the run stopped here.
    public static let deleteFailed = PruneReason("delete-failed")
    /// An earlier error stopped the run before this entry was handled.
    public static let notHandledAfterError = PruneReason("not-handled-after-error")
    /// The image repository is unknown to the registry: nothing in it can be judged gone.
    public static let imageRepositoryUnknown = PruneReason("image-repository-unknown")
}

/// What a prune entry is: a signature-kind tag, or a referrers fallback index.
public enum PruneTarget: Hashable, Sendable, CustomStringConvertible {
    /// `sha256-HEX.sig|att|sbom`.
    case signatureTag(SignatureKind)
    /// `sha256-HEX`: the OCI referrers tag-schema index (cosign v3 bundles).
    case referrersIndex

    /// `sig`, `att`, `sbom` or `referrers`, as the JSON output names it.
    public var description: String {
        switch self {
        case .signatureTag(let kind): kind.suffix
        case .referrersIndex: "referrers"
        }
    }
}

/// One signature tag (`sha256-HEX.sig`...) or referrers fallback index (`sha256-HEX`) and what
/// `prune` did with it.
public struct PruneEntry: Sendable, Hashable {
    /// Where the tag lives (the signature repository or, for fallback indexes, the image's).
    public var repository: Reference
    /// The tag: `sha256-HEX.sig|att|sbom` or `sha256-HEX`.
    public var tag: String
    /// The image digest the tag belongs to.
    public var imageDigest: Digest
    /// A signature tag (of which kind) or a fallback index.
    public var kind: PruneTarget
    public var action: PruneAction
    public var reason: PruneReason
    /// Details of a failure (the registry's answer), if any.
    public var detail: String?
}

/// The result of looking for signature tags whose image is gone.
public struct PruneReport: Sendable {
    /// Every signature tag and fallback index seen, with what was done, sorted by tag.
    public var entries: [PruneEntry] = []
    /// The error that stopped the run (nothing after it was touched), if any.
    public var failure: String?

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

    /// Whether everything was checked and handled (no check failed, nothing stopped the run).
    public var isComplete: Bool {
        failure == nil && !entries.contains { $0.reason == .checkFailed || $0.reason == .imageRepositoryUnknown }
    }
}

/// A referrers fallback tag: `sha256-<64 hex>` exactly (OCI distribution spec, referrers tag schema).
func fallbackIndexDigest(_ tag: String) -> Digest? {
    guard tag.hasPrefix("sha256-"), tag.utf8.count == 71 else { return nil }
    return try? Digest(parsing: "sha256:" + tag.dropFirst(7))
}

extension SignatureStore {
    /// What one HEAD of an image digest says.
    enum ImagePresence: Sendable {
        case exists, gone
        case failed(String)
    }

    /// An image is gone only when HEAD of its digest answers 404 (`headManifest` returns nil).
    /// Anything else — 5xx, a timeout, 401, a GET fallback that fails — is not an answer.
    static func presence(of image: Reference, client: RegistryClient) async -> ImagePresence {
        do {
            return try await client.headManifest(image) == nil ? .gone : .exists
        } catch let error as SignetOCIError {
            return .failed(error.message)
        } catch {
            return .failed("\(error)")
        }
    }

    /// Finds (and with `delete`, removes) signature tags in the signature repository (default: the
    /// image repository) whose `sha256-HEX` image no longer exists in `imageRepository`, and
    /// `sha256-HEX` referrers fallback indexes (with their bundles) of images that are gone.
    ///
    /// Safety rules, in order:
    /// - tags are deduplicated (a registry may list a tag twice across pages); the tag list is only
    ///   used to find signature tags, never to decide that an image is gone;
    /// - an image is gone only when HEAD of its digest answers 404; any other answer keeps its
    ///   signatures (`check-failed`) and makes the report incomplete;
    /// - when any check failed, nothing is deleted (the registry is not answering reliably);
    /// - right before each DELETE the image is checked again (it may have been pushed again);
    /// - an orphan whose manifest is also the manifest of a kept tag is not deleted;
    /// - the first DELETE that fails stops the run: everything after it is left alone and
    ///   reported `not-handled-after-error`, and `failure` is set.
    /// `progress(done, total)` is called as tags are checked.
    public func prune(imageRepository: Reference, signatureRepository: SignatureRepository? = nil, delete: Bool = false,
                      concurrency: Int = 8,
                      progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> PruneReport {
        let images = imageRepository.repositoryOnly
        let storage = signatureRepository?.repository ?? images
        let allTags = Array(Set(try await client.listTags(storage))).sorted()
        let tags = allTags.compactMap(SignatureTag.init(tag:))
        // Fallback indexes live beside the image (referrers are in the image's repository).
        let imageTags = signatureRepository == nil ? allTags : Array(Set(try await client.listTags(images))).sorted()
        let indexSubjects = imageTags.compactMap(fallbackIndexDigest)
        let client = self.client

        // With a separate signature repository, an image repository the registry does not know
        // (a typo) would make every image look gone: refuse to judge anything then.
        let repositoryUnknown = signatureRepository != nil && imageTags.isEmpty

        var subjects: [Digest] = tags.map(\.imageDigest) + indexSubjects
        subjects = Array(Set(subjects)).sorted { $0.description < $1.description }
        var presence: [Digest: ImagePresence] = [:]
        if repositoryUnknown {
            for s in subjects { presence[s] = .failed("image repository \(images.repositoryName) has no tags or is unknown") }
        } else {
            let total = subjects.count
            presence = await withTaskGroup(of: (Digest, ImagePresence).self) { group in
                var results: [Digest: ImagePresence] = [:]
                var iterator = subjects.makeIterator()
                for _ in 0..<max(1, min(concurrency, 64)) {
                    guard let next = iterator.next() else { break }
                    group.addTask { (next, await Self.presence(of: images.withDigest(next), client: client)) }
                }
                while let (digest, status) = await group.next() {
                    results[digest] = status
                    progress?(results.count, total)
                    if let next = iterator.next() {
                        group.addTask { (next, await Self.presence(of: images.withDigest(next), client: client)) }
                    }
                }
                return results
            }
        }

        var report = PruneReport()
        var entries: [PruneEntry] = []
        var pendingTags: [(index: Int, tag: SignatureTag)] = []
        var pendingIndexes: [(index: Int, subject: Digest)] = []
        for tag in tags {
            let status = presence[tag.imageDigest] ?? .failed("not checked")
            var entry = PruneEntry(repository: storage, tag: tag.tag, imageDigest: tag.imageDigest, kind: .signatureTag(tag.kind),
                                   action: .kept, reason: .imageExists)
            switch status {
            case .exists:
                report.kept.append(tag)
            case .gone:
                report.orphans.append(tag)
                entry.action = delete ? .kept : .wouldDelete
                entry.reason = .imageGone
                pendingTags.append((entries.count, tag))
            case .failed(let message):
                report.unchecked.append((tag, message))
                entry.reason = repositoryUnknown ? .imageRepositoryUnknown : .checkFailed
                entry.detail = message
            }
            entries.append(entry)
        }
        for subject in indexSubjects {
            let status = presence[subject] ?? .failed("not checked")
            var entry = PruneEntry(repository: images, tag: subject.tagSafe, imageDigest: subject, kind: .referrersIndex,
                                   action: .kept, reason: .imageExists)
            switch status {
            case .exists:
                report.keptIndexes += 1
            case .gone:
                report.orphanIndexes.append(subject)
                entry.action = delete ? .kept : .wouldDelete
                entry.reason = .imageGone
                pendingIndexes.append((entries.count, subject))
            case .failed(let message):
                report.keptIndexes += 1
                entry.reason = repositoryUnknown ? .imageRepositoryUnknown : .checkFailed
                entry.detail = message
            }
            entries.append(entry)
        }

        let uncheckable = entries.filter { $0.reason == .checkFailed || $0.reason == .imageRepositoryUnknown }.count
        if delete, !pendingTags.isEmpty || !pendingIndexes.isEmpty {
            var stopped: (message: String, position: Int)?
            if uncheckable > 0 {
                // Some images could not be checked: delete nothing on a registry that does not answer.
                stopped = ("not deleting anything: \(uncheckable) images could not be checked", 0)
            } else {
                stopped = await deleteOrphans(images: images, storage: storage, report: &report, entries: &entries,
                                              pendingTags: pendingTags, pendingIndexes: pendingIndexes)
            }
            if let stopped {
                report.failure = stopped.message
                for i in stopped.position..<entries.count where entries[i].reason == .imageGone && entries[i].action == .kept {
                    entries[i].reason = .notHandledAfterError
                }
            }
        }
        report.entries = entries
        return report
    }

    /// The delete phase of `prune`: tags first, then fallback indexes; the first failure stops.
    private func deleteOrphans(images: Reference, storage: Reference, report: inout PruneReport, entries: inout [PruneEntry],
                               pendingTags: [(index: Int, tag: SignatureTag)],
                               pendingIndexes: [(index: Int, subject: Digest)]) async -> (message: String, position: Int)? {
        // Manifest digests of every kept signature tag: a DELETE by digest removes all its tags.
        var protected = Set<Digest>()
        for entry in entries where entry.action == .kept && entry.reason == .imageExists && entry.kind != .referrersIndex {
            do {
                if let d = try await client.headManifest(try storage.withTag(entry.tag)) { protected.insert(d.digest) }
            } catch {
                return ("cannot read kept tag \(entry.tag): \(Self.describe(error))", 0)
            }
        }
        for (position, tag) in pendingTags {
            do {
                switch await Self.presence(of: images.withDigest(tag.imageDigest), client: client) {
                case .exists:
                    entries[position].reason = .imageReappeared
                    continue
                case .failed(let message):
                    entries[position].reason = .deleteFailed
                    entries[position].detail = message
                    return ("cannot check \(images.repositoryName)@\(tag.imageDigest) again: \(message)", position)
                case .gone:
                    break
                }
                guard let d = try await client.headManifest(try storage.withTag(tag.tag)) else {
                    entries[position].reason = .alreadyGone
                    continue
                }
                if protected.contains(d.digest) {
                    report.sharedWithKept.append(tag)
                    entries[position].reason = .sharedManifest
                    continue
                }
                if try await client.deleteManifest(storage.withDigest(d.digest)) {
                    report.deleted.append(tag)
                    entries[position].action = .deleted
                } else {
                    entries[position].reason = .alreadyGone
                }
            } catch {
                entries[position].reason = .deleteFailed
                entries[position].detail = Self.describe(error)
                return ("cannot delete \(storage.repositoryName):\(tag.tag): \(Self.describe(error))", position)
            }
        }
        for (position, subject) in pendingIndexes {
            do {
                switch await Self.presence(of: images.withDigest(subject), client: client) {
                case .exists:
                    entries[position].reason = .imageReappeared
                    continue
                case .failed(let message):
                    entries[position].reason = .deleteFailed
                    entries[position].detail = message
                    return ("cannot check \(images.repositoryName)@\(subject) again: \(message)", position)
                case .gone:
                    break
                }
                if let removed = try await client.deleteFallbackIndex(images, subject: subject) {
                    report.deletedIndexes.append(subject)
                    report.deletedReferrers += removed.count
                    entries[position].action = .deleted
                } else {
                    entries[position].reason = .alreadyGone
                }
            } catch {
                entries[position].reason = .deleteFailed
                entries[position].detail = Self.describe(error)
                return ("cannot delete \(images.repositoryName):\(subject.tagSafe): \(Self.describe(error))", position)
            }
        }
        return nil
    }

    static func describe(_ error: any Error) -> String {
        (error as? SignetOCIError)?.message ?? "\(error)"
    }
}
