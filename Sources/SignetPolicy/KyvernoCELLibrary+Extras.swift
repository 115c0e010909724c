import Foundation
import SignetCEL
import SignetJMESPath
import SignetPrimitives

/// Kyverno's `kyverno.time`, `kyverno.hash` and `kyverno.x509` CEL libraries (kyverno/sdk
/// `extensions/cel/libs/{time,hash,x509}`), registered beside `KyvernoCELLibrary.library`.
///
/// - `time.now() -> timestamp`, `time.truncate(timestamp, duration) -> timestamp` (Go
///   `Time.Truncate`: rounds down to a multiple of the duration since 0001-01-01T00:00:00Z; a
///   non-positive duration leaves the time unchanged), `time.toCron(timestamp) -> string`
///   (`"minute hour day month weekday"` of the UTC time).
/// - `sha1(string)`, `sha256(string)`, `md5(string)` and, since Kyverno 1.18, `hash.sha1`,
///   `hash.sha256`, `hash.md5`: the lowercase hex digest of the string's UTF-8 bytes.
/// - `x509.decode(string) -> map`: the first PEM block, a `CERTIFICATE` or `CERTIFICATE REQUEST`
///   with an RSA key, as Kyverno's JSON encoding of Go's `x509.Certificate` (restricted to the
///   fields Kyverno's CEL output carries) or `x509.CertificateRequest`.
///
/// Every function returns CEL error values on bad input, never traps; inputs are size-bounded.
public enum KyvernoCELExtras {
    /// The largest string a hash or `x509.decode` accepts (bytes); larger inputs are an error value.
    public static let maximumInputBytes = 4 << 20

    /// The `time`, `hash` and `x509` libraries.
    public static let library = CELLibrary(name: "kyverno.extras", functions: timeFunctions + hashFunctions + x509Functions + otherFunctions + encodingFunctions + KyvernoCELGzip.functions)

    // MARK: math, random

    /// Kyverno `math.round(double, int)`: Go `math.Round(v * 10^p) / 10^p` (halves away from zero);
    /// `random(pattern)` / `random()` (`[0-9a-z]{8}`) and, since 1.18, `random.random`: a string
    /// matching the regular expression (the JMESPath `random` generator, bounded there).
    static let otherFunctions: [CELFunction] = [
        CELFunction("math.round", .function("math_round_float_int", .double, .int) { v, p in
            guard let v = v.doubleValue, let p = p.intValue else { return .error(.noMatchingOverload, "math.round") }
            let shift = Foundation.pow(10.0, Double(p))
            return .double((v * shift).rounded(.toNearestOrAwayFromZero) / shift)
        }),
        CELFunction("random",
            .function("random_string_non_prefixed", .string) { s in random(s) },
            .function("random_string_default_expr_non_prefixed", parameters: []) { _ in random(.string("[0-9a-z]{8}")) }),
        CELFunction("random.random",
            .function("random_string_prefixed", .string) { s in random(s) },
            .function("random_string_default_expr_prefixed", parameters: []) { _ in random(.string("[0-9a-z]{8}")) }),
    ]

    /// `json.marshal(value)` (Go `json.Marshal`: compact, keys sorted, HTML escaped), `yaml.parse(text)`
    /// (the first document), and Kyverno's 1.18 prefixed names `user.parseServiceAccount` and
    /// `transform.listObjToMap` (the overloads of the unprefixed functions).
    static let encodingFunctions: [CELFunction] = {
        var out: [CELFunction] = [
            CELFunction("json.marshal", .function("kyverno_json_marshal", .dyn, cost: .linear(base: 1, factor: 0.1)) { (v: CELValue) -> CELValue in marshal(v) }),
            CELFunction("yaml.parse", .function("kyverno_yaml_parse", .string, cost: .linear(base: 1, factor: 0.1)) { (s: CELValue) -> CELValue in
                guard let text = s.stringValue else { return .error(.noMatchingOverload, "yaml.parse") }
                guard text.utf8.count <= maximumInputBytes else { return .error(.invalidArgument, "yaml.parse: input larger than \(maximumInputBytes) bytes") }
                guard let v = try? YAMLDocuments.parse(text).first else { return .error(.invalidArgument, "invalid YAML") }
                return CELValue(json: v)
            }),
        ]
        for (alias, name) in [("user.parseServiceAccount", "parseServiceAccount"), ("transform.listObjToMap", "listObjToMap")] {
            if let f = KyvernoCELLibrary.library.functions.first(where: { $0.name == name }) { out.append(CELFunction(alias, f.overloads)) }
        }
        return out
    }()

    static func marshal(_ v: CELValue) -> CELValue {
        do { return .string(try v.toJSON().jsonString(sortedKeys: true, escapeHTML: true)) } catch {
            return .error(.invalidArgument, "json.marshal: \(error)")
        }
    }

