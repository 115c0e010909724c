/// The grammar of container image references, once for every parser in Signet (the OCI client's
/// `Reference`, Kyverno's `ImageInfo` naming in policies, JMESPath's `image_normalize`).
///
/// distribution/reference (`reference.go`, `regexp.go`):
/// ```
/// reference      := name [ ":" tag ] [ "@" digest ]
/// name           := [domain '/'] path-component ['/' path-component]*
/// domain         := host [':' port-number]
/// host           := domain-name | IPv4address | \[ IPv6address \]
/// domain-name    := domain-component ['.' domain-component]*
/// domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
/// port-number    := /[0-9]+/
/// path-component := alpha-numeric [separator alpha-numeric]*
/// alpha-numeric  := /[a-z0-9]+/
/// separator      := /[_.]|__|[-]+/
/// tag            := /[\w][\w.-]{0,127}/
/// ```
/// Every function is a linear scan over bytes: no regex, no allocation beyond the results.
public struct ImageName: Sendable, Hashable {
    /// Everything before the tag and digest: `[domain/]path`.
    public var name: Substring
    /// The text after the last `:` that follows the last `/` (nil: no tag written).
    public var tag: Substring?
    /// The text after the first `@` (nil: no digest written); not validated here.
    public var digest: Substring?

    /// Splits `text` into name, tag and digest without validating anything (never fails): the
    /// digest is what follows the first `@`; a `:` after the last `/` of the rest starts the tag
    /// (before a `/` it is a registry port).
    public init(splitting text: String) {
        var rest = Substring(text)
        if let at = rest.utf8.firstIndex(of: UInt8(ascii: "@")) {
            // Byte indices throughout: `Substring.index(after:)` would walk grapheme clusters.
            digest = rest[rest.utf8.index(after: at)...]
            rest = rest[..<at]
        }
        if let colon = rest.utf8.lastIndex(of: UInt8(ascii: ":")),
           !rest.utf8[colon...].contains(UInt8(ascii: "/")) {
            tag = rest[rest.utf8.index(after: colon)...]
            rest = rest[..<colon]
        }
        name = rest
    }

    /// Docker's `splitDockerDomain` rule: the first component of `name` is a registry when it
    /// contains `.` or `:`, is `localhost`, or is not all lowercase (repositories are lowercase;
    /// Go's `strings.ToLower`, so non-ASCII capitals count too).
    /// Returns nil when `name` has no registry component.
    public static func registryComponent(of name: Substring) -> (registry: Substring, path: Substring)? {
        guard let slash = name.utf8.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        let first = name[..<slash]
        let u = first.utf8
        guard u.contains(UInt8(ascii: ".")) || u.contains(UInt8(ascii: ":")) || u.elementsEqual("localhost".utf8)
            || u.contains(where: isUpper) || (u.contains { $0 >= 0x80 } && first.lowercased() != first) else { return nil }
        return (first, name[name.utf8.index(after: slash)...])
    }

    // MARK: - Grammar

