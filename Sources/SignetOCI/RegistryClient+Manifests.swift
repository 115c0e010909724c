import Foundation
import NIOHTTP1

extension RegistryClient {
    static func manifestPath(_ ref: Reference) -> String { "/v2/\(ref.repository)/manifests/\(ref.identifier)" }

    static func acceptHeader(_ accept: [MediaType]) -> (String, String) {
        ("Accept", accept.map(\.rawValue).joined(separator: ", "))
    }

    static func contentType(_ response: Response) -> MediaType? {
        guard let value = response.header("Content-Type") else { return nil }
        let base = value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return base.isEmpty ? nil : MediaType(base)
    }

    /// HEAD of a manifest: its descriptor, or nil when the registry answers 404.
    /// Falls back to GET when the registry sends no `Docker-Content-Digest`.
    public func headManifest(_ reference: Reference, accept: [MediaType] = MediaType.manifestAcceptList) async throws -> Descriptor? {
        let response = try await send(Request(method: .HEAD, target: Self.manifestPath(reference),
                                              headers: [Self.acceptHeader(accept)], scopes: [Self.scope(reference)]),
                                      registry: reference.registry)
        switch response.status {
        case 200:
            if let digestText = response.header("Docker-Content-Digest"), let digest = try? Digest(parsing: digestText),
               let type = Self.contentType(response), let length = response.header("Content-Length").flatMap(Int64.init) {
                if let wanted = reference.digest, wanted != digest {
                    throw SignetOCIError(.digestMismatch, "registry \(reference.registry) answered digest \(digest) for \(reference)")
                }
                return Descriptor(mediaType: type, digest: digest, size: length)
            }
            return try await getManifest(reference, accept: accept).descriptor
        case 404:
            return nil
        default:
            throw failure(response, "cannot check manifest \(reference)", registry: reference.registry)
        }
    }

    /// The descriptor (digest, media type, size) a tag or digest points to, computed from the
    /// manifest bytes (GET + re-hash, never the registry's word alone); throws `.notFound` if absent.
    /// Use `headManifest` for a cheaper check that trusts the registry's `Docker-Content-Digest`.
    public func resolve(_ reference: Reference) async throws -> Descriptor {
        do {
            return try await getManifest(reference).descriptor
        } catch let e as SignetOCIError where e.code == .notFound {
            throw SignetOCIError(.notFound, "manifest \(reference) not found", status: 404, underlying: e)
        }
    }

    /// GETs a manifest, re-hashing its bytes: a digest reference must match exactly, and a tag's bytes
    /// must match the `Docker-Content-Digest` the registry sends. Manifests over 4 MiB are refused.
    public func getManifest(_ reference: Reference, accept: [MediaType] = MediaType.manifestAcceptList) async throws -> FetchedManifest {
        let response = try await send(Request(method: .GET, target: Self.manifestPath(reference),
                                              headers: [Self.acceptHeader(accept)], scopes: [Self.scope(reference)],
                                              maxBody: Self.maxManifestSize),
                                      registry: reference.registry)
        guard response.status == 200 else {
            throw failure(response, "cannot get manifest \(reference)", registry: reference.registry)
        }
        let bytes = response.body
        let wanted = reference.digest ?? response.header("Docker-Content-Digest").flatMap { try? Digest(parsing: $0) }
        let digest: Digest
        if let wanted {
            guard wanted.matches(bytes) else {
                throw SignetOCIError(.digestMismatch,
                                     "manifest from \(reference.registry) for \(reference) does not match digest \(wanted) (got \(Digest.sha256(bytes)))")
            }
            digest = wanted
        } else {
            digest = .sha256(bytes)
        }
        var type = Self.contentType(response)
        if type == nil || !(type!.isManifest) {
            struct Probe: Decodable { let mediaType: MediaType?; let manifests: [Descriptor]? }
            if let probe = try? JSONDecoder().decode(Probe.self, from: bytes) {
                type = probe.mediaType ?? (probe.manifests != nil ? .ociIndex : .ociManifest)
            }
        }
        guard let type else {
            throw SignetOCIError(.invalidFormat, "manifest \(reference) has no media type")
        }
        return FetchedManifest(bytes: bytes, mediaType: type, digest: digest)
    }

    /// PUTs manifest bytes to a tag or digest reference; returns their SHA-256 digest.
    @discardableResult
    public func putManifest(_ bytes: Data, mediaType: MediaType, to reference: Reference) async throws -> Digest {
        try await putManifestReturningSubject(bytes, mediaType: mediaType, to: reference).digest
    }