    static let randomExpression = try? JMESPathExpression(compiling: "random(@)", options: Variables.options)

    static func random(_ pattern: CELValue) -> CELValue {
        guard let p = pattern.stringValue else { return .error(.noMatchingOverload, "random") }
        guard p.utf8.count <= 4096 else { return .error(.invalidArgument, "random: pattern longer than 4096 bytes") }
        guard let e = randomExpression else { return .error(.unsupported, "random is unavailable") }
        do {
            guard let s = try e.evaluate(.string(p)).stringValue else { return .error(.invalidArgument, "random: no result") }
            return .string(s)
        } catch { return .error(.invalidArgument, "random: \(x509Message(error))") }
    }

    // MARK: time

    static let timeFunctions: [CELFunction] = [
        CELFunction("time.now", .function("time_now", parameters: []) { _ in now() }),
        CELFunction("time.truncate", .function("time_truncate", .timestamp, .duration) { t, d in
            guard case .timestamp(let ts) = t, case .duration(let dur) = d else { return .error(.noMatchingOverload, "time.truncate") }
            return truncate(ts, dur)
        }),
        CELFunction("time.toCron", .function("time_to_cron", .timestamp) { t in
            guard case .timestamp(let ts) = t else { return .error(.noMatchingOverload, "time.toCron") }
            return .string(cron(ts))
        }),
    ]

    /// The current time, truncated to the valid CEL range (always in range for a sane clock).
    static func now() -> CELValue {
        let interval = Date().timeIntervalSince1970
        guard interval.isFinite, let seconds = Int64(exactly: interval.rounded(.down)),
              let ts = CELTimestamp(seconds: seconds, nanos: Int32(((interval - interval.rounded(.down)) * 1e9).rounded(.down).clamped(0, 999_999_999)))
        else { return .error(.invalidArgument, "the system clock is out of range") }
        return .timestamp(ts)
    }

    /// Go `Time.Truncate(d)`: `t` rounded down to a multiple of `d` since the zero time
    /// (0001-01-01T00:00:00Z, the earliest CEL timestamp, so the offset is never negative).
    static func truncate(_ t: CELTimestamp, _ d: CELDuration) -> CELValue {
        guard d.nanoseconds > 0 else { return .timestamp(t) }
        let zero = Int128(CELTimestamp.minSeconds) * 1_000_000_000
        let offset = t.nanosecondsSinceEpoch - zero
        let rounded = offset - offset % d.nanoseconds
        guard let out = CELTimestamp(nanosecondsSinceEpoch: zero + rounded) else { return .error(.overflow, "time.truncate") }
        return .timestamp(out)
    }

    /// `"minute hour day month weekday"` of `t` in UTC (Kyverno `time.toCron`).
    static func cron(_ t: CELTimestamp) -> String {
        let u = t.utc
        return "\(u.secondOfDay % 3600 / 60) \(u.secondOfDay / 3600) \(u.day) \(u.month) \(u.weekday)"
    }

    // MARK: hash

    /// The JMESPath implementations of Kyverno's `sha1`/`sha256`/`md5` (identical definitions).
    static let hashExpressions: [String: JMESPathExpression] = {
        var out: [String: JMESPathExpression] = [:]
        for name in ["sha1", "sha256", "md5"] {
            if let e = try? JMESPathExpression(compiling: "\(name)(@)", options: Variables.options) { out[name] = e }
        }
        return out
    }()

    static func hash(_ algorithm: String, _ value: CELValue) -> CELValue {
        guard let s = value.stringValue else { return .error(.noMatchingOverload, algorithm) }
        guard s.utf8.count <= maximumInputBytes else { return .error(.invalidArgument, "\(algorithm): input larger than \(maximumInputBytes) bytes") }
        guard let e = hashExpressions[algorithm], let out = try? e.evaluate(.string(s)), let hex = out.stringValue else {
            return .error(.invalidArgument, "\(algorithm): hashing failed")
        }
        return .string(hex)
    }

    static let hashFunctions: [CELFunction] = ["sha1", "sha256", "md5"].flatMap { name -> [CELFunction] in
        let cost = CELCost.linear(base: 1, factor: 0.01)
        return [
            CELFunction(name, .function("\(name)_string_non_prefixed", .string, cost: cost) { s in hash(name, s) }),
            CELFunction("hash.\(name)", .function("\(name)_string_prefixed", .string, cost: cost) { s in hash(name, s) }),
        ]
    }

    // MARK: x509

    static let x509Expression = try? JMESPathExpression(compiling: "x509_decode(@)", options: Variables.options)