    static func isLowerAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
    static func isUpper(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5a }
    static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || isUpper(c) }
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    static func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) }

    /// The longest tag distribution accepts.
    public static let maxTagLength = 128
    /// distribution's `NameTotalLengthMax`.
    public static let maxNameLength = 255

    /// `tag := [\w][\w.-]{0,127}`.
    public static func isValidTag(_ tag: Substring) -> Bool {
        let u = tag.utf8
        guard let first = u.first, u.count <= maxTagLength else { return false }
        func word(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") }
        guard word(first) else { return false }
        return u.dropFirst().allSatisfy { word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// `tag` of a whole string.
    public static func isValidTag(_ tag: String) -> Bool { isValidTag(Substring(tag)) }

    /// `path-component := [a-z0-9]+ (([._]|__|[-]+) [a-z0-9]+)*`.
    public static func isValidPathComponent(_ component: Substring) -> Bool {
        let u = component.utf8
        guard let first = u.first, let last = u.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        var i = u.startIndex
        while i < u.endIndex {
            let c = u[i]
            if isLowerAlnum(c) { i = u.index(after: i); continue }
            // One separator, then an alphanumeric (the last byte is one, so the scan stays inside).
            var j = u.index(after: i)
            switch c {
            case UInt8(ascii: "-"):
                while j < u.endIndex, u[j] == UInt8(ascii: "-") { j = u.index(after: j) }
            case UInt8(ascii: "_"):
                if j < u.endIndex, u[j] == UInt8(ascii: "_") { j = u.index(after: j) }
            case UInt8(ascii: "."):
                break
            default:
                return false
            }
            guard j < u.endIndex, isLowerAlnum(u[j]) else { return false }
            i = j
        }
        return true
    }

    /// Why `path` (components joined by `/`) is not a repository path, or nil when it is one.
    public static func pathProblem(_ path: Substring) -> String? {
        guard !path.isEmpty else { return "missing repository name" }
        var rest = path
        while true {
            // Components one by one, without building an array (this runs on every admission).
            let slash = rest.utf8.firstIndex(of: UInt8(ascii: "/"))
            let component = rest[..<(slash ?? rest.endIndex)]
            defer { if let slash { rest = rest[rest.index(after: slash)...] } }
            if component.isEmpty { return "empty path component in repository \"\(clip(path))\"" }
            if component.utf8.contains(where: isUpper) { return "repository name must be lowercase (\"\(clip(path))\")" }
            if !isValidPathComponent(component) {
                return "invalid repository path component \"\(clip(component))\" (allowed: lowercase letters, digits, and single separators . _ __ -)"
            }
            if slash == nil { return nil }
        }
    }

    /// Why `domain` (`host[:port]`) is not a registry, or nil when it is one. The port is digits, as
    /// distribution's grammar has it; `portLimit` adds the TCP range check (1-65535).
    public static func domainProblem(_ domain: Substring, portLimit: Bool = false) -> String? {
        var host = domain
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.utf8.firstIndex(of: UInt8(ascii: "]")) else { return "unterminated IPv6 address in registry \"\(clip(domain))\"" }
            let inner = host[host.index(after: host.startIndex)..<close]
            guard !inner.isEmpty, inner.utf8.allSatisfy({ isHex($0) || $0 == UInt8(ascii: ":") }) else {
                return "invalid IPv6 address in registry \"\(clip(domain))\""
            }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return "invalid registry \"\(clip(domain))\"" }
                port = after.dropFirst()
            }
        } else {
            if let colon = host.utf8.firstIndex(of: UInt8(ascii: ":")) {
                port = host[host.index(after: colon)...]
                host = host[..<colon]
            }
            guard !host.isEmpty else { return "empty registry host in \"\(clip(domain))\"" }
            // Labels: alphanumeric at both ends, `-` inside; checked in one pass over the bytes.
            var previous: UInt8 = UInt8(ascii: ".")
            for c in host.utf8 {
                let ok: Bool
                switch c {
                case UInt8(ascii: "."): ok = isAlnum(previous)
                case UInt8(ascii: "-"): ok = previous != UInt8(ascii: ".")
                default: ok = isAlnum(c)
                }
                guard ok else { return "invalid registry host \"\(clip(host))\"" }
                previous = c
            }
            guard isAlnum(previous) else { return "invalid registry host \"\(clip(host))\"" }
        }
        if let port {
            guard !port.isEmpty, port.utf8.allSatisfy(isDigit) else { return "invalid registry port in \"\(clip(domain))\"" }
            if portLimit {
                guard port.utf8.count <= 5, let n = Int(port), n > 0, n <= 65535 else { return "invalid registry port in \"\(clip(domain))\"" }
            }
        }
        return nil
    }

    /// Splits `name` as distribution's anchored name expression does: the first component is the
    /// domain when it is one and the rest is a valid path, else the whole name is a path. Nil when
    /// neither reading is valid.
    public static func grammarSplit(_ name: Substring) -> (domain: Substring, path: Substring)? {
        if let slash = name.utf8.firstIndex(of: UInt8(ascii: "/")) {
            let first = name[..<slash], rest = name[name.index(after: slash)...]
            if domainProblem(first) == nil, pathProblem(rest) == nil { return (first, rest) }
        }
        return pathProblem(name) == nil ? (name[name.startIndex..<name.startIndex], name) : nil
    }

    /// At most 80 characters of `text`, for messages about hostile input.
    static func clip(_ text: Substring) -> String {
        text.count <= 80 ? String(text) : String(text.prefix(80)) + "..."
    }
}