    /// PUTs a manifest and reports whether the registry acknowledged its `subject` (`OCI-Subject` header).
    func putManifestReturningSubject(_ bytes: Data, mediaType: MediaType, to reference: Reference) async throws -> (digest: Digest, subjectAcknowledged: Bool) {
        guard bytes.count <= Self.maxManifestSize else {
            throw SignetOCIError(.sizeMismatch, "manifest is \(bytes.count) bytes, over the 4 MiB limit")
        }
        let digest = Digest.sha256(bytes)
        if let d = reference.digest, d != digest {
            throw SignetOCIError(.digestMismatch, "manifest bytes do not match \(d) (they hash to \(digest))")
        }
        let response = try await send(Request(method: .PUT, target: Self.manifestPath(reference),
                                              headers: [("Content-Type", mediaType.rawValue)], body: bytes,
                                              scopes: [Self.scope(reference, push: true)]),
                                      registry: reference.registry)
        guard response.status == 201 || response.status == 200 || response.status == 202 else {
            throw failure(response, "cannot push manifest to \(reference)", registry: reference.registry)
        }
        if let returned = response.header("Docker-Content-Digest"), let d = try? Digest(parsing: returned), d != digest, d.algorithm == "sha256" {
            throw SignetOCIError(.digestMismatch, "registry \(reference.registry) stored the manifest as \(d), expected \(digest)")
        }
        return (digest, response.header("OCI-Subject") != nil)
    }

    /// DELETEs a manifest. A tag reference is resolved to its digest first (deleting the manifest
    /// removes every tag pointing to it, as distribution does). Returns false if it did not exist.
    @discardableResult
    public func deleteManifest(_ reference: Reference) async throws -> Bool {
        var target = reference
        if reference.digest == nil {
            guard let d = try await headManifest(reference) else { return false }
            target = reference.withDigest(d.digest)
        }
        let response = try await send(Request(method: .DELETE, target: Self.manifestPath(target),
                                              scopes: ["repository:\(reference.repository):delete"]),
                                      registry: reference.registry)
        switch response.status {
        case 200, 202, 204: return true
        case 404: return false
        default: throw failure(response, "cannot delete manifest \(target)", registry: reference.registry)
        }
    }

    /// All tags of a repository, following `Link: <...>; rel="next"` pages of `pageSize` (`n=`) each.
    /// A repository the registry does not know (404 on the first page) has no tags: `[]`.
    public func listTags(_ repository: Reference, pageSize: Int? = nil) async throws -> [String] {
        var target: String? = "/v2/\(repository.repository)/tags/list" + (pageSize.map { "?n=\($0)" } ?? "")
        var tags: [String] = []
        var pages = 0
        while let current = target {
            pages += 1
            guard pages <= 10_000 else { throw SignetOCIError(.registryError, "too many tag pages from \(repository.registry)") }
            let response = try await send(Request(method: .GET, target: current, scopes: [Self.scope(repository)], maxBody: 16 << 20),
                                          registry: repository.registry)
            if response.status == 404 && pages == 1 { return [] }
            guard response.status == 200 else {
                throw failure(response, "cannot list tags of \(repository.repositoryName)", registry: repository.registry)
            }
            struct Page: Decodable { let tags: [String]? }
            guard let page = try? JSONDecoder().decode(Page.self, from: response.body) else {
                throw SignetOCIError(.invalidFormat, "tag list from \(repository.registry) is not valid json")
            }
            tags += page.tags ?? []
            target = Self.nextLink(response.header("Link")).map { Self.resolveLocation($0, base: response.url) }
        }
        return tags
    }

    /// Repository names of a registry (`GET /v2/_catalog`), following `Link` pages of `pageSize`.
    public func catalog(registry: String, pageSize: Int? = nil) async throws -> [String] {
        var target: String? = "/v2/_catalog" + (pageSize.map { "?n=\($0)" } ?? "")
        var names: [String] = []
        var pages = 0
        while let current = target {
            pages += 1
            guard pages <= 10_000 else { throw SignetOCIError(.registryError, "too many catalog pages from \(registry)") }
            let response = try await send(Request(method: .GET, target: current, scopes: ["registry:catalog:*"], maxBody: 16 << 20),
                                          registry: registry)
            guard response.status == 200 else { throw failure(response, "cannot list repositories", registry: registry) }
            struct Page: Decodable { let repositories: [String]? }
            guard let page = try? JSONDecoder().decode(Page.self, from: response.body) else {
                throw SignetOCIError(.invalidFormat, "catalog from \(registry) is not valid json")
            }
            names += page.repositories ?? []
            target = Self.nextLink(response.header("Link")).map { Self.resolveLocation($0, base: response.url) }
        }
        return names
    }

