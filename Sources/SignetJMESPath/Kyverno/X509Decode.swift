import Foundation
import SignetPrimitives

/// `x509_decode`: a PEM certificate or certificate request (RSA keys only, as in Kyverno) as
/// the JSON Go's `encoding/json` produces for `x509.Certificate` / `x509.CertificateRequest`
/// after Kyverno replaces the public key by `{N, E}`. Parsed with a small bounded DER reader.
/// Not decoded (left at Go's zero values): name constraints, policy mappings/constraints.
enum X509Decode {
    static func fail(_ m: String) -> JMESPathError { JMESPathError(.functionFailed, m) }

    // MARK: DER

    struct Node {
        var tag: UInt8
        var content: ArraySlice<UInt8>
        var encoded: ArraySlice<UInt8>
        var isConstructed: Bool { tag & 0x20 != 0 }
    }

    struct Reader {
        var bytes: ArraySlice<UInt8>
        init(_ b: ArraySlice<UInt8>) { bytes = b }
        var isEmpty: Bool { bytes.isEmpty }

        mutating func next() throws -> Node {
            let start = bytes.startIndex
            guard let tag = bytes.first else { throw fail("x509: truncated DER") }
            guard tag & 0x1F != 0x1F else { throw fail("x509: unsupported high tag number") }
            var i = start + 1
            guard i < bytes.endIndex else { throw fail("x509: truncated DER") }
            var length = Int(bytes[i])
            i += 1
            if length & 0x80 != 0 {
                let n = length & 0x7F
                guard n >= 1, n <= 4 else { throw fail("x509: unsupported DER length") }
                length = 0
                for _ in 0..<n {
                    guard i < bytes.endIndex else { throw fail("x509: truncated DER") }
                    length = length << 8 | Int(bytes[i])
                    i += 1
                }
            }
            guard bytes.endIndex - i >= length else { throw fail("x509: truncated DER") }
            let node = Node(tag: tag, content: bytes[i..<(i + length)], encoded: bytes[start..<(i + length)])
            bytes = bytes[(i + length)...]
            return node
        }

        mutating func next(_ tag: UInt8, _ what: String) throws -> Node {
            let n = try next()
            guard n.tag == tag else { throw fail("x509: malformed \(what)") }
            return n
        }

        func peekTag() -> UInt8? { bytes.first }
    }

    static func children(_ n: Node) throws -> [Node] {
        var r = Reader(n.content)
        var out: [Node] = []
        while !r.isEmpty {
            guard out.count < 10_000 else { throw fail("x509: too many elements") }
            out.append(try r.next())
        }
        return out
    }

    static func oid(_ n: Node) throws -> [Int] {
        guard n.tag == 0x06, !n.content.isEmpty else { throw fail("x509: malformed OID") }
        var out: [Int] = []
        var v = 0
        var first = true
        for b in n.content {
            guard v < (Int.max >> 8) else { throw fail("x509: OID component too large") }
            v = v << 7 | Int(b & 0x7F)
            if b & 0x80 == 0 {
                if first {
                    if v < 40 { out += [0, v] } else if v < 80 { out += [1, v - 40] } else { out += [2, v - 80] }
                    first = false
                } else {
                    out.append(v)
                }
                v = 0
            }
        }
        return out
    }

    static func oidValue(_ o: [Int]) -> JSONValue { .array(o.map { .integer(Int64($0)) }) }

    static func base64(_ b: ArraySlice<UInt8>) -> JSONValue { .string(Data(b).base64EncodedString()) }

    /// Big-endian unsigned magnitude to decimal.
    static func decimal(_ magnitude: ArraySlice<UInt8>) -> String {
        var digits: [UInt8] = Array(magnitude.drop { $0 == 0 })
        if digits.isEmpty { return "0" }
        var out: [String] = []
        while !digits.isEmpty {
            var rem: UInt64 = 0
            var next: [UInt8] = []
            next.reserveCapacity(digits.count)
            for d in digits {
                let cur = rem << 8 | UInt64(d)
                let q = cur / 1_000_000_000
                rem = cur % 1_000_000_000
                if !(next.isEmpty && q == 0) { next.append(UInt8(q)) }
            }
            out.append(String(rem))
            digits = next
        }
        var s = out.removeLast()
        for chunk in out.reversed() { s += String(repeating: "0", count: 9 - chunk.count) + chunk }
        return s
    }

