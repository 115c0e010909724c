// The Kubernetes IP and CIDR library (k8s.io/apiserver pkg/cel/library ip.go, cidr.go; also cel-spec
// network_ext.textproto). Addresses follow Go `net/netip`: strict dotted-quad IPv4 without leading zeros,
// RFC 4291 IPv6 text, canonical output per RFC 5952; zones and IPv4-mapped IPv6 addresses are rejected.

/// An IPv4 or IPv6 address (`net.IP`).
public struct CELIPAddress: CELOpaque, Hashable {
    /// The 4 or 16 address bytes.
    public let bytes: [UInt8]
    /// 4 or 6.
    public var family: Int { bytes.count == 4 ? 4 : 6 }

    /// The CEL type `net.IP`.
    public static let type = CELType.opaque("net.IP")
    /// The CEL runtime type of the value.
    public var celType: CELType { Self.type }

    /// Parses an address as Kubernetes' `ip()` does.
    public init(parsing text: String) throws(CELError) {
        if text.contains("%") {
            throw CELError(.invalidArgument, "IP Address '\(text)' with zone value is not allowed")
        }
        guard let parsed = IPText.parse(text) else {
            throw CELError(.invalidArgument, "IP Address '\(text)' parse error during conversion from string")
        }
        if parsed.count == 16, parsed[0..<10].allSatisfy({ $0 == 0 }), parsed[10] == 0xFF, parsed[11] == 0xFF,
           text.contains(".")
        {
            throw CELError(.invalidArgument, "IPv4-mapped IPv6 address '\(text)' is not allowed")
        }
        bytes = parsed
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// Canonical text (dotted quad, or RFC 5952 IPv6).
    public var description: String { IPText.format(bytes) }

    /// CEL equality with another library value.
    public func isEqual(to other: any CELOpaque) -> Bool {
        guard let o = other as? CELIPAddress else { return false }
        return o.unmapped == unmapped
    }

    /// The address with an IPv4-mapped IPv6 form (`::ffff:a.b.c.d`) reduced to IPv4, for equality.
    var unmapped: [UInt8] {
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return Array(bytes[12...])
        }
        return bytes
    }

    var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }
    var isLoopback: Bool {
        family == 4 ? bytes[0] == 127 : bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
    }
    var isMulticast: Bool { family == 4 ? bytes[0] & 0xF0 == 0xE0 : bytes[0] == 0xFF }
    var isLinkLocalUnicast: Bool {
        family == 4 ? bytes[0] == 169 && bytes[1] == 254 : bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80
    }
    var isLinkLocalMulticast: Bool {
        family == 4 ? bytes[0] == 224 && bytes[1] == 0 && bytes[2] == 0 : bytes[0] == 0xFF && bytes[1] & 0x0F == 0x02
    }
    /// Go `netip.Addr.IsGlobalUnicast`: not unspecified, loopback, multicast, link-local or IPv4 broadcast.
    var isGlobalUnicast: Bool {
        if family == 4, bytes.allSatisfy({ $0 == 0xFF }) { return false }
        return !isUnspecified && !isLoopback && !isMulticast && !isLinkLocalUnicast
    }
}

/// An address with a prefix length (`net.CIDR`).
public struct CELCIDR: CELOpaque, Hashable {
    /// The address as written (not masked).
    public let address: CELIPAddress
    /// The prefix length.
    public let prefixLength: Int

    /// The CEL type `net.CIDR`.
    public static let type = CELType.opaque("net.CIDR")
    /// The CEL runtime type of the value.
    public var celType: CELType { Self.type }

