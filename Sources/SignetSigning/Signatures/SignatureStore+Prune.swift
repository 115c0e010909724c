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
        let tags = try await client.listTags(storage).compactMap(SignatureTag.init(tag:))
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