    static func integerValue(_ n: Node) throws -> (negative: Bool, magnitude: ArraySlice<UInt8>) {
        guard n.tag == 0x02, !n.content.isEmpty else { throw fail("x509: malformed integer") }
        if let f = n.content.first, f & 0x80 != 0 {
            // Two's complement negative: magnitude = ~x + 1.
            var b = Array(n.content).map { ~$0 }
            var i = b.count - 1
            while i >= 0 {
                let (r, o) = b[i].addingReportingOverflow(1)
                b[i] = r
                if !o { break }
                i -= 1
            }
            return (true, b[...])
        }
        return (false, n.content)
    }

    static func smallInt(_ n: Node) throws -> Int {
        let (neg, mag) = try integerValue(n)
        guard mag.drop(while: { $0 == 0 }).count <= 7 else { throw fail("x509: integer too large") }
        var v = 0
        for b in mag { v = v << 8 | Int(b) }
        return neg ? -v : v
    }

    // MARK: Names and times

    static func string(_ n: Node) -> String? {
        switch n.tag {
        case 0x0C, 0x13, 0x16, 0x14, 0x1A: return String(decoding: n.content, as: UTF8.self)
        case 0x1E: // BMPString (UTF-16BE)
            var units: [UInt16] = []
            var it = n.content.makeIterator()
            while let hi = it.next(), let lo = it.next() { units.append(UInt16(hi) << 8 | UInt16(lo)) }
            return String(decoding: units, as: UTF16.self)
        default: return nil
        }
    }

    static func name(_ n: Node) throws -> JSONValue {
        var fields: [Int: [String]] = [:]
        var serial = "", common = ""
        var names: [JSONValue] = []
        for rdn in try children(n) {
            for atv in try children(rdn) {
                let parts = try children(atv)
                guard parts.count == 2 else { throw fail("x509: malformed name") }
                let type = try oid(parts[0])
                let value = string(parts[1])
                names.append(["Type": oidValue(type), "Value": value.map { .string($0) } ?? .null])
                guard let value, type.count == 4, type[0] == 2, type[1] == 5, type[2] == 4 else { continue }
                switch type[3] {
                case 3: common = value
                case 5: serial = value
                default: fields[type[3], default: []].append(value)
                }
            }
        }
        func list(_ k: Int) -> JSONValue { fields[k].map { .array($0.map { .string($0) }) } ?? .null }
        return [
            "Country": list(6), "Organization": list(10), "OrganizationalUnit": list(11), "Locality": list(7),
            "Province": list(8), "StreetAddress": list(9), "PostalCode": list(17), "SerialNumber": .string(serial),
            "CommonName": .string(common), "Names": .array(names), "ExtraNames": .null,
        ]
    }

