import Crypto
import Foundation
import SignetPrimitives
import Yams

/// Hex digests for `sha256`, `sha1`, `md5`.
enum Hashing {
    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let table: [Character] = Array("0123456789abcdef")
        var s = ""
        for b in digest {
            s.append(table[Int(b >> 4)])
            s.append(table[Int(b & 0x0F)])
        }
        return s
    }

    static func sha256Hex(_ s: String) -> String { hex(SHA256.hash(data: Data(s.utf8))) }
    static func sha1Hex(_ s: String) -> String { hex(Insecure.SHA1.hash(data: Data(s.utf8))) }
    static func md5Hex(_ s: String) -> String { hex(Insecure.MD5.hash(data: Data(s.utf8))) }
}

/// `parse_yaml`: YAML to JSON as sigs.k8s.io/yaml's `YAMLToJSON` does (YAML 1.1 scalars,
/// non-string keys stringified); aliases are expanded under the evaluation budget.
enum YAMLConversion {
    static func parse(_ text: String, _ ctx: inout JMESPathContext) throws -> JSONValue {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw JMESPathError(.functionFailed, "error converting YAML to JSON: \(error)")
        }
        guard let node else { return .null }
        return try convert(node, depth: 0, &ctx)
    }

    static func convert(_ node: Node, depth: Int, _ ctx: inout JMESPathContext) throws -> JSONValue {
        try ctx.charge(1)
        guard depth < JSONValue.maximumNestingDepth else {
            throw JMESPathError(.functionFailed, "error converting YAML to JSON: nesting too deep")
        }
        switch node {
        case .scalar(let s):
            return scalar(s.string, tag: node.tag)
        case .sequence(let seq):
            var out: [JSONValue] = []
            for n in seq { out.append(try convert(n, depth: depth + 1, &ctx)) }
            return .array(out)
        case .mapping(let map):
            var out: [String: JSONValue] = [:]
            for (k, v) in map {
                let key: String
                switch try convert(k, depth: depth + 1, &ctx) {
                case .string(let s): key = s
                case .integer(let i): key = String(i)
                case .number(let d): key = GoFormat.float64Fixed(d)
                case .bool(let b): key = b ? "true" : "false"
                case .null: key = "null"
                default:
                    throw JMESPathError(.functionFailed, "error converting YAML to JSON: unsupported map key")
                }
                out[key] = try convert(v, depth: depth + 1, &ctx)
            }
            return .object(out)
        case .alias:
            throw JMESPathError(.functionFailed, "error converting YAML to JSON: unresolved alias")
        }
    }

    static func scalar(_ s: String, tag: Tag) -> JSONValue {
        switch Tag.Name(rawValue: tag.rawValue) {
        case .null: return .null
        case .bool:
            switch s {
            case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return .bool(true)
            default: return .bool(false)
            }
        case .int:
            if let v = integer(s) { return v }
            return .string(s)
        case .float:
            let cleaned = s.replacingOccurrences(of: "_", with: "")
            if let d = Double(cleaned), d.isFinite { return .number(d) }
            return .string(s)
        default:
            return .string(s)
        }
    }

    static func integer(_ text: String) -> JSONValue? {
        var s = Substring(text.replacingOccurrences(of: "_", with: ""))
        var negative = false
        if s.hasPrefix("-") { negative = true; s = s.dropFirst() } else if s.hasPrefix("+") { s = s.dropFirst() }
        var radix = 10
        if s.hasPrefix("0x") { radix = 16; s = s.dropFirst(2) } else if s.hasPrefix("0b") { radix = 2; s = s.dropFirst(2) } else if s.hasPrefix("0o") { radix = 8; s = s.dropFirst(2) } else if s.count > 1, s.hasPrefix("0") { radix = 8; s = s.dropFirst() }
        guard let m = UInt64(s, radix: radix) else { return nil }
        if negative {
            if m == UInt64(Int64.max) + 1 { return .integer(Int64.min) }
            guard let v = Int64(exactly: m) else { return .number(-Double(m)) }
            return .integer(-v)
        }
        guard let v = Int64(exactly: m) else { return .number(Double(m)) }
        return .integer(v)
    }
}