    /// The URL of `rel="next"` in an RFC 8288 Link header.
    static func nextLink(_ header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ",") {
            let segments = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = segments.first, first.hasPrefix("<"), first.hasSuffix(">") else { continue }
            if segments.dropFirst().contains(where: { $0.replacingOccurrences(of: " ", with: "") == "rel=\"next\"" || $0 == "rel=next" }) {
                return String(first.dropFirst().dropLast())
            }
        }
        return nil
    }

    // MARK: - Referrers (distribution spec 1.1)

    /// The referrers of `subject` (a reference with a digest), optionally filtered by `artifactType`.
    /// Uses `GET /v2/NAME/referrers/DIGEST`; registries without it (404) are read through the
    /// `sha256-HEX` tag-schema fallback index.
    public func referrers(_ subject: Reference, artifactType: MediaType? = nil) async throws -> [Descriptor] {
        guard let digest = subject.digest else {
            throw SignetOCIError(.invalidReference, "referrers need a digest reference, got \(subject)")
        }
        var target = "/v2/\(subject.repository)/referrers/\(digest)"
        if let artifactType { target += "?artifactType=" + (artifactType.rawValue.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? "") }
        let response = try await send(Request(method: .GET, target: target, headers: [("Accept", MediaType.ociIndex.rawValue)],
                                              scopes: [Self.scope(subject)], maxBody: Self.maxManifestSize),
                                      registry: subject.registry)
        var manifests: [Descriptor]
        if response.status == 200, (Self.contentType(response) ?? .ociIndex) == .ociIndex,
           let index = try? ImageIndex(decoding: response.body) {
            manifests = index.manifests
        } else if response.status == 404 || response.status == 400 || response.status == 405 || response.status == 200 {
            manifests = try await fallbackReferrers(subject.repositoryOnly, digest: digest)?.manifests ?? []
        } else {
            throw failure(response, "cannot list referrers of \(subject)", registry: subject.registry)
        }
        if let artifactType { manifests = manifests.filter { $0.artifactType == artifactType } }
        return manifests
    }

    /// Deletes the referrers of `subject` (a digest reference) that `matching` selects: their
    /// manifests, and their entries in the `sha256-HEX` fallback index, which is rewritten, or
    /// deleted when nothing is left in it. Returns the referrers deleted.
    @discardableResult
    public func deleteReferrers(of subject: Reference, matching: (Descriptor) -> Bool) async throws -> [Descriptor] {
        guard let digest = subject.digest else {
            throw SignetOCIError(.invalidReference, "referrers need a digest reference, got \(subject)")
        }
        let repository = subject.repositoryOnly
        let doomed = try await referrers(subject).filter(matching)
        for d in doomed { _ = try await deleteManifest(repository.withDigest(d.digest)) }
        try await dropFromFallbackIndex(repository, subject: digest, removing: Set(doomed.map(\.digest)))
        return doomed
    }

    /// Deletes every referrer listed in the `sha256-HEX` fallback index of `subject` and the index
    /// itself (the subject is gone: `prune`). Returns the referrers deleted; nil when there is no index.
    public func deleteFallbackIndex(_ repository: Reference, subject: Digest) async throws -> [Descriptor]? {
        let repo = repository.repositoryOnly
        guard let index = try await fallbackReferrers(repo, digest: subject) else { return nil }
        for d in index.manifests { _ = try await deleteManifest(repo.withDigest(d.digest)) }
        _ = try await deleteManifest(try repo.withTag(subject.tagSafe))
        return index.manifests
    }

    /// Removes `removing` from the fallback index of `subject`; deletes the index when it empties.
    func dropFromFallbackIndex(_ repository: Reference, subject: Digest, removing: Set<Digest>) async throws {
        guard !removing.isEmpty, var index = try await fallbackReferrers(repository, digest: subject) else { return }
        let before = index.manifests.count
        index.manifests.removeAll { removing.contains($0.digest) }
        guard index.manifests.count != before else { return }
        let tag = try repository.withTag(subject.tagSafe)
        if index.manifests.isEmpty {
            _ = try await deleteManifest(tag)
        } else {
            _ = try await putManifest(index.jsonData(), mediaType: .ociIndex, to: tag)
        }
    }

    /// The fallback referrers index at tag `sha256-HEX`, or nil if there is none.
    func fallbackReferrers(_ repository: Reference, digest: Digest) async throws -> ImageIndex? {
        let tagRef = try repository.withTag(digest.tagSafe)
        guard try await headManifest(tagRef, accept: [.ociIndex]) != nil else { return nil }
        let fetched = try await getManifest(tagRef, accept: [.ociIndex])
        guard fetched.mediaType == .ociIndex else { return nil }
        return try ImageIndex(decoding: fetched.bytes)
    }

    /// Pushes a manifest that has a `subject` (an OCI 1.1 referrer) by digest. If the registry does not
    /// acknowledge the subject (`OCI-Subject`), the descriptor is added to the `sha256-HEX` fallback index.
    @discardableResult
    public func pushReferrer(_ bytes: Data, mediaType: MediaType, artifactType: MediaType?,
                             annotations: [String: String]? = nil, subject: Reference) async throws -> Descriptor {
        guard let subjectDigest = subject.digest else {
            throw SignetOCIError(.invalidReference, "a referrer needs a subject digest, got \(subject)")
        }
        let digest = Digest.sha256(bytes)
        let (_, acknowledged) = try await putManifestReturningSubject(bytes, mediaType: mediaType, to: subject.withDigest(digest))
        let descriptor = Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count),
                                    annotations: annotations, artifactType: artifactType)
        if !acknowledged {
            var index = try await fallbackReferrers(subject.repositoryOnly, digest: subjectDigest) ?? ImageIndex(manifests: [])
            if !index.manifests.contains(where: { $0.digest == digest }) {
                index.manifests.append(descriptor)
                try await putManifest(index.jsonData(), mediaType: .ociIndex, to: subject.repositoryOnly.withTag(subjectDigest.tagSafe))
            }
        }
        return descriptor
    }
}