    static func time(_ n: Node) throws -> String {
        let s = String(decoding: n.content, as: UTF8.self)
        var digits = Array(s.utf8)
        guard digits.last == UInt8(ascii: "Z") else { throw fail("x509: malformed time") }
        digits.removeLast()
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw fail("x509: malformed time") }
        let full: String
        if n.tag == 0x17, digits.count == 12 {
            let yy = Int(String(decoding: digits[0..<2], as: UTF8.self)) ?? 0
            full = (yy < 50 ? "20" : "19") + String(decoding: digits, as: UTF8.self)
        } else if n.tag == 0x18, digits.count == 14 {
            full = String(decoding: digits, as: UTF8.self)
        } else {
            throw fail("x509: malformed time")
        }
        let c = Array(full)
        return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8]))T\(String(c[8..<10])):\(String(c[10..<12])):\(String(c[12..<14]))Z"
    }

    // MARK: Algorithms and keys

    static func signatureAlgorithm(_ o: [Int]) -> Int {
        let known: [[Int]: Int] = [
            [1, 2, 840, 113549, 1, 1, 2]: 1, [1, 2, 840, 113549, 1, 1, 4]: 2, [1, 2, 840, 113549, 1, 1, 5]: 3,
            [1, 2, 840, 113549, 1, 1, 11]: 4, [1, 2, 840, 113549, 1, 1, 12]: 5, [1, 2, 840, 113549, 1, 1, 13]: 6,
            [1, 2, 840, 10040, 4, 3]: 7, [2, 16, 840, 1, 101, 3, 4, 3, 2]: 8, [1, 2, 840, 10045, 4, 1]: 9,
            [1, 2, 840, 10045, 4, 3, 2]: 10, [1, 2, 840, 10045, 4, 3, 3]: 11, [1, 2, 840, 10045, 4, 3, 4]: 12,
            [1, 3, 101, 112]: 16,
        ]
        return known[o] ?? 0
    }

    /// SubjectPublicKeyInfo with an RSA key: `{N, E}`; other algorithms fail as in Kyverno.
    static func rsaKey(_ spki: Node) throws -> JSONValue {
        let parts = try children(spki)
        guard parts.count == 2, let algParts = try? children(parts[0]), let alg = algParts.first,
              try oid(alg) == [1, 2, 840, 113549, 1, 1, 1] else {
            throw fail("certificate should use rsa algorithm")
        }
        guard parts[1].tag == 0x03, parts[1].content.first == 0 else { throw fail("failed to parse subject public key info") }
        var r = Reader(parts[1].content.dropFirst())
        let seq = try r.next(0x30, "RSA key")
        let kp = try children(seq)
        guard kp.count == 2 else { throw fail("failed to parse subject public key info") }
        let n = try integerValue(kp[0]), e = try smallInt(kp[1])
        return ["N": .string(decimal(n.magnitude)), "E": .integer(Int64(e))]
    }

    // MARK: Extensions

    struct Extensions {
        var list: [JSONValue] = []
        var fields: [String: JSONValue] = [:]
        var unhandledCritical: [JSONValue] = []
    }

    static let extendedKeyUsages: [[Int]: Int] = [
        [2, 5, 29, 37, 0]: 0, [1, 3, 6, 1, 5, 5, 7, 3, 1]: 1, [1, 3, 6, 1, 5, 5, 7, 3, 2]: 2,
        [1, 3, 6, 1, 5, 5, 7, 3, 3]: 3, [1, 3, 6, 1, 5, 5, 7, 3, 4]: 4, [1, 3, 6, 1, 5, 5, 7, 3, 5]: 5,
        [1, 3, 6, 1, 5, 5, 7, 3, 6]: 6, [1, 3, 6, 1, 5, 5, 7, 3, 7]: 7, [1, 3, 6, 1, 5, 5, 7, 3, 8]: 8,
        [1, 3, 6, 1, 5, 5, 7, 3, 9]: 9, [1, 3, 6, 1, 4, 1, 311, 10, 3, 3]: 10, [2, 16, 840, 1, 113730, 4, 1]: 11,
        [1, 3, 6, 1, 4, 1, 311, 2, 1, 22]: 12, [1, 3, 6, 1, 4, 1, 311, 61, 1, 1]: 13,
    ]

    static func uriValue(_ s: String) -> JSONValue {
        // url.URL's exported fields for the common scheme://host/path?query#fragment form.
        var rest = Substring(s)
        var scheme = "", host = "", query = "", fragment = ""
        if let r = rest.range(of: "://") { scheme = String(rest[..<r.lowerBound]); rest = rest[r.upperBound...] }
        if let h = rest.firstIndex(of: "#") { fragment = String(rest[rest.index(after: h)...]); rest = rest[..<h] }
        if let q = rest.firstIndex(of: "?") { query = String(rest[rest.index(after: q)...]); rest = rest[..<q] }
        if !scheme.isEmpty {
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            host = String(rest[..<slash])
            rest = rest[slash...]
        }
        return ["Scheme": .string(scheme), "Opaque": "", "User": .null, "Host": .string(host), "Path": .string(String(rest)),
                "RawPath": "", "OmitHost": false, "ForceQuery": false, "RawQuery": .string(query),
                "Fragment": .string(fragment), "RawFragment": ""]
    }

    static func ipText(_ b: ArraySlice<UInt8>) -> String {
        if b.count == 4 { return b.map(String.init).joined(separator: ".") }
        let groups = stride(from: b.startIndex, to: b.endIndex, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":")
    }

    static func extensions(_ exts: [Node]) throws -> Extensions {
        var out = Extensions()
        var dns: [JSONValue] = [], emails: [JSONValue] = [], ips: [JSONValue] = [], uris: [JSONValue] = []
        for e in exts {
            let parts = try children(e)
            guard parts.count >= 2 else { throw fail("x509: malformed extension") }
            let id = try oid(parts[0])
            var critical = false
            var valueNode = parts[1]
            if parts[1].tag == 0x01 {
                critical = parts[1].content.first.map { $0 != 0 } ?? false
                guard parts.count == 3 else { throw fail("x509: malformed extension") }
                valueNode = parts[2]
            }
            guard valueNode.tag == 0x04 else { throw fail("x509: malformed extension") }
            let value = valueNode.content
            out.list.append(["Id": oidValue(id), "Critical": .bool(critical), "Value": base64(value)])
            var inner = Reader(value)
            var handled = true
            switch id {
            case [2, 5, 29, 15]:
                let bits = try inner.next(0x03, "key usage")
                let data = bits.content.dropFirst()
                var usage = 0
                for i in 0..<9 {
                    let byte = i / 8
                    guard byte < data.count else { break }
                    if data[data.startIndex + byte] & (0x80 >> UInt8(i % 8)) != 0 { usage |= 1 << i }
                }
                out.fields["KeyUsage"] = .integer(Int64(usage))
            case [2, 5, 29, 19]:
                let seq = try children(try inner.next(0x30, "basic constraints"))
                var isCA = false, maxPath = -1
                for p in seq {
                    if p.tag == 0x01 { isCA = p.content.first.map { $0 != 0 } ?? false }
                    if p.tag == 0x02 { maxPath = try smallInt(p) }
                }
                out.fields["BasicConstraintsValid"] = true
                out.fields["IsCA"] = .bool(isCA)
                out.fields["MaxPathLen"] = .integer(Int64(maxPath))
                out.fields["MaxPathLenZero"] = .bool(maxPath == 0)
            case [2, 5, 29, 14]:
                out.fields["SubjectKeyId"] = base64(try inner.next(0x04, "subject key id").content)
            case [2, 5, 29, 35]:
                for p in try children(try inner.next(0x30, "authority key id")) where p.tag == 0x80 {
                    out.fields["AuthorityKeyId"] = base64(p.content)
                }
            case [2, 5, 29, 17]:
                for g in try children(try inner.next(0x30, "subject alternative name")) {
                    switch g.tag {
                    case 0x81: emails.append(.string(String(decoding: g.content, as: UTF8.self)))
                    case 0x82: dns.append(.string(String(decoding: g.content, as: UTF8.self)))
                    case 0x86: uris.append(uriValue(String(decoding: g.content, as: UTF8.self)))
                    case 0x87:
                        guard g.content.count == 4 || g.content.count == 16 else { throw fail("x509: invalid IP length") }
                        ips.append(.string(ipText(g.content)))
                    default: break
                    }
                }
            case [2, 5, 29, 37]:
                var known: [JSONValue] = [], unknown: [JSONValue] = []
                for o in try children(try inner.next(0x30, "extended key usage")) {
                    let v = try oid(o)
                    if let k = extendedKeyUsages[v] { known.append(.integer(Int64(k))) } else { unknown.append(oidValue(v)) }
                }
                out.fields["ExtKeyUsage"] = known.isEmpty ? .null : .array(known)
                out.fields["UnknownExtKeyUsage"] = unknown.isEmpty ? .null : .array(unknown)
            case [1, 3, 6, 1, 5, 5, 7, 1, 1]:
                var ocsp: [JSONValue] = [], issuers: [JSONValue] = []
                for ad in try children(try inner.next(0x30, "authority info access")) {
                    let p = try children(ad)
                    guard p.count == 2, p[1].tag == 0x86 else { continue }
                    let url = JSONValue.string(String(decoding: p[1].content, as: UTF8.self))
                    let method = try oid(p[0])
                    if method == [1, 3, 6, 1, 5, 5, 7, 48, 1] { ocsp.append(url) }
                    if method == [1, 3, 6, 1, 5, 5, 7, 48, 2] { issuers.append(url) }
                }
                if !ocsp.isEmpty { out.fields["OCSPServer"] = .array(ocsp) }
                if !issuers.isEmpty { out.fields["IssuingCertificateURL"] = .array(issuers) }
                handled = !critical
            case [2, 5, 29, 31]:
                var points: [JSONValue] = []
                for dp in try children(try inner.next(0x30, "CRL distribution points")) {
                    for field in try children(dp) where field.tag == 0xA0 {
                        for full in try children(field) where full.tag == 0xA0 {
                            for g in try children(full) where g.tag == 0x86 {
                                points.append(.string(String(decoding: g.content, as: UTF8.self)))
                            }
                        }
                    }
                }
                if !points.isEmpty { out.fields["CRLDistributionPoints"] = .array(points) }
            case [2, 5, 29, 32]:
                var ids: [JSONValue] = [], policies: [JSONValue] = []
                for info in try children(try inner.next(0x30, "certificate policies")) {
                    guard let first = try children(info).first else { continue }
                    let o = try oid(first)
                    ids.append(oidValue(o))
                    policies.append(.string(o.map(String.init).joined(separator: ".")))
                }
                out.fields["PolicyIdentifiers"] = ids.isEmpty ? .null : .array(ids)
                out.fields["Policies"] = policies.isEmpty ? .null : .array(policies)
            case [2, 5, 29, 30], [2, 5, 29, 33], [2, 5, 29, 36], [2, 5, 29, 54]:
                handled = true // understood by Go; decoding of these is not implemented here
            default:
                handled = false
            }
            if critical && !handled { out.unhandledCritical.append(oidValue(id)) }
        }
        if !dns.isEmpty { out.fields["DNSNames"] = .array(dns) }
        if !emails.isEmpty { out.fields["EmailAddresses"] = .array(emails) }
        if !ips.isEmpty { out.fields["IPAddresses"] = .array(ips) }
        if !uris.isEmpty { out.fields["URIs"] = .array(uris) }
        return out
    }

    // MARK: Entry points

    static func decode(_ text: String) throws -> JSONValue {
        guard let (type, der) = pem(text) else { throw fail("failed to decode PEM block") }
        switch type {
        case "CERTIFICATE": return try certificate(der)
        case "CERTIFICATE REQUEST": return try request(der)
        default: throw fail("PEM block neither contains a CERTIFICATE or CERTIFICATE REQUEST")
        }
    }

    /// The first PEM block: its type and decoded bytes.
    static func pem(_ text: String) -> (String, [UInt8])? {
        guard let begin = text.range(of: "-----BEGIN ") else { return nil }
        let afterBegin = text[begin.upperBound...]
        guard let typeEnd = afterBegin.range(of: "-----") else { return nil }
        let type = String(afterBegin[..<typeEnd.lowerBound])
        let body = afterBegin[typeEnd.upperBound...]
        guard let end = body.range(of: "-----END \(type)-----") else { return nil }
        let b64 = body[..<end.lowerBound].filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: String(b64)) else { return nil }
        return (type, [UInt8](data))
    }

    static func certificate(_ der: [UInt8]) throws -> JSONValue {
        var top = Reader(der[...])
        let cert = try top.next(0x30, "certificate")
        let parts = try children(cert)
        guard parts.count == 3, parts[0].tag == 0x30, parts[2].tag == 0x03 else { throw fail("x509: malformed certificate") }
        var tbs = Reader(parts[0].content)
        var version = 0
        if tbs.peekTag() == 0xA0 {
            var v = Reader(try tbs.next().content)
            version = try smallInt(try v.next(0x02, "version"))
        }
        let serial = try integerValue(try tbs.next(0x02, "serial number"))
        _ = try tbs.next(0x30, "signature algorithm")
        let issuer = try tbs.next(0x30, "issuer")
        let validity = try children(try tbs.next(0x30, "validity"))
        guard validity.count == 2 else { throw fail("x509: malformed validity") }
        let subject = try tbs.next(0x30, "subject")
        let spki = try tbs.next(0x30, "public key")
        var extNodes: [Node] = []
        while !tbs.isEmpty {
            let n = try tbs.next()
            if n.tag == 0xA3 {
                var r = Reader(n.content)
                extNodes = try children(try r.next(0x30, "extensions"))
            }
        }
        let sigAlg = try children(parts[1]).first.map(oid) ?? []
        let publicKey = try rsaKey(spki)
        let ext = try extensions(extNodes)
        let serialText = (serial.negative ? "-" : "") + decimal(serial.magnitude)
        var out: [String: JSONValue] = [
            "Raw": base64(cert.encoded), "RawTBSCertificate": base64(parts[0].encoded),
            "RawSubjectPublicKeyInfo": base64(spki.encoded), "RawSubject": base64(subject.encoded),
            "RawIssuer": base64(issuer.encoded), "Signature": base64(parts[2].content.dropFirst()),
            "SignatureAlgorithm": .integer(Int64(signatureAlgorithm(sigAlg))), "PublicKeyAlgorithm": 1,
            "PublicKey": publicKey, "Version": .integer(Int64(version + 1)),
            "SerialNumber": Int64(serialText).map { .integer($0) } ?? .number(Double(serialText) ?? 0),
            "Issuer": try name(issuer), "Subject": try name(subject),
            "NotBefore": .string(try time(validity[0])), "NotAfter": .string(try time(validity[1])),
            "KeyUsage": 0, "Extensions": ext.list.isEmpty ? .null : .array(ext.list), "ExtraExtensions": .null,
            "UnhandledCriticalExtensions": ext.unhandledCritical.isEmpty ? .null : .array(ext.unhandledCritical),
            "ExtKeyUsage": .null, "UnknownExtKeyUsage": .null, "BasicConstraintsValid": false, "IsCA": false,
            "MaxPathLen": 0, "MaxPathLenZero": false, "SubjectKeyId": .null, "AuthorityKeyId": .null,
            "OCSPServer": .null, "IssuingCertificateURL": .null, "DNSNames": .null, "EmailAddresses": .null,
            "IPAddresses": .null, "URIs": .null, "PermittedDNSDomainsCritical": false, "PermittedDNSDomains": .null,
            "ExcludedDNSDomains": .null, "PermittedIPRanges": .null, "ExcludedIPRanges": .null,
            "PermittedEmailAddresses": .null, "ExcludedEmailAddresses": .null, "PermittedURIDomains": .null,
            "ExcludedURIDomains": .null, "CRLDistributionPoints": .null, "PolicyIdentifiers": .null, "Policies": .null,
            "InhibitAnyPolicy": 0, "InhibitAnyPolicyZero": false, "InhibitPolicyMapping": 0,
            "InhibitPolicyMappingZero": false, "PolicyMappings": .null, "RequireExplicitPolicy": 0,
            "RequireExplicitPolicyZero": false,
        ]
        for (k, v) in ext.fields { out[k] = v }
        return .object(out)
    }

    static func request(_ der: [UInt8]) throws -> JSONValue {
        var top = Reader(der[...])
        let csr = try top.next(0x30, "certificate request")
        let parts = try children(csr)
        guard parts.count == 3, parts[0].tag == 0x30, parts[2].tag == 0x03 else { throw fail("x509: malformed certificate request") }
        var info = Reader(parts[0].content)
        let version = try smallInt(try info.next(0x02, "version"))
        let subject = try info.next(0x30, "subject")
        let spki = try info.next(0x30, "public key")
        var extNodes: [Node] = []
        var hasAttributes = false
        if !info.isEmpty {
            let attrs = try info.next()
            for attr in try children(attrs) {
                hasAttributes = true
                let p = try children(attr)
                // PKCS#9 extensionRequest carries the requested extensions.
                if p.count == 2, try oid(p[0]) == [1, 2, 840, 113549, 1, 9, 14], let seq = try children(p[1]).first {
                    extNodes = try children(seq)
                }
            }
        }
        let sigAlg = try children(parts[1]).first.map(oid) ?? []
        let ext = try extensions(extNodes)
        var out: [String: JSONValue] = [
            "Raw": base64(csr.encoded), "RawTBSCertificateRequest": base64(parts[0].encoded),
            "RawSubjectPublicKeyInfo": base64(spki.encoded), "RawSubject": base64(subject.encoded),
            "Version": .integer(Int64(version)), "Signature": base64(parts[2].content.dropFirst()),
            "SignatureAlgorithm": .integer(Int64(signatureAlgorithm(sigAlg))), "PublicKeyAlgorithm": 1,
            "PublicKey": try rsaKey(spki), "Subject": try name(subject),
            "Attributes": hasAttributes ? .array([]) : .null,
            "Extensions": ext.list.isEmpty ? .null : .array(ext.list), "ExtraExtensions": .null,
            "DNSNames": .null, "EmailAddresses": .null, "IPAddresses": .null, "URIs": .null,
        ]
        for k in ["DNSNames", "EmailAddresses", "IPAddresses", "URIs"] { if let v = ext.fields[k] { out[k] = v } }
        return .object(out)
    }
}
