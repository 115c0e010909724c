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
    public static let maxNameLength = 255

    /// Parses and normalizes `string`; throws `SignetOCIError(.invalidReference)` with the reason.
    public init(parsing string: String) throws {
        func fail(_ why: String) -> SignetOCIError {
            SignetOCIError(.invalidReference, "invalid image reference \"\(Digest.clip(string))\": \(why)")
        }
        guard !string.isEmpty else { throw SignetOCIError(.invalidReference, "invalid image reference \"\": empty") }
        guard string.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }) else {
            throw fail("contains spaces, control or non-ASCII characters")
        }
        var rest = Substring(string)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            let digestText = String(rest[rest.index(after: at)...])
            do { digest = try Digest(parsing: digestText) } catch let error as SignetOCIError {
                throw fail("bad digest: " + error.message.replacingOccurrences(of: "invalid digest \"\(Digest.clip(digestText))\": ", with: ""))
            }
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].utf8.contains(UInt8(ascii: "/")) {
            // A colon after the last slash is a tag; before it, it is a port.
            let t = String(rest[rest.index(after: colon)...])
            guard !t.isEmpty else { throw fail("empty tag") }
            guard Reference.isValidTag(t) else {
                throw fail(t.count > 128 ? "tag longer than 128 characters" : "invalid tag \"\(Digest.clip(t))\" (allowed: [A-Za-z0-9_][A-Za-z0-9_.-]*)")
            }
            tag = t
            rest = rest[..<colon]
        }
        let name = String(rest)
        guard !name.isEmpty else { throw fail("missing repository name") }
        guard name.count <= Reference.maxNameLength else { throw fail("name longer than \(Reference.maxNameLength) characters") }

        var registry = ""
        var repository = name
        if let slash = name.firstIndex(of: "/") {
            let first = name[..<slash]
            let u = first.utf8
            if u.contains(UInt8(ascii: ".")) || u.contains(UInt8(ascii: ":")) || first == "localhost"
                || u.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) {
                registry = String(first)
                repository = String(name[name.index(after: slash)...])
            }
        }
        if !registry.isEmpty {
            if let why = Reference.registryProblem(registry) { throw fail(why) }
        }
        if let why = Reference.repositoryProblem(repository) { throw fail(why) }
        (self.registry, self.repository) = Reference.normalize(registry: registry, repository: repository)
        self.tag = tag
        self.digest = digest
    }

    /// Builds a reference from parts; the parts are validated and normalized like parsed text.
    public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil) throws {
        func fail(_ why: String) -> SignetOCIError {
            SignetOCIError(.invalidReference, "invalid image reference \"\(Digest.clip(registry + "/" + repository))\": \(why)")
        }
        if !registry.isEmpty, let why = Reference.registryProblem(registry) { throw fail(why) }
        if let why = Reference.repositoryProblem(repository) { throw fail(why) }
        if let tag, !Reference.isValidTag(tag) { throw fail("invalid tag \"\(Digest.clip(tag))\"") }
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

    // MARK: - Grammar

    /// distribution: tag = `[\w][\w.-]{0,127}`.
    public static func isValidTag(_ tag: String) -> Bool {
        let u = Array(tag.utf8)
        guard !u.isEmpty, u.count <= 128 else { return false }
        func word(_ c: UInt8) -> Bool { isLowerAlnum(c) || (c >= 0x41 && c <= 0x5a) || c == 0x5f }
        guard word(u[0]) else { return false }
        return u.dropFirst().allSatisfy { word($0) || $0 == 0x2e || $0 == 0x2d }
    }

    static func isLowerAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }

    /// distribution: path-component = `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
    static func isValidPathComponent(_ component: Substring) -> Bool {
        let u = Array(component.utf8)
        guard let first = u.first, let last = u.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        var i = 0
        while i < u.count {
            if isLowerAlnum(u[i]) { i += 1; continue }
            // A separator run between alphanumerics.
            var j = i
            while j < u.count && !isLowerAlnum(u[j]) { j += 1 }
            let sep = u[i..<j]
            let ok = sep.elementsEqual([0x2e]) || sep.elementsEqual([0x5f]) || sep.elementsEqual([0x5f, 0x5f])
                || sep.allSatisfy { $0 == 0x2d }
            guard ok else { return false }
            i = j
        }
        return true
    }

    static func repositoryProblem(_ repository: String) -> String? {
        guard !repository.isEmpty else { return "missing repository name" }
        for component in repository.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "empty path component in repository \"\(Digest.clip(repository))\"" }
            if component.contains(where: { $0.isUppercase }) {
                return "repository name must be lowercase (\"\(Digest.clip(repository))\")"
            }
            if !isValidPathComponent(component) {
                return "invalid repository path component \"\(Digest.clip(String(component)))\" (allowed: lowercase letters, digits, and single separators . _ __ -)"
            }
        }
        return nil
    }

    /// distribution: domain = host[:port], host = domain-name | IPv4 | `[` IPv6 `]`.
    static func registryProblem(_ registry: String) -> String? {
        var host = Substring(registry)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return "unterminated IPv6 address in registry \"\(registry)\"" }
            let inner = host[host.index(after: host.startIndex)..<close]
            guard !inner.isEmpty, inner.contains(":"),
                  inner.allSatisfy({ $0.isHexDigit || $0 == ":" }) else { return "invalid IPv6 address in registry \"\(registry)\"" }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return "invalid registry \"\(registry)\"" }
                port = after.dropFirst()
            }
            host = host[...close]
        } else {
            if let colon = host.firstIndex(of: ":") {
                port = host[host.index(after: colon)...]
                host = host[..<colon]
            }
            guard !host.isEmpty else { return "empty registry host in \"\(registry)\"" }
            for label in host.split(separator: ".", omittingEmptySubsequences: false) {
                let u = Array(label.utf8)
                func alnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (c >= 0x41 && c <= 0x5a) }
                guard let f = u.first, let l = u.last, alnum(f), alnum(l),
                      u.allSatisfy({ alnum($0) || $0 == 0x2d }) else {
                    return "invalid registry host \"\(Digest.clip(String(host)))\""
                }
            }
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let n = Int(port), n > 0, n <= 65535 else {
                return "invalid registry port in \"\(registry)\""
            }
        }
        return nil
    }

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
