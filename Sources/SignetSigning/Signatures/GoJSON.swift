import Foundation

/// A JSON value written byte for byte as Go's `encoding/json.Marshal` writes it.
///
/// Cosign payloads and signature manifests are produced by Go: compact, no trailing newline,
/// struct fields in declaration order (`.object`), maps with keys sorted bytewise (`.map`), and
/// strings escaped as Go does (`<`, `>`, `&`, U+2028, U+2029 as `\u00XX`/`\u20XX`, `/` NOT escaped).
/// Foundation's `JSONEncoder` differs on several of these, so signed bytes are written here.
public indirect enum GoJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case integer(Int64)
    case string(String)
    case array([GoJSON])
    /// A Go struct: fields in the given order.
    case object([(String, GoJSON)])
    /// A Go map: keys are sorted bytewise (UTF-8) when written.
    case map([String: GoJSON])

    public static func == (lhs: GoJSON, rhs: GoJSON) -> Bool { lhs.encoded() == rhs.encoded() }
    public func hash(into hasher: inout Hasher) { hasher.combine(encoded()) }

    /// The compact encoding, as `json.Marshal` would produce it.
    public func encoded() -> Data {
        var out = [UInt8]()
        out.reserveCapacity(256)
        write(into: &out)
        return Data(out)
    }

    /// The compact encoding as a string.
    public var encodedString: String { String(decoding: encoded(), as: UTF8.self) }

    func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: Array("null".utf8))
        case .bool(let b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
        case .integer(let i): out.append(contentsOf: Array(String(i).utf8))
        case .number(let d): out.append(contentsOf: Array(GoJSON.formatFloat(d).utf8))
        case .string(let s): GoJSON.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            GoJSON.writeFields(fields, into: &out)
        case .map(let dict):
            GoJSON.writeFields(GoJSON.sortedBytewise(dict), into: &out)
        }
    }

    /// Map entries in Go's order: keys compared as UTF-8 byte strings.
    static func sortedBytewise(_ dict: [String: GoJSON]) -> [(String, GoJSON)] {
        dict.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }.map { ($0.key, $0.value) }
    }

    static func writeFields(_ fields: [(String, GoJSON)], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (i, (key, value)) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            value.write(into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Go's `encodeState.string` with HTML escaping on (the `json.Marshal` default).
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])            // \"
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])            // \\
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])  // Go >= 1.22
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])  // Go >= 1.22
            case 0x00..<0x20, 0x3C, 0x3E, 0x26:                         // control, < > &
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hexDigits[Int(v >> 4)])
                out.append(hexDigits[Int(v & 0xF)])
            case 0x2028, 0x2029:
                out.append(contentsOf: Array("\\u202".utf8))
                out.append(hexDigits[Int(v & 0xF)])
            default:
                out.append(contentsOf: Array(String(scalar).utf8))
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `strconv.FormatFloat(f, 'f' or 'e', -1, 64)` as `encoding/json` chooses.
    static func formatFloat(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(.towardZero), abs(d) < 1e21 {
            if abs(d) < 9.007199254740992e15 { return String(Int64(d)) }
            return String(format: "%.0f", d)
        }
        let a = abs(d)
        if a < 1e-6 || a >= 1e21 {
            // Go: shortest 'e' form with a two-digit minimum exponent ("1e-07").
            var s = "\(d)"  // Swift gives e.g. "1e-07" or "1.5e-07"
            if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
                let mantissa = s[..<e]
                var exp = String(s[s.index(after: e)...])
                var sign = "+"
                if exp.hasPrefix("-") { sign = "-"; exp.removeFirst() } else if exp.hasPrefix("+") { exp.removeFirst() }
                if exp.count < 2 { exp = "0" + exp }
                s = "\(mantissa)e\(sign)\(exp)"
            }
            return s
        }
        return "\(d)"
    }
}

extension GoJSON: Decodable {
    /// Decodes any JSON value; objects become Go maps (keys sorted when re-encoded), as Go's
    /// `map[string]interface{}` re-encodes them.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let b = try? container.decode(Bool.self) { self = .bool(b); return }
        if let d = try? container.decode(Double.self) { self = .number(d); return }
        if let s = try? container.decode(String.self) { self = .string(s); return }
        if let a = try? container.decode([GoJSON].self) { self = .array(a); return }
        if let m = try? container.decode([String: GoJSON].self) { self = .map(m); return }
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
    }

    /// Parses JSON text with Foundation.
    public init(parsing data: Data) throws {
        self = try JSONDecoder().decode(GoJSON.self, from: data)
    }

    /// The string value, when this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The member `key` of an object or map.
    public subscript(key: String) -> GoJSON? {
        switch self {
        case .map(let m): return m[key]
        case .object(let fields): return fields.first { $0.0 == key }?.1
        default: return nil
        }
    }
}
