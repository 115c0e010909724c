import Foundation

/// A JSON value whose objects keep their key order, serialized compactly and deterministically
/// with Go's `encoding/json` escaping (`<`, `>`, `&`, U+2028, U+2029 escaped; `/` not escaped).
///
/// Used for every manifest we write, so equal content always gives equal bytes and digests.
public indirect enum OrderedJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([OrderedJSON])
    /// Keys in the order given (callers sort map-like objects themselves, see `sortedObject`).
    case object([(String, OrderedJSON)])

    /// An object from a dictionary, keys sorted by byte order (as Go encodes maps).
    public static func sortedObject(_ map: [String: String]) -> OrderedJSON {
        .object(map.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.map { ($0, .string(map[$0]!)) })
    }

    /// Compact UTF-8 bytes, no trailing newline.
    public var data: Data { Data(serialized.utf8) }

    /// Compact text, no trailing newline.
    public var serialized: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let n): out += String(n)
        case .string(let s): OrderedJSON.writeString(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                OrderedJSON.writeString(key, into: &out)
                out += ":"
                value.write(into: &out)
            }
            out += "}"
        }
    }

    /// Go's `encoding/json` string escaping (with HTML escaping on, the default).
    public static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += "\\u" + hex4(scalar.value)
            default:
                if scalar.value < 0x20 { out += "\\u" + hex4(scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        out += "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }

    public static func == (lhs: OrderedJSON, rhs: OrderedJSON) -> Bool { lhs.serialized == rhs.serialized }
    public func hash(into hasher: inout Hasher) { hasher.combine(serialized) }
}

/// Types that write themselves as `OrderedJSON` (manifests, descriptors, platforms).
public protocol OrderedJSONRepresentable {
    /// The value with a fixed key order.
    var orderedJSON: OrderedJSON { get }
}

extension OrderedJSONRepresentable {
    /// The deterministic compact JSON bytes of this value.
    public func jsonData() -> Data { orderedJSON.data }
}
