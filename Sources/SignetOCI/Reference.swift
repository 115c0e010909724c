import SignetPrimitives
import Synchronization
/// An image reference `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`.
///
/// Grammar: docker/distribution `reference/regexp.go`. Normalization as go-containerregistry's
/// `name.ParseReference`: no registry (or `docker.io`) means `index.docker.io`, and a single-component
/// repository on Docker Hub gets `library/`. The first path component is the registry when it
/// contains `.` or `:`, is `localhost`, or has upper-case letters (distribution's rule).
public struct Reference: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The registry host (normalized), with port if any: `index.docker.io`, `localhost:5000`, `[::1]:5000`.
    public let registry: String
    /// The repository path inside the registry: `library/alpine`, `a/b`.
    public let repository: String
    /// The tag, if the reference names one.
    public let tag: String?
    /// The digest, if the reference names one.
    public let digest: Digest?

    /// The registry of Docker Hub, as go-containerregistry names it.
    public static let dockerHubRegistry = "index.docker.io"
    /// The tag used when a reference has neither tag nor digest.
    public static let defaultTag = "latest"
    /// distribution: `NameTotalLengthMax`.
    public static let maxNameLength = ImageName.maxNameLength

    /// Parses and normalizes `string`; throws `SignetOCIError(.invalidReference)` with the reason.
    public init(parsing string: String) throws {
        func fail(_ why: String) -> SignetOCIError {
            SignetOCIError(.invalidReference, "invalid image reference \"\(Digest.clip(string))\": \(why)")
        }
        guard !string.isEmpty else { throw SignetOCIError(.invalidReference, "invalid image reference \"\": empty") }
        // Bytes, not scalars: non-ASCII bytes are all >= 0x80 (runs on every admission).
        guard string.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw fail("contains spaces, control or non-ASCII characters")
        }
        // One grammar for every image parser in Signet (SignetPrimitives.ImageName).
        let parts = ImageName(splitting: string)
        var digest: Digest?
        if let d = parts.digest {
            let digestText = String(d)
            do { digest = try Digest(parsing: digestText) } catch let error as SignetOCIError {
                throw fail("bad digest: " + error.message.replacingOccurrences(of: "invalid digest \"\(Digest.clip(digestText))\": ", with: ""))
            }
        }
        var tag: String?
        if let t = parts.tag {
            guard !t.isEmpty else { throw fail("empty tag") }
            guard ImageName.isValidTag(t) else {
                throw fail(t.count > ImageName.maxTagLength ? "tag longer than 128 characters" : "invalid tag \"\(Digest.clip(String(t)))\" (allowed: [A-Za-z0-9_][A-Za-z0-9_.-]*)")
            }
            tag = String(t)
        }
        let name = parts.name
        guard !name.isEmpty else { throw fail("missing repository name") }
        guard name.utf8.count <= ImageName.maxNameLength else { throw fail("name longer than \(ImageName.maxNameLength) characters") }
        var registry: Substring = ""
        var repository = name
        if let (r, p) = ImageName.registryComponent(of: name) {
            if let why = ImageName.domainProblem(r, portLimit: true) { throw fail(why) }
            registry = r
            repository = p
        }
        if let why = ImageName.pathProblem(repository) { throw fail(why) }
        (self.registry, self.repository) = Reference.normalize(registry: String(registry), repository: String(repository))
        self.tag = tag
        self.digest = digest
    }

    /// `Reference(parsing:)` remembered, for the admission path, which parses the same few image
    /// names on every request (plan, then evaluation): nil when `text` is no reference. The table
    /// holds at most `memoCapacity` names and starts over when full, so hostile names cost memory
    /// only up to that bound.
    public static func parsedIfValid(_ text: String) -> Reference? {
        guard text.utf8.count <= 4 * maxNameLength else { return try? Reference(parsing: text) }
        if let hit = memo.withLock({ $0[text] }) { return hit }
        let parsed = try? Reference(parsing: text)
        memo.withLock { table in
            if table.count >= memoCapacity { table.removeAll(keepingCapacity: true) }
            table[text] = .some(parsed)
        }
        return parsed
    }

    /// Entries of the `parsedIfValid` table.
    public static let memoCapacity = 4096
    private static let memo = Mutex<[String: Reference?]>([:])
    /// Entries in the `parsedIfValid` table now (tests check the bound).
    static var memoCount: Int { memo.withLock { $0.count } }

    /// Builds a reference from parts; the parts are validated and normalized like parsed text.
    public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil) throws {
        func fail(_ why: String) -> SignetOCIError {
            SignetOCIError(.invalidReference, "invalid image reference \"\(Digest.clip(registry + "/" + repository))\": \(why)")
        }
        if !registry.isEmpty, let why = ImageName.domainProblem(Substring(registry), portLimit: true) { throw fail(why) }
        if let why = ImageName.pathProblem(Substring(repository)) { throw fail(why) }
        if let tag, !ImageName.isValidTag(tag) { throw fail("invalid tag \"\(Digest.clip(tag))\"") }
        (self.registry, self.repository) = Reference.normalize(registry: registry, repository: repository)
        self.tag = tag
        self.digest = digest
    }

    private init(unchecked registry: String, repository: String, tag: String?, digest: Digest?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// `REGISTRY/REPOSITORY` (go-containerregistry `Context().Name()`), as written into cosign payloads.
    public var repositoryName: String { "\(registry)/\(repository)" }

    /// What to ask the registry for: the digest when present, else the tag, else `latest`.
    public var identifier: String { digest?.description ?? tag ?? Reference.defaultTag }

    /// The same repository with `tag` (and no digest).
    public func withTag(_ tag: String) throws -> Reference {
        guard Reference.isValidTag(tag) else {
            throw SignetOCIError(.invalidReference, "invalid tag \"\(Digest.clip(tag))\"")
        }
        return Reference(unchecked: registry, repository: repository, tag: tag, digest: nil)
    }

    /// The same repository pinned to `digest` (the tag is dropped).
    public func withDigest(_ digest: Digest) -> Reference {
        Reference(unchecked: registry, repository: repository, tag: nil, digest: digest)
    }

    /// The same repository without tag or digest.
    public var repositoryOnly: Reference {
        Reference(unchecked: registry, repository: repository, tag: nil, digest: nil)
    }

    /// Another repository in the same registry (e.g. a signature repository).
    public func withRepository(_ repository: String) throws -> Reference {
        try Reference(parsing: "\(registry)/\(repository)")
    }

    /// `REGISTRY/REPOSITORY[:TAG][@DIGEST]`; parsing it gives back an equal reference.
    public var description: String {
        var s = repositoryName
        if let tag { s += ":" + tag }
        if let digest { s += "@" + digest.description }
        return s
    }

    /// True for registries on loopback addresses: `localhost`, `127.x.x.x`, `[::1]` (plain HTTP allowed).
    public var isLoopbackRegistry: Bool { Reference.isLoopback(host: registry) }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    // MARK: - Grammar (SignetPrimitives.ImageName)

    /// distribution: tag = `[\w][\w.-]{0,127}`.
    public static func isValidTag(_ tag: String) -> Bool { ImageName.isValidTag(tag) }

    static func normalize(registry: String, repository: String) -> (String, String) {
        // Host names are case-insensitive: `LocalHost:5000` is the registry `localhost:5000`. A
        // host that is a registry only because of its capitals (`Registry/app`) keeps them, or it
        // would read back as a Docker Hub repository.
        var registry = registry
        if registry.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5a }) {
            let lower = registry.lowercased()
            if lower.utf8.contains(where: { $0 == 0x2e || $0 == 0x3a }) || lower == "localhost" { registry = lower }
        }
        if registry.isEmpty || registry == "docker.io" || registry == "registry-1.docker.io" { registry = dockerHubRegistry }
        var repository = repository
        if registry == dockerHubRegistry && !repository.utf8.contains(UInt8(ascii: "/")) { repository = "library/" + repository }
        return (registry, repository)
    }

    /// True for `localhost`, `127.x.x.x`, `::1` (with or without brackets and port).
    public static func isLoopback(host registry: String) -> Bool {
        var host = Substring(registry)
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") { host = host[host.index(after: host.startIndex)..<close] }
            return host == "::1" || host == "0:0:0:0:0:0:0:1"
        }
        if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
