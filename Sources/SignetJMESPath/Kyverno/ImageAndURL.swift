import SignetPrimitives
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `image_normalize`: Kyverno's `GetImageInfo(...).String()` over distribution/reference's grammar.
enum KyvernoImage {
    static func fail(_ full: String, _ configuration: KyvernoFunctionConfiguration, _ reason: String) -> JMESPathError {
        JMESPathError(.functionFailed, "bad image: \(full), defaultRegistry: \(configuration.defaultRegistry), enableDefaultRegistryMutation: \(configuration.enableDefaultRegistryMutation): \(reason)")
    }

    static func normalize(_ image: String, configuration: KyvernoFunctionConfiguration) throws -> String {
        let full = addDefaultRegistry(image, configuration.defaultRegistry)
        guard full.utf8.count <= 4096 else { throw fail(full, configuration, "invalid reference format") }
        // The one image grammar (SignetPrimitives.ImageName), as reference.ParseNamed reads it.
        let split = ImageName(splitting: full)
        var digest = ""
        if let d = split.digest {
            digest = String(d)
            try validateDigest(digest, full, configuration)
        }
        var tag = ""
        if let t = split.tag {
            tag = String(t)
            guard ImageName.isValidTag(t) else { throw fail(full, configuration, "invalid reference format") }
        }
        let name = String(split.name)
        guard let (domainPart, pathPart) = ImageName.grammarSplit(split.name) else {
            if ImageName.grammarSplit(Substring(name.lowercased())) != nil {
                throw fail(full, configuration, "repository name must be lowercase")
            }
            throw fail(full, configuration, "invalid reference format")
        }
        let domain = String(domainPart), path = String(pathPart)
        guard name.utf8.count <= 255 else { throw fail(full, configuration, "repository name must not be more than 255 characters") }
        var registry = domain
        if digest.isEmpty && tag.isEmpty { tag = "latest" }
        if full != image && !configuration.enableDefaultRegistryMutation { registry = "" }
        var finalPath = path
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count > 1 && registry.isEmpty && parts[0].contains("_") {
            registry = String(parts[0])
            finalPath = parts.dropFirst().joined(separator: "/")
        }
        let base = registry.isEmpty ? finalPath : "\(registry)/\(finalPath)"
        return digest.isEmpty ? "\(base):\(tag)" : "\(base)@\(digest)"
    }

    /// Kyverno's addDefaultRegistry: prefix unless the first component looks like a registry.
    static func addDefaultRegistry(_ name: String, _ registry: String) -> String {
        ImageName.registryComponent(of: Substring(name)) == nil ? "\(registry)/\(name)" : name
    }

    static func validateDigest(_ d: String, _ full: String, _ configuration: KyvernoFunctionConfiguration) throws {
        guard let colon = d.firstIndex(of: ":") else { throw fail(full, configuration, "invalid reference format") }
        let alg = d[..<colon], hex = d[d.index(after: colon)...]
        guard hex.utf8.count >= 32, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }),
              let a = alg.utf8.first, (a >= 0x41 && a <= 0x5A) || (a >= 0x61 && a <= 0x7A) else {
            throw fail(full, configuration, "invalid reference format")
        }
        let expected: Int
        switch alg {
        case "sha256": expected = 64
        case "sha384": expected = 96
        case "sha512": expected = 128
        default: throw fail(full, configuration, "unsupported digest algorithm")
        }
        guard hex.utf8.count == expected else { throw fail(full, configuration, "invalid checksum digest length") }
        guard hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw fail(full, configuration, "invalid checksum digest format")
        }
    }
}

