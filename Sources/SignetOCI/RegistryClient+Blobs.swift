import Foundation
import NIOHTTP1

extension RegistryClient {
    /// True if `digest` exists in `repository` (HEAD, following redirects).
    public func blobExists(_ repository: Reference, digest: Digest) async throws -> Bool {
        let response = try await send(Request(method: .HEAD, target: "/v2/\(repository.repository)/blobs/\(digest)",
                                              scopes: [Self.scope(repository)], followRedirects: true),
                                      registry: repository.registry)
        switch response.status {
        case 200: return true
        case 404: return false
        default: throw failure(response, "cannot check blob \(digest) in \(repository.repositoryName)", registry: repository.registry)
        }
    }

    /// Downloads a blob and checks it against `digest`. Redirects (e.g. to object storage) are
    /// followed without sending our Authorization to the other host. `maxSize` caps the download.
    public func getBlob(_ repository: Reference, digest: Digest, maxSize: Int = 512 << 20) async throws -> Data {
        let response: Response
        do {
            response = try await send(Request(method: .GET, target: "/v2/\(repository.repository)/blobs/\(digest)",
                                              scopes: [Self.scope(repository)], maxBody: maxSize,
                                              timeout: configuration.blobTimeout, followRedirects: true),
                                      registry: repository.registry)
        } catch let e as SignetOCIError where e.code == .sizeMismatch || e.code == .transport && e.message.contains("truncated") {
            throw SignetOCIError(e.code, "blob \(digest) from \(repository.repositoryName): \(e.message)", underlying: e)
        }
        guard response.status == 200 else {
            throw failure(response, "cannot get blob \(digest) from \(repository.repositoryName)", registry: repository.registry)
        }
        guard digest.matches(response.body) else {
            throw SignetOCIError(.digestMismatch, "blob \(digest) from \(repository.repositoryName) does not match its digest (\(response.body.count) bytes received; truncated or corrupt)")
        }
        return response.body
    }

    /// Uploads a blob unless the repository already has it; returns its descriptor with `mediaType`.
    /// Small blobs go up in one POST+PUT; blobs over `monolithicUploadLimit` in PATCH chunks.
    /// With `mountFrom`, a cross-repository mount is tried first.
    @discardableResult
    public func pushBlob(_ data: Data, mediaType: MediaType = .octetStream, to repository: Reference,
                         mountFrom: Reference? = nil) async throws -> Descriptor {
        let digest = Digest.sha256(data)
        let descriptor = Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
        if try await blobExists(repository, digest: digest) { return descriptor }
        if let mountFrom, mountFrom.registry == repository.registry,
           try await mountBlob(digest, from: mountFrom, to: repository) {
            return descriptor
        }
        let location = try await startUpload(repository)
        if data.count <= configuration.monolithicUploadLimit {
            try await finishUpload(repository, location: location, digest: digest, body: data)
        } else {
            var current = location
            var offset = 0
            while offset < data.count {
                let end = min(offset + configuration.chunkSize, data.count)
                let chunk = data.subdata(in: offset..<end)
                let response = try await send(Request(method: .PATCH, target: current,
                                                      headers: [("Content-Type", "application/octet-stream"),
                                                                ("Content-Range", "\(offset)-\(end - 1)")],
                                                      body: chunk, scopes: [Self.scope(repository, push: true)],
                                                      timeout: configuration.blobTimeout),
                                              registry: repository.registry)
                guard response.status == 202 || response.status == 204 else {
                    throw failure(response, "chunk upload of \(digest) to \(repository.repositoryName) failed", registry: repository.registry)
                }
                if let next = response.header("Location") { current = Self.resolveLocation(next, base: response.url) }
                offset = end
            }
            try await finishUpload(repository, location: current, digest: digest, body: nil)
        }
        return descriptor
    }

    /// Tries `POST /v2/TO/blobs/uploads/?mount=DIGEST&from=FROM`; true when the registry mounted it.
    /// (An aborted mount leaves an upload session open; registries garbage-collect those.)
    public func mountBlob(_ digest: Digest, from source: Reference, to repository: Reference) async throws -> Bool {
        let response = try await send(Request(method: .POST,
                                              target: "/v2/\(repository.repository)/blobs/uploads/?mount=\(digest)&from=\(source.repository)",
                                              scopes: [Self.scope(repository, push: true), Self.scope(source)]),
                                      registry: repository.registry)
        switch response.status {
        case 201: return true
        case 202: return false
        default: throw failure(response, "cannot mount blob \(digest) into \(repository.repositoryName)", registry: repository.registry)
        }
    }

    func startUpload(_ repository: Reference) async throws -> String {
        let response = try await send(Request(method: .POST, target: "/v2/\(repository.repository)/blobs/uploads/",
                                              scopes: [Self.scope(repository, push: true)]),
                                      registry: repository.registry)
        guard response.status == 202, let location = response.header("Location") else {
            throw failure(response, "cannot start blob upload to \(repository.repositoryName)", registry: repository.registry)
        }
        return Self.resolveLocation(location, base: response.url)
    }

    func finishUpload(_ repository: Reference, location: String, digest: Digest, body: Data?) async throws {
        let url = location + (location.contains("?") ? "&" : "?") + "digest=\(digest)"
        var headers: [(String, String)] = []
        if body != nil { headers.append(("Content-Type", "application/octet-stream")) }
        let response = try await send(Request(method: .PUT, target: url, headers: headers, body: body,
                                              scopes: [Self.scope(repository, push: true)], timeout: configuration.blobTimeout),
                                      registry: repository.registry)
        guard response.status == 201 || response.status == 204 || response.status == 200 else {
            throw failure(response, "upload of blob \(digest) to \(repository.repositoryName) failed", registry: repository.registry)
        }
    }
}