    /// The fields of Kyverno's CEL `CertificateOutput` (a subset of Go's `x509.Certificate`).
    static let certificateFields: [String] = [
        "Raw", "RawTBSCertificate", "RawSubjectPublicKeyInfo", "RawSubject", "RawIssuer", "Signature",
        "PublicKeyAlgorithm", "PublicKey", "SerialNumber", "Issuer", "NotBefore", "NotAfter", "KeyUsage",
        "Extensions", "ExtraExtensions", "ExtKeyUsage", "BasicConstraintsValid", "IsCA", "MaxPathLen",
        "MaxPathLenZero", "AuthorityKeyId", "OCSPServer", "IssuingCertificateURL", "DNSNames", "EmailAddresses",
        "IPAddresses", "PermittedDNSDomainsCritical", "PermittedDNSDomains", "ExcludedDNSDomains",
        "PermittedIPRanges", "ExcludedIPRanges", "PermittedEmailAddresses", "ExcludedEmailAddresses",
        "PermittedURIDomains", "ExcludedURIDomains", "CRLDistributionPoints", "PolicyIdentifiers",
    ]

    /// `x509.decode(pem)`: Kyverno's map of a certificate or certificate request.
    static func decode(_ value: CELValue) -> CELValue {
        guard let text = value.stringValue else { return .error(.noMatchingOverload, "x509.decode") }
        guard text.utf8.count <= maximumInputBytes else { return .error(.invalidArgument, "x509.decode: input larger than \(maximumInputBytes) bytes") }
        guard let expression = x509Expression else { return .error(.unsupported, "x509.decode is unavailable") }
        let decoded: JSONValue
        do { decoded = try expression.evaluate(.string(text)) } catch {
            return .error(.invalidArgument, x509Message(error))
        }
        guard let object = decoded.objectValue else { return .error(.invalidArgument, "x509.decode: unexpected result") }
        // a certificate request is Go's whole CertificateRequest; a certificate Kyverno's subset
        guard object["RawTBSCertificate"] != nil else { return CELValue(json: decoded) }
        var out: [String: JSONValue] = [:]
        for f in certificateFields { out[f] = object[f] ?? .null }
        // Kyverno: `cert.SerialNumber.Int64()` (the low 64 bits of the magnitude, with the sign)
        if let raw = object["Raw"]?.stringValue, let der = Data(base64Encoded: raw), let serial = DERSerial.int64(of: [UInt8](der)) {
            out["SerialNumber"] = .integer(serial)
        }
        return CELValue(json: .object(out))
    }

    static func x509Message(_ error: any Error) -> String {
        if let j = error as? JMESPathError { return j.message }
        return "\(error)"
    }

    static let x509Functions: [CELFunction] = [
        CELFunction("x509.decode", .function("x509_decode_string", .string, cost: .linear(base: 1, factor: 0.1)) { s in decode(s) }),
    ]
}

/// Reads the serial number of a DER certificate (RFC 5280 §4.1: Certificate → TBSCertificate →
/// [0] version? → serialNumber INTEGER) as Go's `big.Int.Int64` gives it. Bounded: at most a
/// handful of headers are read, and every length is checked against the remaining bytes.
enum DERSerial {
    static func header(_ b: [UInt8], _ i: Int) -> (tag: UInt8, start: Int, end: Int)? {
        guard i >= 0, i + 1 < b.count else { return nil }
        let tag = b[i]
        var length = Int(b[i + 1])
        var start = i + 2
        if length & 0x80 != 0 {
            let n = length & 0x7F
            guard n >= 1, n <= 4, start + n <= b.count else { return nil }
            length = 0
            for k in 0..<n { length = length << 8 | Int(b[start + k]) }
            start += n
        }
        let (end, overflow) = start.addingReportingOverflow(length)
        guard !overflow, end <= b.count else { return nil }
        return (tag, start, end)
    }

    static func int64(of der: [UInt8]) -> Int64? {
        guard let cert = header(der, 0), cert.tag == 0x30, let tbs = header(der, cert.start), tbs.tag == 0x30 else { return nil }
        var i = tbs.start
        if let v = header(der, i), v.tag == 0xA0 { i = v.end }
        guard let serial = header(der, i), serial.tag == 0x02, serial.end > serial.start else { return nil }
        let bytes = Array(der[serial.start..<serial.end])
        let negative = bytes[0] & 0x80 != 0
        // two's complement → magnitude
        var magnitude = bytes
        if negative {
            magnitude = magnitude.map { ~$0 }
            var k = magnitude.count - 1
            while k >= 0 {
                let (v, o) = magnitude[k].addingReportingOverflow(1)
                magnitude[k] = v
                if !o { break }
                k -= 1
            }
        }
        var low: UInt64 = 0
        for byte in magnitude.suffix(8) { low = low << 8 | UInt64(byte) }
        let value = Int64(bitPattern: low)
        return negative ? 0 &- value : value
    }
}

extension Double {
    fileprivate func clamped(_ lo: Double, _ hi: Double) -> Double { Swift.min(Swift.max(self, lo), hi) }
}