    /// Parses `address/bits` as Kubernetes' `cidr()` does.
    public init(parsing text: String) throws(CELError) {
        if text.contains("%") {
            throw CELError(.invalidArgument, "CIDR with zone value is not allowed")
        }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let addr = IPText.parse(String(parts[0])) else {
            throw CELError(.invalidArgument, "network address parse error during conversion from string")
        }
        if addr.count == 16, addr[0..<10].allSatisfy({ $0 == 0 }), addr[10] == 0xFF, addr[11] == 0xFF,
           parts[0].contains(".")
        {
            throw CELError(.invalidArgument, "IPv4-mapped IPv6 address is not allowed")
        }
        let bitsText = parts[1]
        guard !bitsText.isEmpty, bitsText.count <= 3, bitsText.allSatisfy({ $0.isASCII && $0.isNumber }),
              bitsText == "0" || !bitsText.hasPrefix("0"), let bits = Int(bitsText), bits <= addr.count * 8
        else {
            throw CELError(.invalidArgument, "network address parse error during conversion from string")
        }
        address = CELIPAddress(bytes: addr)
        prefixLength = bits
    }

    init(address: CELIPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// The canonical text form (used by `string(x)` and JSON output).
    public var description: String { "\(address)/\(prefixLength)" }

    /// CEL equality with another library value.
    public func isEqual(to other: any CELOpaque) -> Bool {
        guard let o = other as? CELCIDR else { return false }
        return o == self
    }

    /// The prefix with host bits cleared.
    var masked: CELCIDR {
        var b = address.bytes
        for i in b.indices {
            let keep = max(0, min(8, prefixLength - i * 8))
            b[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        return CELCIDR(address: CELIPAddress(bytes: b), prefixLength: prefixLength)
    }

    func contains(_ ip: CELIPAddress) -> Bool {
        guard ip.family == address.family else { return false }
        return CELCIDR(address: ip, prefixLength: prefixLength).masked.address == masked.address
    }

    func contains(_ other: CELCIDR) -> Bool {
        other.address.family == address.family && other.prefixLength >= prefixLength && contains(other.address)
    }
}

/// IP address text parsing and formatting.
enum IPText {
    static func parse(_ text: String) -> [UInt8]? {
        guard text.utf8.count <= 64 else { return nil }
        if text.contains(":") { return parseV6(Array(text.utf8)) }
        return parseV4(Array(text.utf8))
    }

    /// Dotted quad, each part 0...255 without leading zeros.
    static func parseV4(_ s: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var value = 0
        var digits = 0
        for c in s + [UInt8(ascii: ".")] {
            if c == UInt8(ascii: ".") {
                guard digits > 0, out.count < 4 else { return nil }
                out.append(UInt8(value))
                value = 0
                digits = 0
            } else if c >= 0x30, c <= 0x39 {
                if digits > 0, value == 0 { return nil }  // leading zero
                value = value * 10 + Int(c - 0x30)
                digits += 1
                guard value <= 255 else { return nil }
            } else {
                return nil
            }
        }
        return out.count == 4 ? out : nil
    }

    static func parseV6(_ s: [UInt8]) -> [UInt8]? {
        var groups: [UInt16] = []
        var ellipsis: Int?
        var i = 0
        if s.starts(with: Array("::".utf8)) {
            ellipsis = 0
            i = 2
            if i == s.count { return [UInt8](repeating: 0, count: 16) }
        }
        var tail: [UInt8] = []
        while i < s.count {
            // Read a hex group, or an embedded IPv4 address at the end.
            var j = i
            var value: UInt32 = 0
            while j < s.count, let h = hex(s[j]) {
                value = value * 16 + h
                j += 1
                guard j - i <= 4 else { return nil }
            }
            if j < s.count, s[j] == UInt8(ascii: ".") {
                guard let v4 = parseV4(Array(s[i...])), groups.count <= 6 else { return nil }
                tail = v4
                i = s.count
                break
            }
            guard j > i else { return nil }
            groups.append(UInt16(value))
            guard groups.count <= 8 else { return nil }
            i = j
            if i == s.count { break }
            guard s[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            if i < s.count, s[i] == UInt8(ascii: ":") {
                guard ellipsis == nil else { return nil }
                ellipsis = groups.count
                i += 1
                if i == s.count { break }
            } else if i == s.count {
                return nil  // trailing single colon
            }
        }
        var words = groups
        var bytes: [UInt8] = []
        let tailWords = tail.isEmpty ? 0 : 2
        if let e = ellipsis {
            let fill = 8 - groups.count - tailWords
            guard fill >= 1 else { return nil }
            words = Array(groups[..<e]) + [UInt16](repeating: 0, count: fill) + Array(groups[e...])
        } else {
            guard groups.count + tailWords == 8 else { return nil }
        }
        for w in words {
            bytes.append(UInt8(w >> 8))
            bytes.append(UInt8(w & 0xFF))
        }
        bytes += tail
        return bytes.count == 16 ? bytes : nil
    }

    static func hex(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: UInt32(c - 0x30)
        case 0x41...0x46: UInt32(c - 0x41 + 10)
        case 0x61...0x66: UInt32(c - 0x61 + 10)
        default: nil
        }
    }

    /// Dotted quad for IPv4; RFC 5952 for IPv6 (lowercase, longest zero run of two or more groups as `::`).
    static func format(_ b: [UInt8]) -> String {
        if b.count == 4 { return b.map(String.init).joined(separator: ".") }
        var words: [UInt16] = []
        for i in stride(from: 0, to: 16, by: 2) { words.append(UInt16(b[i]) << 8 | UInt16(b[i + 1])) }
        var bestStart = -1
        var bestLen = 0
        var i = 0
        while i < 8 {
            if words[i] == 0 {
                var j = i
                while j < 8, words[j] == 0 { j += 1 }
                if j - i > bestLen, j - i >= 2 {
                    bestStart = i
                    bestLen = j - i
                }
                i = j
            } else {
                i += 1
            }
        }
        func hexWords(_ ws: ArraySlice<UInt16>) -> String { ws.map { String($0, radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hexWords(words[...]) }
        return hexWords(words[..<bestStart]) + "::" + hexWords(words[(bestStart + bestLen)...])
    }
}

extension CELExtensions {
    /// Kubernetes IP/CIDR functions: `ip(s)`, `isIP(s)`, `ip.isCanonical(s)`, `family()`, `isUnspecified()`,
    /// `isLoopback()`, `isLinkLocalMulticast()`, `isLinkLocalUnicast()`, `isGlobalUnicast()`, `string(ip)`;
    /// `cidr(s)`, `isCIDR(s)`, `containsIP(ip|string)`, `containsCIDR(cidr|string)`, `ip()`, `masked()`,
    /// `prefixLength()`, `string(cidr)`.
    public static let kubernetesIP = CELLibrary(name: "kubernetes.net", functions: [
        CELFunction("ip",
            .function("string_to_ip", .string, cost: Ext.linear()) { v in
                guard case .string(let s) = v else { return Ext.noOverload("ip") }
                return Ext.attempt { () throws(CELError) in .opaque(try CELIPAddress(parsing: s)) }
            },
            .method("cidr_ip", CELCIDR.type) { v in
                guard case .opaque(let o) = v, let c = o as? CELCIDR else { return Ext.noOverload("ip") }
                return .opaque(c.address)
            }),
        CELFunction("isIP",
            .function("is_ip", .string, cost: Ext.linear()) { v in
                guard case .string(let s) = v else { return Ext.noOverload("isIP") }
                return .bool((try? CELIPAddress(parsing: s)) != nil)
            }),
        CELFunction("ip.isCanonical",
            .function("ip_is_canonical", .string, cost: Ext.linear()) { v in
                guard case .string(let s) = v else { return Ext.noOverload("ip.isCanonical") }
                return Ext.attempt { () throws(CELError) in .bool(try CELIPAddress(parsing: s).description == s) }
            }),
        NetworkExt.ipPredicate("family", "ip_family") { .int(Int64($0.family)) },
        NetworkExt.ipPredicate("isUnspecified", "ip_is_unspecified") { .bool($0.isUnspecified) },
        NetworkExt.ipPredicate("isLoopback", "ip_is_loopback") { .bool($0.isLoopback) },
        NetworkExt.ipPredicate("isLinkLocalMulticast", "ip_is_link_local_multicast") { .bool($0.isLinkLocalMulticast) },
        NetworkExt.ipPredicate("isLinkLocalUnicast", "ip_is_link_local_unicast") { .bool($0.isLinkLocalUnicast) },
        NetworkExt.ipPredicate("isGlobalUnicast", "ip_is_global_unicast") { .bool($0.isGlobalUnicast) },
        CELFunction("string",
            .function("ip_to_string", CELIPAddress.type) { v in .string(NetworkExt.text(v)) },
            .function("cidr_to_string", CELCIDR.type) { v in .string(NetworkExt.text(v)) }),
        CELFunction("cidr",
            .function("string_to_cidr", .string, cost: Ext.linear()) { v in
                guard case .string(let s) = v else { return Ext.noOverload("cidr") }
                return Ext.attempt { () throws(CELError) in .opaque(try CELCIDR(parsing: s)) }
            }),
        CELFunction("isCIDR",
            .function("is_cidr", .string, cost: Ext.linear()) { v in
                guard case .string(let s) = v else { return Ext.noOverload("isCIDR") }
                return .bool((try? CELCIDR(parsing: s)) != nil)
            }),
        CELFunction("containsIP",
            .method("cidr_contains_ip_ip", CELCIDR.type, CELIPAddress.type) { c, i in
                guard let cidr = NetworkExt.cidr(c), let ip = NetworkExt.ip(i) else { return Ext.noOverload("containsIP") }
                return .bool(cidr.contains(ip))
            },
            .method("cidr_contains_ip_string", CELCIDR.type, .string, cost: Ext.linear()) { c, s in
                guard let cidr = NetworkExt.cidr(c), case .string(let text) = s else {
                    return Ext.noOverload("containsIP")
                }
                return Ext.attempt { () throws(CELError) in .bool(cidr.contains(try CELIPAddress(parsing: text))) }
            }),
        CELFunction("containsCIDR",
            .method("cidr_contains_cidr", CELCIDR.type, CELCIDR.type) { c, o in
                guard let cidr = NetworkExt.cidr(c), let other = NetworkExt.cidr(o) else {
                    return Ext.noOverload("containsCIDR")
                }
                return .bool(cidr.contains(other))
            },
            .method("cidr_contains_cidr_string", CELCIDR.type, .string, cost: Ext.linear()) { c, s in
                guard let cidr = NetworkExt.cidr(c), case .string(let text) = s else {
                    return Ext.noOverload("containsCIDR")
                }
                return Ext.attempt { () throws(CELError) in .bool(cidr.contains(try CELCIDR(parsing: text))) }
            }),
        CELFunction("masked",
            .method("cidr_masked", CELCIDR.type) { c in
                guard let cidr = NetworkExt.cidr(c) else { return Ext.noOverload("masked") }
                return .opaque(cidr.masked)
            }),
        CELFunction("prefixLength",
            .method("cidr_prefix_length", CELCIDR.type) { c in
                guard let cidr = NetworkExt.cidr(c) else { return Ext.noOverload("prefixLength") }
                return .int(Int64(cidr.prefixLength))
            }),
    ], types: [CELIPAddress.type, CELCIDR.type])
}

enum NetworkExt {
    static func ip(_ v: CELValue) -> CELIPAddress? {
        if case .opaque(let o) = v { return o as? CELIPAddress }
        return nil
    }

    static func cidr(_ v: CELValue) -> CELCIDR? {
        if case .opaque(let o) = v { return o as? CELCIDR }
        return nil
    }

    static func text(_ v: CELValue) -> String {
        if case .opaque(let o) = v { return o.description }
        return ""
    }

    static func ipPredicate(_ name: String, _ id: String,
                            _ body: @escaping @Sendable (CELIPAddress) -> CELValue) -> CELFunction {
        CELFunction(name, .method(id, CELIPAddress.type) { v in
            guard let ip = ip(v) else { return Ext.noOverload(name) }
            return body(ip)
        })
    }
}