/// `is_external_url`: the URL's host is an IP that is neither loopback nor private, or a name
/// none of whose addresses is.
enum KyvernoURL {
    static func isExternal(_ text: String, resolve: (@Sendable (String) -> [String]?)?) throws -> Bool {
        let host = try hostname(text)
        if let ip = IPAddress(host) { return !(ip.isLoopback || ip.isPrivate) }
        let addresses: [String]
        if let resolve {
            guard let a = resolve(host) else { throw JMESPathError(.functionFailed, "lookup \(host): no such host") }
            addresses = a
        } else {
            addresses = try systemResolve(host)
        }
        for a in addresses {
            if let ip = IPAddress(a), ip.isLoopback || ip.isPrivate { return false }
        }
        return true
    }

    /// `url.Parse(s).Hostname()`.
    static func hostname(_ s: String) throws -> String {
        var rest = Substring(s)
        if let colon = rest.firstIndex(of: ":") {
            let scheme = rest[..<colon]
            if let f = scheme.unicodeScalars.first, f.properties.isAlphabetic, f.isASCII,
               scheme.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) }) {
                rest = rest[rest.index(after: colon)...]
            }
        }
        guard rest.hasPrefix("//") else { return "" }
        rest = rest.dropFirst(2)
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[..<end]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw JMESPathError(.functionFailed, "parse \"\(s)\": missing ']' in host")
            }
            return String(authority[authority.index(after: authority.startIndex)..<close])
        }
        if let colon = authority.lastIndex(of: ":") { return String(authority[..<colon]) }
        return String(authority)
    }

    static func systemResolve(_ host: String) throws -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard !host.isEmpty, getaddrinfo(host, nil, &hints, &result) == 0, let first = result else {
            throw JMESPathError(.functionFailed, "lookup \(host): no such host")
        }
        defer { freeaddrinfo(first) }
        var out: [String] = []
        var cur: UnsafeMutablePointer<addrinfo>? = first
        var guardCount = 0
        while let p = cur, guardCount < 256 {
            guardCount += 1
            var buf = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if let addr = p.pointee.ai_addr,
               getnameinfo(addr, p.pointee.ai_addrlen, &buf, socklen_t(buf.count), nil, 0, NI_NUMERICHOST) == 0 {
                out.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            cur = p.pointee.ai_next
        }
        return out
    }
}

/// An IPv4 or IPv6 address as Go's `net.ParseIP` reads it, with its loopback/private tests.
struct IPAddress {
    var bytes: [UInt8] // 4 or 16

    init?(_ s: String) {
        if let v4 = IPAddress.parseV4(Substring(s)) { bytes = v4; return }
        guard s.contains(":"), let v6 = IPAddress.parseV6(s) else { return nil }
        bytes = v6
    }

    static func parseV4(_ s: Substring) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  !(p.count > 1 && p.hasPrefix("0")), let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    static func parseV6(_ s: String) -> [UInt8]? {
        var head: [UInt16] = [], tail: [UInt16] = []
        var sawGap = false
        let halves = s.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowV4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let items = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, g) in items.enumerated() {
                if allowV4, i == items.count - 1, g.contains("."), let v4 = parseV4(g) {
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        if halves.count == 2 {
            sawGap = true
            guard let h = groups(halves[0], allowV4: false), let t = groups(halves[1], allowV4: true) else { return nil }
            head = h
            tail = t
        } else {
            guard let h = groups(halves[0], allowV4: true) else { return nil }
            head = h
        }
        let total = head.count + tail.count
        if sawGap { guard total < 8 else { return nil } } else { guard total == 8 else { return nil } }
        let all = head + [UInt16](repeating: 0, count: 8 - total) + tail
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// The IPv4 form of an IPv4 or IPv4-mapped IPv6 address.
    var v4: [UInt8]? {
        if bytes.count == 4 { return bytes }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
        return nil
    }

    var isLoopback: Bool {
        if let v = v4 { return v[0] == 127 }
        return bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// RFC 1918 and RFC 4193 (Go's `IP.IsPrivate`).
    var isPrivate: Bool {
        if let v = v4 {
            return v[0] == 10 || (v[0] == 172 && v[1] & 0xF0 == 16) || (v[0] == 192 && v[1] == 168)
        }
        return bytes[0] & 0xFE == 0xFC
    }
}
