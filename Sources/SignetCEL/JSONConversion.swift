import SignetPrimitives

extension CELValue {
    /// Converts JSON to CEL (langdef "JSON Data Conversion"): objects become maps with string keys,
    /// arrays lists, integers int, other numbers double.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .integer(let i): self = .int(i)
        case .number(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a):
            var out: [CELValue] = []
            out.reserveCapacity(a.count)
            for e in a { out.append(CELValue(json: e)) }
            self = .list(out)
        case .object(let o):
            var m = CELMap()
            m.reserveCapacity(o.count)
            // Sorted keys: deterministic iteration, and objects of the same shape share key positions.
            if o.count <= 1 {
                for (k, v) in o { m.appendNew(CELValue(json: v), for: .string(k)) }
            } else {
                for (k, v) in o.sorted(by: { $0.key < $1.key }) { m.appendNew(CELValue(json: v), for: .string(k)) }
            }
            self = .map(m)
        }
    }

    /// Converts a result to JSON for printing: uint becomes an integer when it fits (else a number),
    /// bytes base64, timestamps RFC 3339 text, durations `"1.5s"`, types their name, optionals their
    /// value or null, map keys their string form. Errors and unknowns cannot be converted.
    public func toJSON() throws(CELError) -> JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .integer(i)
        case .uint(let u):
            if let i = Int64(exactly: u) { return .integer(i) }
            return .number(Double(u))
        case .double(let d): return .number(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .string(Base64.encode(b))
        case .list(let l):
            var out: [JSONValue] = []
            out.reserveCapacity(l.count)
            for e in l { out.append(try e.toJSON()) }
            return .array(out)
        case .map(let m):
            var out: [String: JSONValue] = [:]
            for (k, v) in m {
                let key: String
                switch k {
                case .string(let s): key = s
                case .bool(let b): key = b ? "true" : "false"
                case .int(let i): key = String(i)
                case .uint(let u): key = String(u)
                }
                out[key] = try v.toJSON()
            }
            return .object(out)
        case .type(let t): return .string(t.name)
        case .timestamp(let t): return .string(TimeSupport.format(t))
        case .duration(let d): return .string(TimeSupport.format(d))
        case .optional(let o): return try o?.toJSON() ?? .null
        case .opaque(let o): return .string(o.description)
        case .error(let e): throw e
        case .unknown(let u):
            throw CELError(.unknown, "result is unknown: \(u.attributes.joined(separator: ", "))")
        }
    }
}

/// Minimal standard base64 (RFC 4648 §4) used for printing bytes and by `string(bytes)`-free paths.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
